"""The desk's hours as data (issue 12, migration 0012), through backend.services.desk on SQLite
and PostgreSQL: the default when none are stored, weekly hours and dated exceptions, what the
Operator screen then says, and the validation of what a supervisor types."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import OpeningHours
from backend.services import desk
from backend.services.desk import ALMATY, HoursInvalid, Operator

BOSS = Operator(1, "Boss")
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ALMATY)


def week(**days: tuple[str, str]) -> dict[int, OpeningHours | None]:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {i: desk.opening_hours(*days.get(name, ("", "")), name) for i, name in enumerate(names)}


async def test_with_nothing_stored_the_default_hours_apply(backend: Backend) -> None:
    hours = await desk.hours(backend.uow())

    assert not hours.stored
    assert hours.weekly == desk.DEFAULT_DESK_HOURS
    assert desk.is_open_at(MONDAY_10, hours)
    assert not desk.is_open_at(at(28, 14, 0), hours)  # Saturday 14:00: closed
    assert desk.next_opening(at(28, 14, 0), hours) == at(30, 8)  # Monday 08:00


async def test_stored_weekly_hours_decide_open_and_next_opening(backend: Backend) -> None:
    stored = week(mon=("11:00", "19:30"), wed=("07:15", "12:00"), sun=("10:00", "16:00"))
    await desk.set_weekly_hours(backend.uow(), stored, by=BOSS, now=MONDAY_10)

    hours = await desk.hours(backend.uow())

    assert hours.stored
    assert dict(hours.weekly.days) == {k: v for k, v in stored.items() if v is not None}
    assert not desk.is_open_at(MONDAY_10, hours)
    assert desk.next_opening(MONDAY_10, hours) == at(23, 11)
    assert desk.is_open_at(at(23, 19, 29), hours)
    assert not desk.is_open_at(at(23, 19, 30), hours)  # closing time is closed
    assert desk.next_opening(at(23, 19, 30), hours) == at(25, 7, 15)  # Tuesday is closed
    assert desk.next_opening(at(28, 9), hours) == at(29, 10)  # Saturday -> Sunday 10:00
    # Saving again replaces the whole week.
    await desk.set_weekly_hours(
        backend.uow(), week(fri=("08:00", "09:00")), by=BOSS, now=MONDAY_10
    )
    again = await desk.hours(backend.uow())
    assert set(again.weekly.days) == {4}


async def test_a_dated_exception_overrides_the_week(backend: Backend) -> None:
    uow = backend.uow
    await desk.set_exception(
        uow(), dt.date(2026, 11, 23), None, note="праздник", by=BOSS, now=MONDAY_10
    )
    short = OpeningHours(dt.time(9), dt.time(12))
    await desk.set_exception(uow(), dt.date(2026, 11, 24), short, note="", by=BOSS, now=MONDAY_10)

    hours = await desk.hours(uow())

    assert not hours.stored  # the week is still the default
    assert not desk.is_open_at(MONDAY_10, hours)
    assert desk.next_opening(MONDAY_10, hours) == at(24, 9)
    assert not desk.is_open_at(at(24, 12, 30), hours)
    assert desk.next_opening(at(24, 12, 30), hours) == at(25, 8)
    assert await desk.exception_notes(uow()) == {
        dt.date(2026, 11, 23): "праздник",
        dt.date(2026, 11, 24): "",
    }
    assert await desk.remove_exception(uow(), dt.date(2026, 11, 23))
    assert not await desk.remove_exception(uow(), dt.date(2026, 11, 23))
    assert desk.is_open_at(MONDAY_10, await desk.hours(uow()))


@pytest.mark.parametrize(
    ("opens", "closes", "code"),
    [
        ("20:00", "08:00", "opens_after_closes"),
        ("08:00", "08:00", "opens_after_closes"),
        ("8.00", "20:00", "bad_time"),
        ("08:00", "24:00", "bad_time"),
        ("08:60", "20:00", "bad_time"),
        ("08:0", "20:00", "bad_time"),
        ("٠٨:٠٠", "20:00", "bad_time"),  # Arabic-Indic digits
        ("08:00", "", "half_empty"),
        ("", "20:00", "half_empty"),
        ("noon", "20:00", "bad_time"),
    ],
)
def test_typed_hours_are_validated(opens: str, closes: str, code: str) -> None:
    with pytest.raises(HoursInvalid) as refused:
        desk.opening_hours(opens, closes, "mon")
    assert refused.value.code == code


def test_valid_typed_hours() -> None:
    assert desk.opening_hours(" 8:05 ", "23:59", "mon") == OpeningHours(
        dt.time(8, 5), dt.time(23, 59)
    )
    assert desk.opening_hours("", "  ", "mon") is None  # closed that day


async def test_a_week_with_no_open_day_is_refused_and_nothing_changes(backend: Backend) -> None:
    await desk.set_weekly_hours(
        backend.uow(), week(mon=("09:00", "10:00")), by=BOSS, now=MONDAY_10
    )

    with pytest.raises(HoursInvalid) as refused:
        await desk.set_weekly_hours(backend.uow(), week(), by=BOSS, now=MONDAY_10)

    assert refused.value.code == "never_open"
    assert set((await desk.hours(backend.uow())).weekly.days) == {0}


async def test_the_database_refuses_closing_before_opening(backend: Backend) -> None:
    """Migration 0012's CHECKs, on both databases."""
    async with backend.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(
                insert(orm.desk_hours).values(
                    weekday=0, opens=dt.time(20), closes=dt.time(8), updated_at=MONDAY_10
                )
            )
        await conn.rollback()
        with pytest.raises(IntegrityError):
            await conn.execute(
                insert(orm.desk_hours).values(
                    weekday=7, opens=dt.time(8), closes=dt.time(9), updated_at=MONDAY_10
                )
            )
        await conn.rollback()
        with pytest.raises(IntegrityError):
            await conn.execute(
                insert(orm.desk_hours_exceptions).values(
                    day=dt.date(2026, 12, 1), opens=dt.time(8), closes=None, updated_at=MONDAY_10
                )
            )
        await conn.rollback()


async def test_supervisors_saving_at_once_leave_one_whole_week(backend: Backend) -> None:
    """Concurrent saves (real PostgreSQL too): none fails, and the stored week is one of them,
    never a mix."""
    weeks = [week(mon=(f"0{i}:00", "12:00"), sat=(f"0{i}:30", "13:00")) for i in range(1, 7)]

    await asyncio.gather(
        *(desk.set_weekly_hours(backend.uow(), w, by=BOSS, now=MONDAY_10) for w in weeks)
    )

    stored = dict((await desk.hours(backend.uow())).weekly.days)
    assert stored in [{k: v for k, v in w.items() if v is not None} for w in weeks]
