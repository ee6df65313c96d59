"""The desk service on SQLite and PostgreSQL: one owner, the queue, transcript, timeouts."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.ports import FixedClock
from backend.services import desk
from backend.services.desk import DeskRefusal, DeskState, Operator
from tests.backend.world import World, build_world

ANNA = Operator(1, "Anna")
BEKZAT = Operator(2, "Bekzat")


async def _escalate(backend: Backend, user: str, **kw: object) -> desk.Entered:
    values: dict[str, object] = {
        "channel": "telegram",
        "user_id": user,
        "address": user,
        "patient_id": None,
        "reason": "operator",
        "language": "ru",
        "snapshot": {"state": "visit.address", "data": {"address": "Abay 1"}},
        "now": backend.clock.now(),
    }
    values.update(kw)
    return await desk.escalate(backend.uow(), **values)  # type: ignore[arg-type]


async def test_queue_places_and_unknown_wait(backend: Backend) -> None:
    first = await _escalate(backend, "1")
    second = await _escalate(backend, "2")
    assert (first.place, second.place) == (1, 2)
    assert first.expected_wait is None  # no data yet: "unknown"
    again = await _escalate(backend, "2")  # a double tap: the same chat, the same place
    assert again.chat.id == second.chat.id and again.place == 2
    entries = await desk.queue(backend.uow(), backend.clock.now())
    assert [e.chat.id for e in entries] == [first.chat.id, second.chat.id]


async def test_claim_one_owner_and_expected_wait(backend: Backend, clock: FixedClock) -> None:
    entered = await _escalate(backend, "1")
    chat_id = entered.chat.id
    clock.advance(dt.timedelta(minutes=4))
    assert await desk.claim(backend.uow(), chat_id, ANNA, clock.now())
    assert not await desk.claim(backend.uow(), chat_id, BEKZAT, clock.now())
    with pytest.raises(DeskRefusal):
        await desk.reply(backend.uow(), chat_id, BEKZAT, "hello", clock.now())
    await desk.reply(backend.uow(), chat_id, ANNA, "Hello, how can I help?", clock.now())
    assert await desk.expected_wait(backend.uow(), clock.now()) == dt.timedelta(minutes=4)
    await desk.hand_back(backend.uow(), chat_id, ANNA, clock.now())
    assert (await desk.get(backend.uow(), chat_id)).state is DeskState.RETURNED
    assert await desk.open_chat(backend.uow(), "telegram", "1") is None
    whats = [(actor, op, what) for actor, op, what, _ in await desk.events(backend.uow(), chat_id)]
    assert whats == [
        ("patient", None, "queued"),
        ("operator", 1, "claimed"),
        ("operator", 1, "returned"),
    ]


async def test_two_operators_claim_at_once_exactly_one_wins(backend: Backend) -> None:
    """On PostgreSQL the UPDATEs really run in parallel: the conditional one lets one through."""
    for round_ in range(5):
        entered = await _escalate(backend, f"u{round_}")
        operators = [Operator(n, f"op{n}") for n in range(1, 9)]
        results = await asyncio.gather(
            *(
                desk.claim(backend.uow(), entered.chat.id, o, backend.clock.now())
                for o in operators
            )
        )
        assert results.count(True) == 1
        chat = await desk.get(backend.uow(), entered.chat.id)
        assert chat.operator_id == operators[results.index(True)].id
        claims = [e for e in await desk.events(backend.uow(), chat.id) if e[2] == "claimed"]
        assert len(claims) == 1


async def test_transcript_leave_and_close(backend: Backend, clock: FixedClock) -> None:
    entered = await _escalate(backend, "1")
    await desk.record_patient_message(backend.uow(), entered.chat.id, "Hello?", clock.now())
    assert await desk.leave_queue(backend.uow(), entered.chat.id, clock.now())
    assert not await desk.leave_queue(backend.uow(), entered.chat.id, clock.now())
    second = await _escalate(backend, "1")
    assert second.chat.id != entered.chat.id
    await desk.claim(backend.uow(), second.chat.id, ANNA, clock.now())
    await desk.reply(backend.uow(), second.chat.id, ANNA, "Hi", clock.now())
    await desk.close(backend.uow(), second.chat.id, ANNA, clock.now())
    with pytest.raises(DeskRefusal):
        await desk.reply(backend.uow(), second.chat.id, ANNA, "late", clock.now())
    kinds = [
        (m.sender.value, m.kind.value)
        for m in await desk.transcript(backend.uow(), second.chat.id)
    ]
    assert kinds == [("operator", "text"), ("system", "closed")]
    assert [m.body for m in await desk.transcript(backend.uow(), entered.chat.id)] == ["Hello?"]
    assert await desk.answer_quality(backend.uow(), second.chat.id, 1, 3, clock.now())
    assert not await desk.answer_quality(backend.uow(), second.chat.id, 1, 1, clock.now())
    assert await desk.quality_answers(backend.uow(), second.chat.id) == {1: 3}


async def test_context_masks_and_logs_access(backend: Backend) -> None:
    world: World = await build_world(backend)
    alice = world.alice
    assert alice.id is not None and alice.phone is not None
    entered = await _escalate(backend, "sms-alice", channel="sms", address=alice.phone,
                              patient_id=alice.id)  # fmt: skip
    ctx = await desk.context(backend.uow(), entered.chat.id, ANNA, backend.clock.now())
    assert ctx.masked_iin is not None and alice.iin not in ctx.masked_iin
    assert ctx.masked_iin[-4:] == alice.iin[-4:] or "*" in ctx.masked_iin
    assert ctx.masked_phone is not None and ctx.masked_phone != alice.phone
    assert ctx.step == "visit.address" and ctx.entered == {"address": "Abay 1"}
    log = await desk.access_log(backend.uow(), patient_id=alice.id)
    assert [(a.operator_id, a.chat_id, a.what) for a in log] == [(1, entered.chat.id, "context")]


async def test_timeouts(backend: Backend, clock: FixedClock) -> None:
    timeouts = desk.Timeouts()
    waiting = await _escalate(backend, "w")
    taken = await _escalate(backend, "t")
    await desk.claim(backend.uow(), taken.chat.id, ANNA, clock.now())
    clock.advance(dt.timedelta(minutes=1))
    await desk.record_patient_message(backend.uow(), taken.chat.id, "anyone?", clock.now())
    clock.advance(timeouts.operator_idle_warn)
    swept = await desk.idle_sweep(backend.uow(), clock.now(), timeouts)
    assert swept.warned == [taken.chat.id] and swept.requeued == []
    clock.advance(timeouts.operator_idle_requeue - timeouts.operator_idle_warn)
    swept = await desk.idle_sweep(backend.uow(), clock.now(), timeouts)
    assert swept.requeued == [taken.chat.id]
    assert (await desk.get(backend.uow(), taken.chat.id)).state is DeskState.WAITING
    assert waiting.chat.id not in swept.long_wait  # 11 minutes: not long yet
    clock.advance(timeouts.long_wait)
    assert (
        waiting.chat.id in (await desk.idle_sweep(backend.uow(), clock.now(), timeouts)).long_wait
    )
    # once only
    assert (await desk.idle_sweep(backend.uow(), clock.now(), timeouts)).long_wait == []
    # the operator answers, the patient goes away: closed, and told
    await desk.claim(backend.uow(), taken.chat.id, BEKZAT, clock.now())
    await desk.reply(backend.uow(), taken.chat.id, BEKZAT, "Here", clock.now())
    clock.advance(timeouts.patient_idle_close)
    swept = await desk.idle_sweep(backend.uow(), clock.now(), timeouts)
    assert swept.closed == [taken.chat.id]
    last = (await desk.transcript(backend.uow(), taken.chat.id))[-1]
    assert last.kind is desk.MessageKind.IDLE_CLOSED


def test_hours() -> None:
    almaty = desk.ALMATY
    monday_ten = dt.datetime(2026, 11, 23, 10, tzinfo=almaty)
    assert desk.is_open_at(monday_ten)
    saturday_evening = dt.datetime(2026, 11, 28, 15, tzinfo=almaty)
    assert not desk.is_open_at(saturday_evening)
    assert desk.next_opening(saturday_evening) == dt.datetime(2026, 11, 30, 8, tzinfo=almaty)


async def test_figures_and_reassign(backend: Backend, clock: FixedClock) -> None:
    since = clock.now()
    a = await _escalate(backend, "a")
    await _escalate(backend, "b")
    clock.advance(dt.timedelta(minutes=2))
    await desk.claim(backend.uow(), a.chat.id, ANNA, clock.now())
    await desk.reply(backend.uow(), a.chat.id, ANNA, "Hi", clock.now())
    await desk.reassign(backend.uow(), a.chat.id, BEKZAT, Operator(99, "Supervisor"), clock.now())
    assert (await desk.get(backend.uow(), a.chat.id)).operator_id == BEKZAT.id
    with pytest.raises(DeskRefusal):
        await desk.close(backend.uow(), a.chat.id, ANNA, clock.now())  # no longer Anna's
    clock.advance(dt.timedelta(minutes=6))
    await desk.close(backend.uow(), a.chat.id, BEKZAT, clock.now())
    figures = await desk.figures(backend.uow(), since)
    assert (figures.waiting, figures.taken, figures.chats_started) == (1, 0, 2)
    assert figures.median_first_response == dt.timedelta(minutes=2)
    assert figures.median_handling == dt.timedelta(minutes=6)
    assert figures.per_hour == {10: 2}
