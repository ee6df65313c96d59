"""Notifications per second through the Telegram worker, against what Telegram's limits allow.

    .venv/bin/python -m bench.notify [--chats 2500] [--per-chat 2] [--workers 2]

Seeds a fresh PostgreSQL database with reminders all due at once (one appointment each, every
chat with `--per-chat` of them), turns them into notifications with the scheduler, and sends
them with `--workers` concurrent workers through a fake Telegram that records each message:
1. capacity: the limiter off, wall-clock time: what claim -> render -> send -> mark costs;
2. limited: the real limits (1 message/s per chat, 30/s overall) in simulated time.
Prints both next to the ceiling the limits allow (30/s): the capacity must stay well above it,
and the limited run must come close to it without ever exceeding it.

`SimClock`, `FakeSender`, `seed_due_reminders` and `deliver` are shared with the simulated
10,000-reminder test (tests/notify/test_ten_thousand.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import Table, insert

from backend.adapters import orm
from backend.adapters.db import migrate
from backend.bootstrap import Backend, bootstrap
from backend.domain.iin import Sex
from backend.domain.model import Clinic, Doctor, Specialty
from backend.domain.statuses import ApplicationStatus, ServiceType
from bot.i18n import Translator
from bot.notify.limits import RateLimiter
from bot.notify.render import RenderedNotification
from bot.notify.scheduler import Scheduler
from bot.notify.workers import TelegramWorker

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
ALMATY = ZoneInfo("Asia/Almaty")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)
TELEGRAM_CEILING = 30.0  # messages/s overall (Bot API FAQ)


@dataclass
class SimClock:
    """Simulated time: the database's `now` and the limiter's monotonic seconds; `sleep`
    moves time instead of waiting (so hours of sending take seconds)."""

    current: dt.datetime
    start: dt.datetime = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.current

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta

    def monotonic(self) -> float:
        return (self.current - self.start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        target = self.monotonic() + max(seconds, 0.0)
        await asyncio.sleep(0)  # let the other workers run
        if self.monotonic() < target:
            self.current = self.start + dt.timedelta(seconds=target)


@dataclass
class FakeSender:
    """A Telegram that records (chat, time, text, actions, application number)."""

    clock: SimClock | None = None
    sent: list[tuple[str, float, str, tuple[str, ...], str | None]] = field(default_factory=list)

    async def send(self, chat_id: str, message: RenderedNotification, number: str | None) -> None:
        at = self.clock.monotonic() if self.clock is not None else time.monotonic()
        actions = tuple(a for a, _ in message.buttons)
        self.sent.append((chat_id, at, message.text, actions, number))


async def seed_clinic(backend: Backend) -> tuple[int, int]:
    """A clinic and a doctor; (clinic id, doctor id)."""
    async with backend.uow() as uow:
        s = uow.session
        clinic = Clinic(
            code=f"N{uuid.uuid4().hex[:6]}",
            name_kk="Емхана",
            name_ru="Поликлиника",
            name_en="Clinic",
            address="Астана",
        )
        specialty = Specialty(
            code=f"t{uuid.uuid4().hex[:6]}",
            name_kk="Терапевт",
            name_ru="Терапевт",
            name_en="Therapist",
        )
        s.add_all([clinic, specialty])
        await s.flush()
        doctor = Doctor(
            code=f"d{uuid.uuid4().hex[:6]}",
            clinic_id=clinic.id or 0,
            specialty_id=specialty.id or 0,
            surname="Ахметова",
            given_name="Айгүл",
        )
        s.add(doctor)
        await uow.commit()
        return clinic.id or 0, doctor.id or 0


async def seed_due_reminders(
    backend: Backend,
    *,
    clinic_id: int,
    doctor_id: int,
    chats: int,
    per_chat: int,
    due: dt.datetime,
    languages: Sequence[str] = ("kk", "ru", "en"),
) -> None:
    """`chats` patients reached on Telegram, each with `per_chat` appointments tomorrow whose
    reminders are all due at `due` (bulk inserts: the seeding is not what is measured)."""
    total = chats * per_chat
    tag = uuid.uuid4().hex[:4].upper()
    starts = due + dt.timedelta(days=1)
    async with backend.uow() as uow:
        s = uow.session

        async def rows(table: Table, values: list[dict[str, object]]) -> list[int]:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return [int(r[0]) for r in await s.execute(stmt, values)]

        patient_ids = await rows(
            orm.patients,
            [
                {
                    "iin": f"99{i:010d}",  # unique in the run; never a real ИИН
                    "surname": "Пациент",
                    "given_name": f"№{i}",
                    "birth_date": dt.date(1990, 1, 1),
                    "sex": Sex.FEMALE,
                    "phone": None,
                }
                for i in range(chats)
            ],
        )
        await s.execute(
            insert(orm.patient_channels),
            [
                {
                    "patient_id": pid,
                    "channel": "telegram",
                    "address": str(10_000_000 + i),
                    "language": languages[i % len(languages)],
                    "last_signed_in_at": due - dt.timedelta(days=1),
                }
                for i, pid in enumerate(patient_ids)
            ],
        )
        slot_ids = await rows(
            orm.slots,
            [
                {
                    "doctor_id": doctor_id,
                    "starts_at": starts + dt.timedelta(minutes=i),
                    "ends_at": starts + dt.timedelta(minutes=i + 1),
                    "room": "1",
                }
                for i in range(total)
            ],
        )
        owner = [patient_ids[i % chats] for i in range(total)]
        app_ids = await rows(
            orm.applications,
            [
                {
                    "number": f"{tag}-{i:07d}",
                    "patient_id": owner[i],
                    "clinic_id": clinic_id,
                    "service": ServiceType.APPOINTMENT,
                    "status": ApplicationStatus.REGISTERED,
                    "created_at": due - dt.timedelta(days=1),
                    "deadline": due + dt.timedelta(days=2),
                }
                for i in range(total)
            ],
        )
        appointment_ids = await rows(
            orm.appointments,
            [
                {
                    "application_id": app_ids[i],
                    "patient_id": owner[i],
                    "slot_id": slot_ids[i],
                    "doctor_id": doctor_id,
                    "active": True,
                    "created_at": due - dt.timedelta(days=1),
                }
                for i in range(total)
            ],
        )
        await s.execute(
            insert(orm.reminders),
            [
                {
                    "appointment_id": appointment_ids[i],
                    "patient_id": owner[i],
                    "kind": "day_before",
                    "due_at": due,
                    "status": "pending",
                    "created_at": due - dt.timedelta(days=1),
                }
                for i in range(total)
            ],
        )
        await uow.commit()


async def deliver(
    backend: Backend,
    sender: FakeSender,
    *,
    workers: int,
    limiter: RateLimiter,
    clock: SimClock | None,
    batch: int = 100,
) -> int:
    """Run `workers` Telegram workers side by side until nothing is due; how many tried."""
    translator = Translator()
    pool = [
        TelegramWorker(
            backend,
            sender,
            translator,
            limiter=limiter,
            monotonic=clock.monotonic if clock is not None else time.monotonic,
            sleep=clock.sleep if clock is not None else asyncio.sleep,
            batch=batch,
            name=f"telegram-{n}",
        )
        for n in range(workers)
    ]
    tried = await asyncio.gather(*(w.drain(rounds=100_000) for w in pool))
    return sum(tried)


def check_limits(sent: Sequence[tuple[str, float, str, tuple[str, ...], str | None]]) -> None:
    """Raise when a chat got two messages within 1 s, or 31 went out within 1 s."""
    eps = 1e-6
    by_chat: dict[str, list[float]] = defaultdict(list)
    for chat, at, *_ in sent:
        by_chat[chat].append(at)
    for chat, times in by_chat.items():
        times.sort()
        for a, b in itertools.pairwise(times):
            if b - a < 1.0 - eps:
                raise AssertionError(f"chat {chat}: {b - a:.3f} s between two messages")
    times = sorted(at for _, at, *_ in sent)
    n = int(TELEGRAM_CEILING)
    for a, b in zip(times, times[n:], strict=False):
        if b - a < 1.0 - eps:
            raise AssertionError(f"{n + 1} messages within {b - a:.3f} s")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _run(chats: int, per_chat: int, workers: int, *, limited: bool) -> tuple[float, int]:
    """(seconds, messages): wall seconds unlimited, simulated seconds limited."""
    name = f"dariger_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(migrate, url)
        clock = SimClock(NOW)
        backend = bootstrap(url, clock=clock)
        try:
            clinic_id, doctor_id = await seed_clinic(backend)
            await seed_due_reminders(
                backend, clinic_id=clinic_id, doctor_id=doctor_id, chats=chats,
                per_chat=per_chat, due=NOW,
            )  # fmt: skip
            await Scheduler(backend).run_once()
            sender = FakeSender(clock if limited else None)
            limiter = (
                RateLimiter()
                if limited
                else RateLimiter(per_second=10**9, chat_interval=0.0, window=1e-9)
            )
            started = time.perf_counter()
            await deliver(
                backend, sender, workers=workers, limiter=limiter, clock=clock if limited else None
            )
            seconds = clock.monotonic() if limited else time.perf_counter() - started
            if limited:
                check_limits(sender.sent)
            return seconds, len(sender.sent)
        finally:
            await backend.close()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=2500)
    parser.add_argument("--per-chat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    total = args.chats * args.per_chat
    wall, sent = await _run(args.chats, args.per_chat, args.workers, limited=False)
    simulated, sent_limited = await _run(args.chats, args.per_chat, args.workers, limited=True)
    if sent != total or sent_limited != total:
        raise SystemExit(f"expected {total} messages, sent {sent} and {sent_limited}")
    capacity = sent / wall
    effective = sent_limited / simulated
    print(f"{total} reminders due at once, {args.chats} chats, {args.workers} workers")
    print(f"ceiling  : {TELEGRAM_CEILING:8.1f} notifications/s (Telegram: ~30/s, 1/s per chat)")
    print(
        f"capacity : {capacity:8.1f} notifications/s through the worker, limiter off "
        f"({wall:.1f} s wall), {capacity / TELEGRAM_CEILING:.1f}x the ceiling"
    )
    print(
        f"limited  : {effective:8.1f} notifications/s in simulated time "
        f"({simulated:.0f} s simulated), limits checked: none exceeded"
    )


if __name__ == "__main__":
    asyncio.run(main())
