"""The 1414 desk's pages over HTTP (issue 12): the production app, real sessions and forms.

Chats enter the queue through the desk service (`desk.escalate`, what the dialog's «Write to
an operator» calls); the channels' own paths are covered in tests/desk and end to end in
tests/console/test_desk_browser.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from backend.bootstrap import Backend
from backend.domain.iin import mask_iin
from backend.ports import FixedClock
from backend.services import desk, outbox, staff
from backend.services.desk import DeskState
from bot import operator
from bot.app import RUNTIME_KEY, SLOT_TOP_UP_KEY, create_app
from bot.desk import channel as desk_channel
from bot.desk.channel import DESK_KEY, DESK_LOOP_KEY
from bot.operator.clinic_pages import POLL_KEY
from bot.operator.desk_pages import DESK_POLL_KEY
from bot.operator.web import HEARTBEAT_KEY
from bot.runtime import build_runtime
from bot.sms import channel as sms_channel
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import build_world
from tests.console.conftest import PASSWORD, ConsoleWorld, Staff, console_settings, csrf_of
from tests.sms.harness import GatewaySender, SmsPhone

PHONE = "+77015550101"


@pytest.fixture
async def console(
    aiohttp_client: AiohttpClient, backend: Backend, clock: FixedClock
) -> ConsoleWorld:
    world = await build_world(backend)
    app = create_app(console_settings(), backend)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    app[DESK_LOOP_KEY] = False  # the relay runs when a test says so
    app[POLL_KEY] = 0.05
    app[DESK_POLL_KEY] = 0.05
    app[HEARTBEAT_KEY] = 0.2
    client = await aiohttp_client(app)
    return ConsoleWorld(app, backend, clock, world, aiohttp_client, client)


async def escalate(
    console: ConsoleWorld,
    *,
    channel: str = "sms",
    user: str = PHONE,
    language: str = "ru",
    reason: str = "three_strikes",
    patient: bool = True,
) -> desk.DeskChat:
    entered = await desk.escalate(
        console.backend.uow(),
        channel=channel,
        user_id=user,
        address=user,
        patient_id=console.world.alice.id if patient else None,
        reason=reason,
        language=language,
        snapshot={
            "state": "visit.phone",
            "data": {
                "visit.address": "Абая 10, кв 5",
                "visit.phone": "+77017654321",
                "note": f"ИИН {console.world.bob.iin}",
                "desk_reason": reason,
            },
        },
        now=console.clock.now(),
    )
    return entered.chat


async def claimed(console: ConsoleWorld, browser: Staff, chat: desk.DeskChat) -> str:
    response = await browser.post(
        f"/operator/desk/chat/{chat.id}/claim", csrf_from="/operator/desk"
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"/operator/desk/chat/{chat.id}"
    return await browser.page(f"/operator/desk/chat/{chat.id}", lang="ru")


# --- security ------------------------------------------------------------------------------


async def test_no_page_stream_or_form_without_a_session(console: ConsoleWorld) -> None:
    chat = await escalate(console)
    anonymous = await console.browser()
    for path in ("/operator/desk", f"/operator/desk/chat/{chat.id}"):
        response = await anonymous.get(path)
        assert response.status == 303
        assert response.headers["Location"] == f"/operator/login?next={path}"
    for path in ("/operator/desk/events", f"/operator/desk/chat/{chat.id}/events"):
        response = await console.client.get(
            path, headers={"Accept": "text/event-stream"}, allow_redirects=False
        )
        assert response.status == 401
    for action in ("claim", "reply", "handback", "close"):
        response = await console.client.post(
            f"/operator/desk/chat/{chat.id}/{action}", data={"text": "x", "reason": "resolved"}
        )
        assert response.status == 401
    assert (await desk.get(console.backend.uow(), chat.id)).state is DeskState.WAITING


async def test_clinic_staff_do_not_open_the_desk(console: ConsoleWorld) -> None:
    await escalate(console)
    nurse = await console.signed_in("nurse", staff.Role.CLINIC_STAFF, clinic="A")
    page = await nurse.page("/operator/desk", status=403, lang="en")
    assert "Your role does not open this page." in page
    assert "visit.phone" not in page


async def test_a_post_without_the_csrf_token_is_refused_and_does_nothing(
    console: ConsoleWorld,
) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    for token in ("", "forged-token"):
        response = await anna.post(f"/operator/desk/chat/{chat.id}/claim", csrf=token)
        assert response.status == 403
    assert (await desk.get(console.backend.uow(), chat.id)).state is DeskState.WAITING

    await claimed(console, anna, chat)
    for action, data in (
        ("reply", {"text": "Здравствуйте"}),
        ("handback", {}),
        ("close", {"reason": "resolved"}),
    ):
        response = await anna.post(f"/operator/desk/chat/{chat.id}/{action}", data, csrf="")
        assert response.status == 403, action
    after = await desk.get(console.backend.uow(), chat.id)
    assert after.state is DeskState.TAKEN
    assert [m.body for m in await desk.transcript(console.backend.uow(), chat.id)] == []


async def test_an_operator_cannot_open_another_operators_chat(console: ConsoleWorld) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    boris = await console.signed_in("boris", staff.Role.OPERATOR)
    await claimed(console, anna, chat)

    page = await boris.page(f"/operator/desk/chat/{chat.id}", status=403, lang="ru")
    assert "Этот чат не ваш" in page
    assert mask_iin(console.world.alice.iin) not in page
    stream = await boris.client.get(
        f"/operator/desk/chat/{chat.id}/events", headers={"Accept": "text/event-stream"}
    )
    assert stream.status == 403
    response = await boris.post(
        f"/operator/desk/chat/{chat.id}/reply", {"text": "Я тоже тут"}, csrf_from="/operator/desk"
    )
    assert response.status == 409
    assert "Я тоже тут" in await response.text()  # nothing typed is lost
    for action, data in (("handback", {}), ("close", {"reason": "resolved"})):
        response = await boris.post(
            f"/operator/desk/chat/{chat.id}/{action}", data, csrf_from="/operator/desk"
        )
        assert response.status in (403, 409), action
    after = await desk.get(console.backend.uow(), chat.id)
    assert after.state is DeskState.TAKEN and after.operator_name == "Anna"
    assert await desk.transcript(console.backend.uow(), chat.id) == []
    # Nor a chat that waits (claim it first) or that went back to the bot.
    other = await escalate(console, channel="telegram", user="4242", patient=False)
    await boris.page(f"/operator/desk/chat/{other.id}", status=403)
    await boris.page("/operator/desk/chat/999999", status=404)
    refused = [e for e in await staff.audit_log(console.backend.uow()) if e.login == "boris"]
    assert "desk_chat_refused" in {e.action for e in refused}


async def test_a_supervisor_reads_any_chat_but_acts_only_on_their_own(
    console: ConsoleWorld,
) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    await claimed(console, anna, chat)
    sofia = await console.signed_in("sofia", staff.Role.SUPERVISOR)
    page = await sofia.page(f"/operator/desk/chat/{chat.id}", lang="en")
    assert "With operator Anna: you can read, not act." in page
    assert 'id="reply-form"' not in page
    response = await sofia.post(
        f"/operator/desk/chat/{chat.id}/reply", {"text": "hi"}, csrf_from="/operator/desk"
    )
    assert response.status == 409
    assert await desk.transcript(console.backend.uow(), chat.id) == []


# --- the queue and claiming ------------------------------------------------------------------


async def test_the_queue_shows_call_backs_first_then_the_waiting_chats(
    console: ConsoleWorld,
) -> None:
    await desk.request_callback(
        console.backend.uow(),
        channel="sms",
        address="+77015550999",
        patient_id=None,
        language="kk",
        text="Маған қоңырау шалыңызшы",
        now=console.clock.now(),
    )
    first = await escalate(console, language="kk")
    second = await escalate(
        console, channel="telegram", user="4242", language="en", reason="operator"
    )
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    page = await anna.page("/operator/desk", lang="en")
    assert page.index('id="callbacks"') < page.index('id="waiting"') < page.index('id="mine"')
    assert "Маған қоңырау шалыңызшы" in page
    assert "+7 701 *** ** 99" in page and "+77015550999" not in page
    assert f'data-chat="{first.id}"' in page and f'data-chat="{second.id}"' in page
    assert page.index(f'data-chat="{first.id}"') < page.index(f'data-chat="{second.id}"')
    for shown in (
        "SMS",
        "Telegram",
        "Kazakh",
        "English",
        "Three failed inputs in a row",
        "Asked for an operator",
        "visit.phone",
        "You have no chats.",
    ):
        assert shown in page, shown
    access = await desk.access_log(console.backend.uow())
    assert [a.what for a in access] == ["callbacks"]


async def test_claim_opens_the_chat_with_its_context_and_the_view_is_logged(
    console: ConsoleWorld,
) -> None:
    number = await console.certificate()  # an open application of Alice's
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    page = await claimed(console, anna, chat)
    alice = console.world.alice
    assert mask_iin(alice.iin) in page and alice.iin not in page
    assert "+7 701 *** ** 21" in page and "+77017654321" not in page  # entered, masked
    assert mask_iin(console.world.bob.iin) in page and console.world.bob.iin not in page
    assert "Абая 10, кв 5" in page
    assert "visit.phone" in page
    application = page.split('id="ctx-applications"')[1].split("</ul>")[0]
    assert number in application and "Справка (027/у)" in application
    assert "срок" in application  # its deadline
    assert "Три неудачных ввода подряд" in page
    access = await desk.access_log(console.backend.uow(), patient_id=alice.id)
    assert [(a.operator_name, a.what, a.chat_id) for a in access] == [("Anna", "context", chat.id)]
    queue = await anna.page("/operator/desk", lang="ru")
    assert f'data-chat="{chat.id}"' in queue.split('id="mine"')[1]  # among my chats


async def test_the_second_claim_is_told_the_chat_is_taken(console: ConsoleWorld) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    boris = await console.signed_in("boris", staff.Role.OPERATOR)
    token = csrf_of(await boris.page("/operator/desk"))  # Boris saw it waiting
    await claimed(console, anna, chat)
    response = await boris.post(f"/operator/desk/chat/{chat.id}/claim", csrf=token)
    assert response.status == 409
    text = await response.text()
    assert "Этот чат только что взял другой оператор." in text
    # A double click of the winner just opens the chat again.
    again = await anna.post(f"/operator/desk/chat/{chat.id}/claim", csrf_from="/operator/desk")
    assert again.status == 303
    # A chat the patient left is "no longer waiting".
    left = await escalate(console, channel="telegram", user="4242", patient=False)
    assert await desk.leave_queue(console.backend.uow(), left.id, console.clock.now())
    response = await boris.post(f"/operator/desk/chat/{left.id}/claim", csrf=token)
    assert response.status == 409
    assert "больше не ждёт" in await response.text()


# --- replying, handing back, closing ---------------------------------------------------------


async def test_reply_errors_keep_what_was_typed_and_a_reply_reaches_the_sms_outbox(
    console: ConsoleWorld,
) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    await claimed(console, anna, chat)
    path = f"/operator/desk/chat/{chat.id}/reply"
    csrf_from = f"/operator/desk/chat/{chat.id}"

    response = await anna.post(path, {"text": "  \n "}, csrf_from=csrf_from)
    assert response.status == 422
    assert "Сначала напишите ответ" in await response.text()

    long = "Очень длинный ответ. " * 80
    response = await anna.post(path, {"text": long}, csrf_from=csrf_from)
    assert response.status == 422
    page = await response.text()
    assert "Ответ слишком длинный" in page
    assert long.strip() in page  # kept in the box

    response = await anna.post(
        path, {"text": "Здравствуйте!\u202e Справка готова."}, csrf_from=csrf_from
    )
    assert response.status == 303
    [message] = await desk.transcript(console.backend.uow(), chat.id)
    assert message.body == "Здравствуйте! Справка готова."  # the bidi override stripped
    assert await console.app[DESK_KEY].relay.run_once() == 1
    sent = await outbox.problems(console.backend.uow(), since=console.clock.now(), limit=5)
    assert sent == []  # queued, not failed
    page = await anna.page(f"/operator/desk/chat/{chat.id}", lang="ru")
    assert "Здравствуйте! Справка готова." in page


async def test_close_needs_a_reason_then_the_chat_is_closed(console: ConsoleWorld) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    await claimed(console, anna, chat)
    path = f"/operator/desk/chat/{chat.id}/close"
    csrf_from = f"/operator/desk/chat/{chat.id}"
    for reason in ("", "because"):
        response = await anna.post(path, {"reason": reason}, csrf_from=csrf_from)
        assert response.status == 422
        assert "Выберите, почему чат закрыт." in await response.text()
    assert (await desk.get(console.backend.uow(), chat.id)).state is DeskState.TAKEN
    response = await anna.post(path, {"reason": "referred"}, csrf_from=csrf_from)
    assert response.status == 303
    assert response.headers["Location"] == "/operator/desk?done=closed"
    closed = await desk.get(console.backend.uow(), chat.id)
    assert (closed.state, closed.end_reason) == (DeskState.CLOSED, "referred")
    await anna.page(f"/operator/desk/chat/{chat.id}", status=403)


async def test_hand_back_returns_the_chat_to_the_bot(console: ConsoleWorld) -> None:
    chat = await escalate(console)
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    await claimed(console, anna, chat)
    response = await anna.post(
        f"/operator/desk/chat/{chat.id}/handback", csrf_from=f"/operator/desk/chat/{chat.id}"
    )
    assert response.status == 303
    page = await anna.page(response.headers["Location"], lang="en")
    assert "The chat is handed back to the bot." in page
    assert (await desk.get(console.backend.uow(), chat.id)).state is DeskState.RETURNED
    assert await desk.open_chat(console.backend.uow(), "sms", PHONE) is None
    # Once more (a second tab): told, nothing breaks.
    response = await anna.post(
        f"/operator/desk/chat/{chat.id}/handback", csrf_from="/operator/desk"
    )
    assert response.status == 409


# --- live ------------------------------------------------------------------------------------


async def _events(response: Any, wanted: str, within: float = 10.0) -> dict[str, Any]:
    """The data of the next `wanted` event of a server-sent event stream."""

    async def read() -> dict[str, Any]:
        name = ""
        seen: list[bytes] = []
        while True:
            raw = await response.content.readline()
            assert raw, f"the stream ended before a {wanted!r} event: {seen}"
            seen.append(raw)
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == wanted:
                found: dict[str, Any] = json.loads(line[6:])
                return found

    return await asyncio.wait_for(read(), within)


async def test_the_streams_show_new_chats_and_patient_messages(console: ConsoleWorld) -> None:
    anna = await console.signed_in("anna", staff.Role.OPERATOR)
    queue = await anna.client.get("/operator/desk/events", headers={"Accept": "text/event-stream"})
    assert queue.status == 200
    assert (await _events(queue, "queue"))["waiting"] == []
    chat = await escalate(console)
    update = await _events(queue, "queue")
    assert [row["id"] for row in update["waiting"]] == [chat.id]
    assert update["waiting"][0]["step"] == "visit.phone"
    queue.close()

    await claimed(console, anna, chat)
    stream = await anna.client.get(
        f"/operator/desk/chat/{chat.id}/events", headers={"Accept": "text/event-stream"}
    )
    assert stream.status == 200
    await desk.record_patient_message(console.backend.uow(), chat.id, "Алло?", console.clock.now())
    message = await _events(stream, "message")
    assert (message["sender"], message["body"]) == ("patient", "Алло?")
    response = await anna.post(
        f"/operator/desk/chat/{chat.id}/handback", csrf_from="/operator/desk"
    )
    assert response.status == 303
    state = await _events(stream, "state")
    assert state["state"] == "returned"
    stream.close()


async def test_with_redis_an_sms_patients_message_reaches_the_open_chat_at_once(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    clock: FixedClock,
    redis_client: Redis,
    redis_prefix: str,
) -> None:
    """Several processes share the desk's feed through Redis: what an SMS patient writes is
    published there, so the operator's page shows it at once, not at the next poll."""
    world = await build_world(backend)
    gateway = GatewaySender()
    runtime = build_runtime(
        console_settings(), backend, redis_client, sender=gateway, key_prefix=redis_prefix
    )
    app = web.Application()
    app[RUNTIME_KEY] = runtime
    for install in (sms_channel.install, operator.install, desk_channel.install):
        install(app, runtime)
    app[SMS_WORKER_KEY] = False
    app[DESK_LOOP_KEY] = False
    app[DESK_POLL_KEY] = 60.0  # the poll would be far too late: only the feed can do it
    app[HEARTBEAT_KEY] = 0.2
    client = await aiohttp_client(app)
    assert world.alice.phone is not None
    patient = SmsPhone(client, app, gateway, world.alice.phone)
    await staff.add_account(
        backend.uow(),
        "anna",
        role=staff.Role.OPERATOR,
        password=PASSWORD,
        now=clock.now(),
        display_name="Anna",
        must_change_password=False,
    )
    anna = Staff(await aiohttp_client(client.server))
    assert (await anna.sign_in("anna")).status == 303

    queue = await anna.client.get("/operator/desk/events", headers={"Accept": "text/event-stream"})
    assert queue.status == 200, await queue.text()
    assert (await _events(queue, "queue"))["waiting"] == []
    for text in ("Hello", "РУС", "OPERATOR"):
        await patient.send(text)
    await patient.choose("desk.join")
    update = await _events(queue, "queue", within=5)
    [row] = update["waiting"]
    queue.close()
    channel = f"{redis_prefix}desk:feed"

    async with asyncio.timeout(5):  # the queue's stream is gone
        while (await redis_client.pubsub_numsub(channel))[0][1] != 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    response = await anna.post(
        f"/operator/desk/chat/{row['id']}/claim", csrf_from="/operator/desk"
    )
    assert response.status == 303
    stream = await anna.client.get(
        f"/operator/desk/chat/{row['id']}/events", headers={"Accept": "text/event-stream"}
    )
    assert stream.status == 200
    # The page subscribes to the feed before its stream answers (a message in between would
    # wait for the poll: a few seconds by default, 60 s here).
    assert (await redis_client.pubsub_numsub(channel))[0][1] == 1
    assert await patient.send("Алло, вы здесь?") == ""
    message = await _events(stream, "message", within=5)
    assert (message["sender"], message["body"]) == ("patient", "Алло, вы здесь?")
    stream.close()
