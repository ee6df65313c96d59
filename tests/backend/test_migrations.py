"""The migrations build exactly the schema the code maps (no autogenerate drift)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from backend.adapters import orm
from backend.adapters.db import alembic_config, make_engine, migrate
from backend.adapters.orm import metadata
from backend.bootstrap import Backend
from backend.domain.model import Audience
from tests.backend.world import build_world


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


async def test_0004_gives_existing_rows_their_defaults(tmp_path: Path) -> None:
    """Migration 0004 on a database with data: schedule rows are reception hours, the
    paediatrician serves children, the therapist adults, the others everyone; kind and
    capacity are checked; down and up again works."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(migrate, url, "0003")
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for i, code in enumerate(("pediatrician", "therapist", "gp", "ent"), start=1):
                await conn.execute(
                    text(
                        "INSERT INTO specialties (id, code, name_kk, name_ru, name_en) "
                        "VALUES (:i, :code, 'к', 'р', 'e')"
                    ),
                    {"i": i, "code": code},
                )
            await conn.execute(
                text(
                    "INSERT INTO clinics (id, code, name_kk, name_ru, name_en, address, tz_name,"
                    " schedule_json) VALUES (1, 'c', 'к', 'р', 'e', 'a', 'Asia/Almaty', '{}')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO doctors (id, code, clinic_id, specialty_id, surname, given_name)"
                    " VALUES (1, 'd', 1, 2, 'А', 'Б')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO schedule_templates (doctor_id, weekday, start_time, end_time,"
                    " slot_minutes) VALUES (1, 0, '08:00:00', '14:00:00', 20)"
                )
            )
        await asyncio.to_thread(migrate, url, "0004")
        async with engine.connect() as conn:
            rows = await conn.execute(select(orm.specialties.c.code, orm.specialties.c.audience))
            assert dict(rows.all()) == {
                "pediatrician": Audience.CHILDREN,
                "therapist": Audience.ADULTS,
                "gp": Audience.ALL,
                "ent": Audience.ALL,
            }
            template = (await conn.execute(select(orm.schedule_templates))).one()
            assert (template.kind, template.capacity) == ("reception", 1)
            for change in ({"kind": "lunch"}, {"capacity": 0}, {"capacity": 101}):
                with pytest.raises(IntegrityError):
                    await conn.execute(orm.schedule_templates.update().values(**change))
                await conn.rollback()
        await asyncio.to_thread(downgrade_to, url, "0003")
        await asyncio.to_thread(migrate, url, "0004")
    finally:
        await engine.dispose()


# Tables created by the migrations after 0011 (gone when going down to 0009).
AFTER_0011 = frozenset({"desk_hours", "desk_hours_exceptions"})


def downgrade_to(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def test_0011_checks_come_off_and_back_on_with_data(backend: Backend) -> None:
    """Migration 0011 (CHECKs pinning stored enum values) goes down and up again on a database
    with rows, keeping them; the checks are gone below 0011 and back at the head."""
    url = backend.engine.url.render_as_string(hide_password=False)
    await build_world(backend)
    tables = [t for t in orm.metadata.sorted_tables if t.name not in AFTER_0011]

    async def counts() -> dict[str, int]:
        async with backend.engine.connect() as conn:
            return {
                t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in tables
            }

    async def history_triggers() -> int:
        sql = (
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'application_status_history'"
            if backend.engine.dialect.name == "sqlite"
            else "SELECT count(*) FROM information_schema.triggers"
            " WHERE event_object_table = 'application_status_history'"
        )
        async with backend.engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())

    before = await counts()
    triggers = await history_triggers()
    assert triggers == 2  # BEFORE UPDATE and BEFORE DELETE
    await backend.engine.dispose()
    await asyncio.to_thread(downgrade_to, url, "0009")
    async with backend.engine.connect() as conn:
        await conn.execute(update(orm.patients).values(sex="female"))  # nothing checks it
        await conn.rollback()
    assert await counts() == before  # no row lost (SQLite rebuilds each table)
    assert await history_triggers() == triggers  # the history stays append-only (0001)
    await asyncio.to_thread(migrate, url, "head")
    assert await counts() == before
    assert await history_triggers() == triggers
    async with backend.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(update(orm.patients).values(sex="female"))


async def test_0012_desk_hours_go_down_and_up_again(backend: Backend) -> None:
    """Migration 0012 (the desk's stored hours): below it the tables are gone and the rest of
    the schema stays; back at the head they are there again, with their CHECKs."""
    url = backend.engine.url.render_as_string(hide_password=False)

    async def tables() -> set[str]:
        async with backend.engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    at_head = await tables()
    assert at_head >= AFTER_0011
    await backend.engine.dispose()
    await asyncio.to_thread(downgrade_to, url, "0011")
    assert await tables() == at_head - AFTER_0011
    await asyncio.to_thread(migrate, url, "head")
    assert await tables() == at_head
    async with backend.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(
                insert(orm.desk_hours).values(
                    weekday=1,
                    opens=dt.time(9),
                    closes=dt.time(8),
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
