"""The migrations build exactly the schema the code maps (no autogenerate drift)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from backend.adapters import orm
from backend.adapters.orm import metadata
from backend.bootstrap import Backend


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_mapped_tables(backend: Backend) -> None:
    async with backend.engine.connect() as conn:
        diff = await conn.run_sync(_diff)

    assert diff == []


async def test_schedule_templates_are_checked_and_go_with_their_doctor(backend: Backend) -> None:
    """Migration 0003: weekday 0-6, start before end, 1-240 minute slots, one period per
    (doctor, weekday, start); deleting a doctor deletes its schedule."""
    async with backend.engine.connect() as conn:
        await conn.execute(
            insert(orm.specialties).values(id=1, code="s", name_kk="к", name_ru="р", name_en="e")
        )
        await conn.execute(
            insert(orm.clinics).values(
                id=1,
                code="c",
                name_kk="к",
                name_ru="р",
                name_en="e",
                address="a",
                tz_name="Asia/Almaty",
                schedule_json="{}",
            )
        )
        doctor = {"id": 1, "code": "d", "clinic_id": 1, "specialty_id": 1, "surname": "А"}
        await conn.execute(insert(orm.doctors).values(**doctor, given_name="Б"))
        await conn.commit()
    good: dict[str, object] = {
        "doctor_id": 1, "weekday": 0, "start_time": dt.time(8), "end_time": dt.time(14),
        "slot_minutes": 20, "room": "",
    }  # fmt: skip
    # out of range, start not before end, bad slot lengths, and ({}) the same period again
    bad: list[dict[str, object]] = [
        {"weekday": 7}, {"weekday": -1}, {"end_time": dt.time(8)}, {"slot_minutes": 0},
        {"slot_minutes": 241}, {},
    ]  # fmt: skip
    async with backend.engine.connect() as conn:
        await conn.execute(insert(orm.schedule_templates).values(**good))
        await conn.commit()
        for change in bad:
            with pytest.raises(IntegrityError):
                await conn.execute(insert(orm.schedule_templates).values(**{**good, **change}))
            await conn.rollback()
        await conn.execute(delete(orm.doctors))
        await conn.commit()
        count = select(func.count()).select_from(orm.schedule_templates)
        assert (await conn.execute(count)).scalar_one() == 0
