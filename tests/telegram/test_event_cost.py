"""Issue 16: what one Telegram update costs the database, counted through the dispatcher.

The statements are counted by a SQLAlchemy `before_cursor_execute` listener on the app's engine
while one update is fed to the production dispatcher. The rule: every statement the driver is
asked to execute counts, `BEGIN IMMEDIATE` on SQLite included (the dialect sends it as one);
the COMMIT and the implicit BEGIN of a driver's transaction (PostgreSQL) are not cursor
statements and are not counted."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from backend.adapters import register_cache
from backend.bootstrap import Backend
from backend.services import applications, holidays
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.telegram.harness import TelegramChat, sign_in

# Issue 16's goal is ≤ 6 SQL statements per booking tap and none for a step that reads nothing.
# Pinned at what is reached (36 on SQLite before one unit of work per event, 12 after it, 8
# before the booking's statements were folded): the 1414 desk's look-up costs nothing while
# the conversation is known to be with the bot (bot/desk/gate.py), the holiday calendar is
# read once per process, the sign-in check reads the patient's card in the session store, not
# the register (otp/sessions.py), and the done screen reads nothing more. What is left:
# - SQLite (6): BEGIN IMMEDIATE, one read (the patient with attachment and clinic, the slot
#   with doctor and specialty, taken, the cap's count: one query, as the write lock is held),
#   and one INSERT per table: application, history (both rows), appointment, reminders;
# - PostgreSQL (2): the same read with the patient row locked but without the count, then
#   one statement of data-modifying CTEs that counts the cap (its snapshot is taken after the
#   lock) and inserts the application, its history, the appointment and its reminders.
MAX_SQL_PER_BOOKING_TAP = {"sqlite": 6, "postgresql": 2}
# A step that reads nothing runs no SQL: the sign-in session brings the phone check and the
# language (the patient's card in the session store, otp/sessions.py), and the desk look-up
# is skipped (the conversation is with the bot, and no escalation happened since the gate
# last found it so). tests/telegram/test_navigation_cost.py shows more of it.
MAX_SQL_PER_NAVIGATION_TAP = 0
# The time tap (times → confirm) reads the patient with their attachment (one query; the
# event's session keeps both for the next service that asks) and the doctor's free slots of the
# horizon (the day list and the earliest day's times from one read). The clinic, its
# specialties and doctors and the district come from what the process keeps of the register
# (backend/adapters/register_cache.py). It was 10 (the attachment three times, the slots
# twice), then 7 (the register read on every tap).
MAX_SQL_PER_TIME_TAP = 2
TODAY = dt.date(2026, 11, 23)


@contextlib.contextmanager
def counted(backend: Backend) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = backend.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture(autouse=True)
def _register_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # The register is kept 5 s per process: a loaded machine must not turn a
    # slow test's re-read into a counted statement.
    monkeypatch.setattr(register_cache.REGISTER, "ttl", 3600.0)


@pytest.fixture
async def alice(tg: TelegramChat, sms: RecordingSender, world: World) -> TelegramChat:
    await sign_in(tg, sms.last_code, world.alice.iin)
    assert await tg.state() == "menu"
    return tg


async def _on_confirm(tg: TelegramChat, world: World, backend: Backend) -> None:
    # The process has read the holiday calendar once, as it does at start (the Kurban Ait check).
    await holidays.years_without_kurban_ait(backend.uow(), today=TODAY)
    await tg.tap("book")
    await tg.tap(f"sp.{world.therapist.id}")
    await tg.tap(f"dr.{world.doctor_a.id}")  # Tuesday's times: the earliest free day
    await tg.tap(f"slot.{world.slots_a[1].id}")
    assert await tg.state() == "book.confirm"


def _reads_of(table: str, statements: list[str]) -> int:
    return sum(1 for s in statements if s.startswith("SELECT") and f"FROM {table}" in s)


async def test_a_booking_tap_is_one_write_transaction_with_few_statements(
    alice: TelegramChat, world: World, backend: Backend, database_url: str
) -> None:
    await _on_confirm(alice, world, backend)

    with counted(backend) as statements:
        await alice.tap("confirm")

    assert await alice.state() == "book.done"
    [booked] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert booked.number in alice.last_text  # the tap did book, and the done screen says so
    listing = "\n".join(statements)
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert len(statements) <= MAX_SQL_PER_BOOKING_TAP[dialect], listing
    if dialect == "sqlite":  # one write lock per event, not one per service call
        assert statements.count("BEGIN IMMEDIATE") == 1, listing
    # The patient: once for the event's reads, once locked by the booking (was 6 times).
    assert _reads_of("patients", statements) <= 2, listing
    assert _reads_of("applications", statements) == 0, listing  # the done screen re-reads none
    assert _reads_of("calendar_days", statements) == 0, listing  # read once per process
    assert _reads_of("desk_chats", statements) == 0, listing  # the chat is with the bot


async def _time_tap(tg: TelegramChat, world: World, backend: Backend, slot: int) -> list[str]:
    """From the menu to the doctor's times, then the statements of tapping the `slot`th."""
    await tg.tap("book")
    await tg.tap(f"sp.{world.therapist.id}")
    await tg.tap(f"dr.{world.doctor_a.id}")
    with counted(backend) as statements:
        await tg.tap(f"slot.{world.slots_a[slot].id}")
    assert await tg.state() == "book.confirm"
    listing = "\n".join(statements)
    assert len(statements) <= MAX_SQL_PER_TIME_TAP, listing
    for kept in register_cache.REGISTER.tables:  # what the process keeps of the register
        assert _reads_of(kept, statements) == 0, listing
    return statements


async def test_a_time_tap_reads_each_thing_once(
    alice: TelegramChat, world: World, backend: Backend
) -> None:
    await holidays.years_without_kurban_ait(backend.uow(), today=TODAY)

    statements = await _time_tap(alice, world, backend, 1)

    listing = "\n".join(statements)
    assert sum(1 for s in statements if "JOIN attachments" in s) == 2, listing  # no more
    assert sum(1 for s in statements if "FROM slots" in s or "JOIN slots" in s) == 1, listing


async def test_a_booking_leaves_what_the_process_keeps_of_the_register(
    alice: TelegramChat, world: World, backend: Backend
) -> None:
    """A booking writes applications, their history, appointments and reminders, none of the
    register's tables: the screens after it still take the register from what is kept
    (`_time_tap` fails on a read of one)."""
    await _on_confirm(alice, world, backend)
    await alice.tap("confirm")
    assert await alice.state() == "book.done"
    await alice.tap("nav.menu")

    await _time_tap(alice, world, backend, 2)


async def test_a_step_that_reads_nothing_reads_the_patient_once_without_a_lock(
    alice: TelegramChat, backend: Backend
) -> None:
    with counted(backend) as statements:
        await alice.tap("nav.lang")
    assert await alice.state() == "language"
    listing = "\n".join(statements)
    assert len(statements) <= MAX_SQL_PER_NAVIGATION_TAP, listing
    assert "BEGIN IMMEDIATE" not in statements, listing  # reads take no write lock
    assert _reads_of("patients", statements) == 0, listing  # the session card vouches
    assert _reads_of("desk_chats", statements) == 0, listing
