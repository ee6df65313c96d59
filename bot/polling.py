"""One shape for the workers that poll a database queue (the SMS outbox, the notifications).

A subclass says what one round does (`run_once`: how many items it tried). The base gives the
rest: `wake` (something was queued: look now, not at the next poll), the retry back-off, `drain`
(rounds until nothing is due: tests, commands) and `run_forever`, which
- waits a short random time before its first round, so that the loops of a process starting
  (and of several processes started together) do not all do their cold first round at once
  and hold the event loop together, and loads what a cold first round would otherwise load on
  the event loop in a thread first (issue 16);
- runs round after round while there is work, and otherwise sleeps until woken or polled;
- never dies on a failing database: it backs off (up to a minute) and logs the first failure
  and every 20th, not each;
- stops when `stopping` is set, after the round in progress (nothing left half-sent).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import ClassVar

from backend.domain.calendar import law_holidays
from bot.logs import get_logger

log = get_logger("bot.worker")

FIRST_ROUND_SPREAD_SECONDS = 0.5  # the first round starts at a random time within this


_warm = False


def _warm_up() -> None:
    """What a first round would otherwise load on the event loop: the `holidays` package
    imports every country's module on first use (about 0.5 s of CPU here), for the law's
    holidays of this year and the next (cached)."""
    year = dt.datetime.now(dt.UTC).year
    law_holidays(year)
    law_holidays(year + 1)


async def warm_up() -> None:
    """`_warm_up` once per process, in a thread: the event loop keeps serving meanwhile."""
    global _warm  # noqa: PLW0603 - once per process
    if not _warm:
        await asyncio.to_thread(_warm_up)
        _warm = True


async def first_round_delay(spread: float = FIRST_ROUND_SPREAD_SECONDS) -> None:
    """Before a loop's first round: sleep a random part of `spread` (the loops of one process
    start staggered), and load in a thread what their first rounds need (`warm_up`)."""
    await asyncio.sleep(random.uniform(0.0, spread))  # noqa: S311 - not for security
    await warm_up()


class PollingWorker:
    """`run_once` is the subclass's; `name` is in its logs."""

    name: str = "worker"
    drain_rounds: ClassVar[int] = 100
    started_event: ClassVar[str] = "worker_started"
    failed_event: ClassVar[str] = "worker_round_failed"

    def __init__(
        self,
        *,
        poll_seconds: float = 1.0,
        first_retry: dt.timedelta = dt.timedelta(seconds=5),
        max_retry: dt.timedelta = dt.timedelta(minutes=10),
        first_round_spread: float = FIRST_ROUND_SPREAD_SECONDS,
    ) -> None:
        self.poll_seconds = poll_seconds
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.first_round_spread = first_round_spread
        self._wake = asyncio.Event()

    async def run_once(self) -> int:
        raise NotImplementedError

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def backoff(self, attempts: int) -> dt.timedelta:
        """The wait after the `attempts`-th failed try: 5 s, 10 s, 20 s … up to 10 min."""
        seconds = self.first_retry.total_seconds() * 2 ** max(attempts - 1, 0)
        return min(dt.timedelta(seconds=seconds), self.max_retry)

    async def drain(self, *, rounds: int | None = None) -> int:
        """`run_once` until nothing more is due now; how many items were tried."""
        total = 0
        for _ in range(self.drain_rounds if rounds is None else rounds):
            tried = await self.run_once()
            total += tried
            if tried == 0:
                break
        return total

    async def run_forever(self, stopping: asyncio.Event | None = None) -> None:
        log.info(self.started_event, worker=self.name)
        await first_round_delay(self.first_round_spread)
        task = asyncio.current_task()
        failures = 0
        while stopping is None or not stopping.is_set():
            # A cancellation that a library swallowed inside a round (a database driver closing
            # a connection, say) still stops the worker: it was asked to stop.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            try:
                tried = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: keep trying, never die
                failures += 1
                if failures == 1 or failures % 20 == 0:  # no traceback storm, no log flood
                    log.warning(
                        self.failed_event,
                        worker=self.name,
                        error=type(exc).__name__,
                        failures=failures,
                    )
                await asyncio.sleep(min(self.poll_seconds * 2 ** min(failures, 6), 60.0))
                continue
            failures = 0
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            if tried:
                await asyncio.sleep(0)  # a busy queue still lets the other tasks run
                continue
            self._wake.clear()
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
