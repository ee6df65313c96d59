"""The periodic notification jobs of `dariger serve` (issue 11): due reminders become
notifications, passed deadlines are told once (R-16), and requests carried over to the next
working day are registered when the clinic opens (R-13). Each round is a few short
transactions; a failing round is logged and retried at the next tick, never fatal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backend.bootstrap import Backend
from backend.services import notifications
from bot.logs import get_logger
from bot.polling import first_round_delay

log = get_logger("bot.notify")
TICK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Round:
    reminders: int
    deadlines: int
    registered: int

    @property
    def queued(self) -> int:
        return self.reminders + self.deadlines + self.registered


class Scheduler:
    def __init__(
        self,
        backend: Backend,
        *,
        wake: Sequence[Callable[[], None]] = (),
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.backend = backend
        self.wake = tuple(wake)
        self.tick_seconds = tick_seconds

    async def run_once(self) -> Round:
        uow = self.backend.uow
        now = self.backend.clock.now()
        reminders = 0
        while batch := await notifications.queue_due_reminders(uow(), now=now):
            reminders += batch
        done = Round(
            reminders=reminders,
            deadlines=await notifications.notify_overdue(uow(), now=now),
            registered=await notifications.register_carried_over(uow(), now=now),
        )
        if done.queued:
            for wake in self.wake:
                wake()
        return done

    async def run_forever(self, stopping: asyncio.Event | None = None) -> None:
        log.info("notify_scheduler_started")
        stopping = stopping or asyncio.Event()
        await first_round_delay()  # the loops of a starting process do not all start at once
        while not stopping.is_set():
            try:
                done = await self.run_once()
                if done.queued:
                    log.info(
                        "notify_scheduler_round",
                        reminders=done.reminders,
                        deadlines=done.deadlines,
                        registered=done.registered,
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: try again next tick
                log.warning("notify_scheduler_failed", error=type(exc).__name__)
            try:
                async with asyncio.timeout(self.tick_seconds):
                    await stopping.wait()
            except TimeoutError:
                pass
