"""Issue 16: a process keeps the register's clinics, specialties, doctors and districts for its
readers (backend/adapters/register_cache.py), on SQLite and PostgreSQL.

Through the services: a change this process writes is seen by the next read at once; a change
another process writes (a real second process here) is seen within its TTL (5 s); and a booking
decides on the rows as stored, whatever the readers were shown."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time

import pytest

from backend.adapters import register_cache
from backend.bootstrap import Backend
from backend.domain.model import Doctor, Specialty
from backend.domain.refusals import Refusal, RefusalCode
from backend.ports import FixedClock
from backend.services import booking, patients
from tests.backend.world import World, build_world


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


def _names(doctors: object) -> list[str]:
    return [d.surname for d in doctors]  # type: ignore[attr-defined]


async def _therapists_of_alice(backend: Backend, world: World, clock: FixedClock) -> list[str]:
    found = await booking.doctors_for(
        backend.uow(), world.alice.id or 0, world.therapist.id or 0, now=clock.now()
    )
    return _names(found)


def _another_process_runs(database_url: str, sql: str, **params: int | str) -> None:
    """`sql` with `params` run by a separate Python process on its own engine, committed."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from sqlalchemy import text
        from backend.adapters.db import make_engine

        async def main():
            engine = make_engine({database_url!r})
            async with engine.begin() as conn:
                await conn.execute(text({sql!r}), {params!r})
            await engine.dispose()

        asyncio.run(main())
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)  # noqa: S603 - ours


async def test_a_change_written_by_this_process_is_read_at_once(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    alice = world.alice.id or 0
    before = await _therapists_of_alice(backend, world, clock)
    specialties = await booking.specialties_for(backend.uow(), alice, now=clock.now())
    assert "neurologist" not in [s.code for s in specialties]

    async with backend.uow() as uow:
        neurologist = Specialty(
            code="neurologist", name_kk="Невролог", name_ru="Невролог", name_en="Neurologist"
        )
        uow.session.add(neurologist)
        await uow.session.flush()
        uow.session.add_all(
            [
                Doctor(
                    code="A-N1",
                    clinic_id=world.clinic_a.id or 0,
                    specialty_id=neurologist.id or 0,
                    surname="Жаңа",
                    given_name="Дәрігер",
                ),
                Doctor(
                    code="A-T9",
                    clinic_id=world.clinic_a.id or 0,
                    specialty_id=world.therapist.id or 0,
                    surname="Әбенов",
                    given_name="Әли",
                ),
            ]
        )
        await uow.commit()

    specialties = await booking.specialties_for(backend.uow(), alice, now=clock.now())
    assert "neurologist" in [s.code for s in specialties]
    assert await _therapists_of_alice(backend, world, clock) == sorted([*before, "Әбенов"])


async def test_a_clinic_edited_by_this_process_is_read_at_once(
    backend: Backend, world: World
) -> None:
    alice = world.alice.id or 0
    summary = await patients.attachment_summary(backend.uow(), alice)
    assert summary is not None and summary.clinic.phone != "+77172000999"

    async with backend.uow() as uow:
        clinic = await uow.register.clinic(world.clinic_a.id or 0)
        assert clinic is not None
        clinic.phone = "+77172000999"
        await uow.commit()

    summary = await patients.attachment_summary(backend.uow(), alice)
    assert summary is not None and summary.clinic.phone == "+77172000999"


async def test_another_process_change_is_read_within_the_ttl(
    backend: Backend, world: World, clock: FixedClock, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(register_cache.REGISTER, "ttl", 0.5)
    assert "Басқа" not in await _therapists_of_alice(backend, world, clock)

    _another_process_runs(
        database_url,
        "UPDATE doctors SET surname = :surname WHERE id = :doctor",
        surname="Басқа",
        doctor=world.doctor_a.id or 0,
    )

    deadline = time.monotonic() + 0.5 + 5.0  # the TTL, and room for a loaded machine
    while "Басқа" not in await _therapists_of_alice(backend, world, clock):
        assert time.monotonic() < deadline, "another process's change was never read"
        await asyncio.sleep(0.05)


async def test_a_booking_decides_on_the_rows_as_stored_not_on_what_readers_were_shown(
    backend: Backend, world: World, clock: FixedClock, database_url: str
) -> None:
    """Another process moves Alice's doctor to clinic B: the times screen may still list him
    for up to 5 s, but booking his slot is refused at once (only the own clinic)."""
    assert world.doctor_a.surname in await _therapists_of_alice(backend, world, clock)

    _another_process_runs(
        database_url,
        "UPDATE doctors SET clinic_id = :clinic WHERE id = :doctor",
        clinic=world.clinic_b.id or 0,
        doctor=world.doctor_a.id or 0,
    )

    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(),
            world.alice.id or 0,
            world.slots_a[0].id or 0,
            now=clock.now(),
            policy=backend.policy,
        )
    assert refused.value.code in (RefusalCode.NOT_ATTACHED_HERE, RefusalCode.SLOT_UNAVAILABLE)


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO doctors (code) VALUES ($1)", True),
        ('UPDATE "clinics" SET phone = $1 WHERE clinics.id = $2', True),
        ("DELETE FROM districts WHERE districts.id = ?", True),
        ("TRUNCATE patients, doctors RESTART IDENTITY CASCADE", True),
        ("ALTER TABLE specialties ADD COLUMN audience VARCHAR(16)", True),
        ("DROP TABLE IF EXISTS clinics", True),
        ("INSERT INTO slots (doctor_id, starts_at) SELECT doctors.id, $1 FROM doctors", False),
        ("UPDATE appointments SET active = false WHERE doctor_id = $1", False),
        ("WITH a AS (INSERT INTO applications (clinic_id) VALUES (1)) SELECT 1", False),
    ],
)
def test_what_counts_as_a_write_of_the_register(statement: str, writes: bool) -> None:
    assert register_cache.REGISTER.written_by(statement) is writes
