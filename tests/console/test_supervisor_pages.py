"""The supervisor's pages of the 1414 desk (issue 12), over HTTP: role checks, CSRF, reassign
and close, the figures, the desk hours (and what patients are then told on Telegram and SMS),
the access log and the call-backs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from backend.domain.iin import mask_iin
from backend.services import desk, staff
from backend.services.desk import DeskState, Operator
from bot.runtime import build_runtime
from tests.console.conftest import ConsoleWorld, Staff
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.sms.harness import GatewaySender, SmsPhone
from tests.telegram.harness import make_chat, tg_settings

BASE = "/operator/desk/supervisor"


async def escalated(console: ConsoleWorld, user: str, *, patient_id: int | None = None) -> int:
    """A chat waiting in the queue (the desk service, as the channels call it)."""
    entered = await desk.escalate(
        console.backend.uow(),
        channel="sms",
        user_id=user,
        address=user,
        patient_id=patient_id,
        reason="operator",
        language="ru",
        snapshot={"state": "menu", "data": {}},
        now=console.clock.now(),
    )
    return entered.chat.id


async def boss(console: ConsoleWorld) -> Staff:
    return await console.signed_in("boss", staff.Role.SUPERVISOR)


async def test_an_operator_gets_403_and_a_stranger_the_sign_in(console: ConsoleWorld) -> None:
    operator = await console.signed_in("anna", staff.Role.OPERATOR)
    for path in ("", "/figures", "/hours", "/access"):
        response = await operator.get(BASE + path)
        assert response.status == 403, path
        assert "Эта страница недоступна для вашей роли." in await response.text()
    chat_id = await escalated(console, "+77010000001")
    tried = await operator.post(
        f"{BASE}/chats/{chat_id}/close", {}, csrf_from="/operator/password"
    )
    assert tried.status == 403
    assert (await desk.get(console.backend.uow(), chat_id)).state is DeskState.WAITING
    # The call-backs list is the whole desk's (operators make the calls), not clinic staff's.
    assert (await operator.get(f"{BASE}/callbacks")).status == 200
    nurse = await console.signed_in("nurse", staff.Role.CLINIC_STAFF, clinic="A")
    assert (await nurse.get(f"{BASE}/callbacks")).status == 403
    stranger = await console.browser()
    response = await stranger.get(BASE)
    assert response.status == 303
    assert response.headers["Location"].startswith("/operator/login")


async def test_all_open_chats_are_listed_with_whom_and_since_when(console: ConsoleWorld) -> None:
    waiting = await escalated(console, "+77010000001")
    taken = await escalated(console, "+77010000002")
    anna = await console.account("anna", staff.Role.OPERATOR)
    assert await desk.claim(
        console.backend.uow(), taken, Operator(anna.id, "Anna"), console.clock.now()
    )
    console.clock.advance(dt.timedelta(minutes=7))
    page = await (await boss(console)).page(BASE)

    assert f'id="chat-{waiting}"' in page
    assert f'id="chat-{taken}"' in page
    assert "Ожидает" in page  # waiting
    assert "У оператора" in page  # with an operator
    assert "Anna" in page
    assert "23.11.2026 10:00 (7 мин)" in page  # since when, Almaty time


async def test_reassign_moves_the_chat_and_is_recorded(console: ConsoleWorld) -> None:
    chat_id = await escalated(console, "+77010000001")
    anna = await console.account("anna", staff.Role.OPERATOR)
    bob = await console.account("bob", staff.Role.OPERATOR)
    uow = console.backend.uow
    assert await desk.claim(uow(), chat_id, Operator(anna.id, "Anna"), console.clock.now())
    browser = await boss(console)

    moved = await browser.post(
        f"{BASE}/chats/{chat_id}/reassign", {"operator": str(bob.id)}, csrf_from=BASE
    )

    assert moved.status == 303
    assert moved.headers["Location"] == f"{BASE}?done=reassigned"
    chat = await desk.get(uow(), chat_id)
    assert (chat.state, chat.operator_id, chat.operator_name) == (DeskState.TAKEN, bob.id, "Bob")
    supervisor = next(a for a in await staff.accounts(uow()) if a.login == "boss")
    events = await desk.events(uow(), chat_id)
    assert events[-1][:3] == ("operator", supervisor.id, f"reassigned:{bob.id}")
    audit = await staff.audit_log(uow(), login="boss")
    assert ("desk_reassign", str(chat_id), "bob") in [
        (e.action, e.target, e.detail) for e in audit
    ]
    assert [c.id for c in await desk.chats_of(uow(), bob.id)] == [chat_id]
    assert await desk.chats_of(uow(), anna.id) == []
    assert "Чат передан выбранному оператору." in await browser.page(f"{BASE}?done=reassigned")


async def test_a_post_without_a_valid_csrf_token_changes_nothing(console: ConsoleWorld) -> None:
    chat_id = await escalated(console, "+77010000001")
    bob = await console.account("bob", staff.Role.OPERATOR)
    browser = await boss(console)
    for csrf in ("", "forged-token"):
        refused = await browser.post(
            f"{BASE}/chats/{chat_id}/reassign", {"operator": str(bob.id)}, csrf=csrf
        )
        assert refused.status == 403
        closing = await browser.post(f"{BASE}/chats/{chat_id}/close", {}, csrf=csrf)
        assert closing.status == 403
        hours = await browser.post(f"{BASE}/hours", {"d0.opens": "", "d0.closes": ""}, csrf=csrf)
        assert hours.status == 403
    chat = await desk.get(console.backend.uow(), chat_id)
    assert (chat.state, chat.operator_id) == (DeskState.WAITING, None)
    assert not (await desk.hours(console.backend.uow())).stored


async def test_reassign_to_no_desk_member_or_a_closed_chat_is_explained(
    console: ConsoleWorld,
) -> None:
    chat_id = await escalated(console, "+77010000001")
    nurse = await console.account("nurse", staff.Role.CLINIC_STAFF, clinic="A")
    browser = await boss(console)

    wrong = await browser.post(
        f"{BASE}/chats/{chat_id}/reassign", {"operator": str(nurse.id)}, csrf_from=BASE
    )
    assert wrong.status == 422
    assert "Выберите оператора 1414." in await wrong.text()
    junk = await browser.post(
        f"{BASE}/chats/{chat_id}/reassign", {"operator": "<script>"}, csrf_from=BASE
    )
    assert junk.status == 422
    assert (await desk.get(console.backend.uow(), chat_id)).state is DeskState.WAITING

    closed = await browser.post(f"{BASE}/chats/{chat_id}/close", {}, csrf_from=BASE)
    assert closed.status == 303
    chat = await desk.get(console.backend.uow(), chat_id)
    assert (chat.state, chat.end_reason) == (DeskState.CLOSED, "closed_by_supervisor")
    transcript = await desk.transcript(console.backend.uow(), chat_id)
    assert transcript[-1].kind is desk.MessageKind.CLOSED  # the patient is told
    again = await browser.post(f"{BASE}/chats/{chat_id}/close", {}, csrf_from=BASE)
    assert again.status == 409
    assert "Этот чат уже не открыт: ничего не изменено." in await again.text()


async def test_the_figures_for_a_period(console: ConsoleWorld) -> None:
    uow = console.backend.uow
    clock = console.clock
    anna = Operator(5, "Anna")
    old = await escalated(console, "+77010000009")
    await desk.claim(uow(), old, anna, clock.now())
    await desk.close(uow(), old, anna, clock.now())
    clock.advance(dt.timedelta(days=3))  # Thursday 26.11, 10:00
    chat_id = await escalated(console, "+77010000001")
    clock.advance(dt.timedelta(minutes=4))
    await desk.claim(uow(), chat_id, anna, clock.now())
    clock.advance(dt.timedelta(minutes=2))
    await desk.reply(uow(), chat_id, anna, "Здравствуйте", clock.now())
    clock.advance(dt.timedelta(minutes=10))
    await desk.close(uow(), chat_id, anna, clock.now())
    browser = await boss(console)

    today = await browser.page(f"{BASE}/figures", period="today")
    assert '<td id="chats-count">1</td>' in today
    assert '<td id="waiting">4 мин</td>' in today
    assert '<td id="first-response">6 мин</td>' in today
    assert '<td id="handling">12 мин</td>' in today
    assert "<td>26.11.2026</td><td>1</td>" in today
    week = await browser.page(f"{BASE}/figures", period="7d")
    assert '<td id="chats-count">2</td>' in week
    assert "<td>23.11.2026</td><td>1</td>" in week
    assert "<td>10:00</td><td>2</td>" in week  # per hour of the day
    english = await browser.page(f"{BASE}/figures", period="30d", lang="en")
    assert "First-response time" in english
    bad = await browser.get(f"{BASE}/figures", period="1y", lang="ru")
    assert bad.status == 400
    assert "Неизвестный период: показаны цифры за сегодня." in await bad.text()


async def test_bad_hours_are_explained_and_what_was_typed_is_kept(console: ConsoleWorld) -> None:
    browser = await boss(console)
    week = {f"d{d}.{p}": "" for d in range(7) for p in ("opens", "closes")}
    typed = {**week, "d0.opens": "20:00", "d0.closes": "08:00", "d1.opens": "8.30",
             "d1.closes": "19:00", "d2.opens": "09:00"}  # fmt: skip

    refused = await browser.post(f"{BASE}/hours", typed, csrf_from=f"{BASE}/hours")

    assert refused.status == 422
    text = await refused.text()
    assert "Время открытия должно быть раньше времени закрытия." in text
    assert "Время пишется как ЧЧ:ММ, например 08:00 или 20:30." in text
    assert "Заполните время открытия и закрытия или оставьте оба пустыми." in text
    assert 'value="8.30"' in text  # kept as typed
    assert 'value="20:00"' in text
    never = await browser.post(f"{BASE}/hours", week, csrf_from=f"{BASE}/hours")
    assert never.status == 422
    assert "Контакт-центр должен работать хотя бы один день недели." in await never.text()
    assert not (await desk.hours(console.backend.uow())).stored
    kazakh = await browser.post(f"{BASE}/hours?lang=kk", typed, csrf_from=f"{BASE}/hours")
    assert "Ашылу уақыты жабылу уақытынан бұрын болуы керек." in await kazakh.text()


async def test_changed_hours_change_what_patients_are_told_on_both_channels(
    console: ConsoleWorld,
) -> None:
    """The clock: Monday 10:00 in Almaty. Default hours (08-20): open; the new ones open at 11."""
    backend = console.backend
    sms = SmsPhone(console.client, console.app, GatewaySender(), "+77019998877")
    runtime = build_runtime(
        tg_settings(), backend, None, sender=RecordingSender(), translator=TRANSLATOR
    )
    tg = make_chat(runtime, language_code="ru")

    async def told() -> tuple[str, str]:
        await sms.send("OPERATOR")
        await tg.start()
        await tg.tap("nav.op")
        return sms.last, tg.last_text

    await sms.send("Hello")
    await sms.send("РУС")
    before_sms, before_tg = await told()
    assert "08:00–20:00" in before_sms
    assert "пн–пт 08:00–20:00, сб 09:00–14:00" in before_tg
    assert "desk.join" in tg.options

    browser = await boss(console)
    week = {f"d{d}.{p}": "" for d in range(7) for p in ("opens", "closes")}
    for day in range(5):
        week[f"d{day}.opens"], week[f"d{day}.closes"] = "11:00", "19:30"
    saved = await browser.post(f"{BASE}/hours", week, csrf_from=f"{BASE}/hours")
    assert saved.status == 303, await saved.text()
    page = await browser.page(f"{BASE}/hours")
    assert 'value="19:30"' in page
    assert "Контакт-центр сейчас закрыт; откроется 23.11.2026 11:00." in page

    after_sms, after_tg = await told()
    for text in (after_sms, after_tg):
        assert "пн–пт 11:00–19:30" in text
        assert "08:00" not in text
    assert "Чат 1414 сейчас закрыт" in after_tg
    assert "desk.callback" in tg.options and "desk.join" not in tg.options
    assert "Чат 1414 закрыт" in after_sms
    audit = await staff.audit_log(backend.uow(), login="boss")
    assert "desk_hours" in [e.action for e in audit]


async def test_a_dated_exception_closes_the_desk_that_day(console: ConsoleWorld) -> None:
    browser = await boss(console)
    form = {"day": "2026-11-23", "opens": "", "closes": "", "note": "Санитарный день"}

    added = await browser.post(f"{BASE}/hours/exception", form, csrf_from=f"{BASE}/hours")

    assert added.status == 303
    stored = await desk.hours(console.backend.uow())
    assert not desk.is_open_at(console.clock.now(), stored)
    assert desk.next_opening(console.clock.now(), stored) == dt.datetime(
        2026, 11, 24, 8, 0, tzinfo=desk.ALMATY
    )
    page = await browser.page(f"{BASE}/hours")
    assert "Санитарный день" in page
    tg = make_chat(
        build_runtime(
            tg_settings(), console.backend, None, sender=RecordingSender(), translator=TRANSLATOR
        ),
        language_code="ru",
    )
    await tg.start()
    await tg.tap("nav.op")
    assert "Чат 1414 сейчас закрыт" in tg.last_text
    assert "пн–пт 08:00–20:00, сб 09:00–14:00; сегодня выходной" in tg.last_text
    short = {**form, "opens": "09:00", "closes": "12:00"}
    await browser.post(f"{BASE}/hours/exception", short, csrf_from=f"{BASE}/hours")
    await tg.start()
    await tg.tap("nav.op")
    assert "пн–пт 08:00–20:00, сб 09:00–14:00; сегодня 09:00–12:00" in tg.last_text
    assert "desk.join" in tg.options
    past = await browser.post(
        f"{BASE}/hours/exception", {**form, "day": "2026-11-01"}, csrf_from=f"{BASE}/hours"
    )
    assert past.status == 422
    text = await past.text()
    assert "Дата прошла: выберите сегодня или более позднюю дату." in text
    assert 'value="2026-11-01"' in text
    removed = await browser.post(
        f"{BASE}/hours/exception/remove", {"day": "2026-11-23"}, csrf_from=f"{BASE}/hours"
    )
    assert removed.status == 303
    assert desk.is_open_at(console.clock.now(), await desk.hours(console.backend.uow()))


async def test_the_access_log_filters_by_operator_and_patient_and_masks_the_iin(
    console: ConsoleWorld,
) -> None:
    alice, dave = console.world.alice, console.world.dave
    uow = console.backend.uow
    anna = await console.account("anna", staff.Role.OPERATOR)
    bob = await console.account("bob", staff.Role.OPERATOR)
    first = await escalated(console, "+77010000001", patient_id=alice.id)
    second = await escalated(console, "+77010000002", patient_id=dave.id)
    now = console.clock.now()
    await desk.context(uow(), first, Operator(anna.id, "Anna"), now)
    await desk.context(uow(), second, Operator(bob.id, "Bob"), now)
    await desk.context(uow(), first, Operator(bob.id, "Bob"), now)
    browser = await boss(console)

    everything = await browser.page(f"{BASE}/access")
    assert "Найдено: 3" in everything
    assert mask_iin(alice.iin) in everything
    assert alice.iin not in everything and dave.iin not in everything
    by_bob = await browser.page(f"{BASE}/access", operator=str(bob.id))
    assert "Найдено: 2" in by_bob
    by_alice = await browser.page(f"{BASE}/access", iin=alice.iin)
    assert "Найдено: 2" in by_alice
    assert mask_iin(dave.iin) not in by_alice
    both = await browser.page(f"{BASE}/access", operator=str(bob.id), patient=str(dave.id))
    assert "Найдено: 1" in both
    unknown = await browser.get(f"{BASE}/access", iin="123")
    assert unknown.status == 422
    assert "Пациента с таким ИИН нет: введите все 12 цифр." in await unknown.text()


async def test_the_access_log_is_paginated(console: ConsoleWorld) -> None:
    alice = console.world.alice
    chat_id = await escalated(console, "+77010000001", patient_id=alice.id)
    anna = Operator(5, "Anna")
    for _ in range(51):
        await desk.log_access(
            console.backend.uow(), anna, what="context", now=console.clock.now(),
            chat_id=chat_id, patient_id=alice.id,
        )  # fmt: skip
    browser = await boss(console)

    first = await browser.page(f"{BASE}/access")
    assert "Страница 1 из 2" in first
    assert first.count("<code>context</code>") == 50
    second = await browser.page(f"{BASE}/access", page="2")
    assert second.count("<code>context</code>") == 1
    assert "Страница 2 из 2" in second


async def test_call_backs_are_listed_and_marked_done(console: ConsoleWorld) -> None:
    uow = console.backend.uow
    callback = await desk.request_callback(
        uow(),
        channel="sms",
        address="+77015550011",
        patient_id=None,
        language="ru",
        text="Перезвоните насчёт справки",
        now=console.clock.now(),
    )
    operator = await console.signed_in("anna", staff.Role.OPERATOR)
    page = await operator.page(f"{BASE}/callbacks")
    assert "Перезвоните насчёт справки" in page
    assert "+77015550011" in page

    done = await operator.post(
        f"{BASE}/callbacks/{callback}/done", {}, csrf_from=f"{BASE}/callbacks"
    )

    assert done.status == 303
    assert await desk.callbacks(uow()) == []
    again = await operator.post(
        f"{BASE}/callbacks/{callback}/done", {}, csrf_from=f"{BASE}/callbacks"
    )
    assert again.status == 409
    log = await desk.access_page(uow())
    assert "callbacks" in [e.what for e in log.entries]  # seeing the number is recorded


async def test_the_chat_list_hears_of_a_new_or_moved_chat(console: ConsoleWorld) -> None:
    browser = await boss(console)
    page = await browser.page(BASE)
    assert 'data-supervisor-events="/operator/desk/supervisor/events"' in page
    stream = await browser.client.get(f"{BASE}/events", headers={"Accept": "text/event-stream"})
    assert stream.status == 200
    assert await stream.content.readline() == b": connected\n"

    async def next_event() -> tuple[str, dict[str, object]]:
        name = ""
        while True:
            line = (await stream.content.readline()).decode()
            if line.startswith("event: "):
                name = line.removeprefix("event: ").strip()
            elif line.startswith("data: ") and name:
                return name, json.loads(line.removeprefix("data: "))

    await asyncio.sleep(0.2)  # the first look (nothing open yet)
    chat_id = await escalated(console, "+77010000001")
    assert await asyncio.wait_for(next_event(), timeout=30) == ("changed", {"open": 1})
    await desk.claim(console.backend.uow(), chat_id, Operator(5, "Anna"), console.clock.now())
    assert await asyncio.wait_for(next_event(), timeout=30) == ("changed", {"open": 1})
    stream.close()
    operator = await console.signed_in("anna", staff.Role.OPERATOR)
    assert (await operator.get(f"{BASE}/events")).status == 403
