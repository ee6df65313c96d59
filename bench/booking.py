"""Bookings per second for the 1,000-patients-for-100-slots race on PostgreSQL.

    .venv/bin/python -m bench.booking [--patients 1000] [--slots 100] [--rounds 3]

Prints the service's throughput (and this process's CPU time) next to a baseline measured in
the same run on the same server: the same race done with bare single-statement inserts into
the same table (no look-ups, no application, no history), so the ratio shows what the service
layer costs and stays comparable on a shared, noisy machine. Each service attempt is one
event: the free slots read (as the slot screen does), then the booking; the baseline's
patients know the free slots without reading them. Both races start after a warm-up (one
booking, cancelled; the pool filled), and each is run twice on the same pool: the second run
(warm: its connections have prepared the race's statements, as a running server's have) is
the one compared; the first (cold) is printed too, and each round's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import text

from backend.adapters.db import migrate
from backend.bootstrap import Backend, BookingPolicy, bootstrap
from backend.domain.iin import Sex, make_iin
from backend.domain.model import Attachment, Clinic, Doctor, Patient, Slot, Specialty
from backend.domain.refusals import Refusal, RefusalCode
from backend.ports import FixedClock
from backend.services import booking

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
ALMATY = ZoneInfo("Asia/Almaty")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _seed(backend: Backend, patients: int, slots: int) -> tuple[int, list[int], list[int]]:
    async with backend.uow() as uow:
        s = uow.session
        clinic = Clinic(
            code="BENCH",
            name_kk="Емхана",
            name_ru="Поликлиника",
            name_en="Clinic",
            address="Астана",
        )
        specialty = Specialty(
            code="therapist", name_kk="Терапевт", name_ru="Терапевт", name_en="Therapist"
        )
        s.add_all([clinic, specialty])
        await s.flush()
        doctor = Doctor(
            code="D1",
            clinic_id=clinic.id or 0,
            specialty_id=specialty.id or 0,
            surname="Ахметов",
            given_name="Ахмет",
        )
        s.add(doctor)
        await s.flush()
        first = dt.datetime(2026, 11, 24, 8, tzinfo=ALMATY)
        slot_rows = [
            Slot(
                doctor_id=doctor.id or 0,
                starts_at=first + dt.timedelta(minutes=5 * i),
                ends_at=first + dt.timedelta(minutes=5 * (i + 1)),
            )
            for i in range(slots)
        ]
        people = [
            Patient.register(
                iin=make_iin(dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28), Sex.FEMALE, i),
                surname=f"P{i}",
                given_name="Bench",
            )
            for i in range(patients)
        ]
        s.add_all([*slot_rows, *people])
        await s.flush()
        s.add_all(
            Attachment(patient_id=p.id or 0, clinic_id=clinic.id or 0, since=dt.date(2020, 1, 1))
            for p in people
        )
        await uow.commit()
        return doctor.id or 0, [x.id or 0 for x in slot_rows], [p.id or 0 for p in people]


async def _service_race(backend: Backend, doctor: int, patients: list[int]) -> tuple[int, int]:
    rng = random.Random(1)
    attempts = 0
    day = dt.date(2026, 11, 24)
    policy = BookingPolicy()

    async def patient(pid: int) -> bool:
        nonlocal attempts
        while True:
            # One attempt is one inbound event (a tap): one unit of work for its read and its
            # booking, as the dialog engine does (issue 16).
            async with backend.event():
                free = await booking.free_slots(backend.uow(), pid, doctor, day, now=NOW)
                if not free:
                    return False
                attempts += 1
                try:
                    await booking.book(
                        backend.uow(), pid, rng.choice(free).id or 0, now=NOW, policy=policy
                    )
                except Refusal as refusal:
                    if refusal.code is not RefusalCode.SLOT_TAKEN:
                        raise
                    continue
                return True

    results = await asyncio.gather(*(patient(p) for p in patients))
    return sum(results), attempts


async def _warm_up(backend: Backend, doctor: int, patient: int) -> None:
    """What a running server has done before: one booking, cancelled again (the statements
    compiled, the law's holidays of the year loaded), and its pool filled with connections,
    as the baseline finds it after the service's race; the race then starts on free slots."""
    ready = asyncio.Barrier(30)  # the pool's 10 + 20: the overflow is closed when returned

    async def connection() -> None:
        async with backend.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await ready.wait()

    await asyncio.gather(*(connection() for _ in range(30)))
    [first, *_] = await booking.free_slots(
        backend.uow(), patient, doctor, dt.date(2026, 11, 24), now=NOW
    )
    view = await booking.book(
        backend.uow(), patient, first.id or 0, now=NOW, policy=BookingPolicy()
    )
    await booking.cancel(backend.uow(), patient, view.appointment_id, now=NOW)


async def _baseline_application(backend: Backend, patient: int) -> int:
    """The one application the baseline's appointments belong to."""
    async with backend.engine.begin() as conn:
        found = await conn.execute(
            text(
                "INSERT INTO applications (number, patient_id, service, status, created_at, "
                "deadline) VALUES ('BASE-LINE', :p, 'appointment', 'registered', now(), "
                "now()) RETURNING id"
            ),
            {"p": patient},
        )
        return int(found.scalar_one())


async def _baseline_race(
    backend: Backend, app_id: int, doctor: int, slots: list[int], patients: list[int]
) -> int:
    """The same race as bare inserts guarded by the same unique index."""
    rng = random.Random(1)
    taken: set[int] = set()

    async def patient(pid: int) -> bool:
        while True:
            free = [s for s in slots if s not in taken]
            if not free:
                return False
            slot = rng.choice(free)
            async with backend.engine.begin() as conn:
                row = await conn.execute(
                    text(
                        "INSERT INTO appointments (application_id, patient_id, slot_id, "
                        "doctor_id, active, created_at) VALUES (:app, :p, :s, :d, true, now()) "
                        "ON CONFLICT DO NOTHING RETURNING id"
                    ),
                    {"app": app_id, "p": pid, "s": slot, "d": doctor},
                )
                won = row.first() is not None
            taken.add(slot)
            if won:
                return True

    results = await asyncio.gather(*(patient(p) for p in patients))
    return sum(results)


async def _free_again(backend: Backend) -> None:
    """Every slot free again after a race (the appointments kept, inactive, as cancelled)."""
    async with backend.engine.begin() as conn:
        await conn.execute(text("UPDATE appointments SET active = false"))


async def _timed(race: Awaitable[Any]) -> tuple[Any, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    result = await race
    return result, time.perf_counter() - started, time.process_time() - cpu


Round = tuple[float, float, int, float, float, float, float]


async def _one_round(patients: int, slots: int) -> Round:
    """Each race is run twice on the same pool, the second timed (`warm`): a running server's
    pooled connections have prepared the statements they run (the service's race runs four
    kinds, the baseline one; a first race prepares each on each of the pool's 30
    connections). The first run's times are kept as `cold`."""
    name = f"dariger_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(migrate, url)
        backend = bootstrap(url, clock=FixedClock(NOW))
        try:
            doctor, slot_ids, patient_ids = await _seed(backend, patients, slots)
            await _warm_up(backend, doctor, patient_ids[0])
            _, cold_service_s, _ = await _timed(_service_race(backend, doctor, patient_ids))
            await _free_again(backend)
            (booked, attempts), service_s, service_cpu = await _timed(
                _service_race(backend, doctor, patient_ids)
            )
            if booked != slots:
                raise SystemExit(f"expected {slots} bookings, got {booked}")
            await _free_again(backend)
            application = await _baseline_application(backend, patient_ids[0])
            _, cold_baseline_s, _ = await _timed(
                _baseline_race(backend, application, doctor, slot_ids, patient_ids)
            )
            await _free_again(backend)
            baseline_booked, baseline_s, baseline_cpu = await _timed(
                _baseline_race(backend, application, doctor, slot_ids, patient_ids)
            )
            if baseline_booked != slots:
                raise SystemExit(f"baseline: expected {slots}, got {baseline_booked}")
        finally:
            await backend.close()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return (
        service_s,
        baseline_s,
        attempts,
        service_cpu,
        baseline_cpu,
        cold_service_s,
        cold_baseline_s,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    for n in range(args.rounds):
        rounds.append(await _one_round(args.patients, args.slots))
        r = rounds[-1]
        print(
            f"round {n + 1}: service {r[0]:.2f} s (CPU {r[3]:.2f}), baseline {r[1]:.2f} s "
            f"(CPU {r[4]:.2f}): {r[0] / r[1]:.2f}x; cold {r[5]:.2f} / {r[6]:.2f} s"
        )
    service = statistics.median(r[0] for r in rounds)
    baseline = statistics.median(r[1] for r in rounds)
    attempts = statistics.median(r[2] for r in rounds)
    service_cpu = statistics.median(r[3] for r in rounds)
    baseline_cpu = statistics.median(r[4] for r in rounds)
    cold_service = statistics.median(r[5] for r in rounds)
    cold_baseline = statistics.median(r[6] for r in rounds)
    print(f"race: {args.patients} patients for {args.slots} slots, {args.rounds} rounds (median)")
    print("each race run twice on the same pool; the second (warm) is the one compared")
    print(
        f"service  : {args.slots / service:8.1f} bookings/s  ({service:.2f} s, "
        f"this process's CPU {service_cpu:.2f} s, "
        f"{attempts:.0f} booking attempts incl. SLOT_TAKEN retries)"
    )
    print(
        f"baseline : {args.slots / baseline:8.1f} bookings/s  ({baseline:.2f} s, "
        f"this process's CPU {baseline_cpu:.2f} s, bare inserts)"
    )
    print(
        f"ratio    : service takes {service / baseline:.1f}x the baseline's time "
        f"(goal <= 1.5x), {service_cpu / baseline_cpu:.1f}x its CPU"
    )
    print(
        f"cold     : the first runs, {cold_service:.2f} s / {cold_baseline:.2f} s = "
        f"{cold_service / cold_baseline:.1f}x (each statement prepared on each connection)"
    )


if __name__ == "__main__":
    asyncio.run(main())
