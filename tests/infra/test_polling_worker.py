"""The polling workers' loop (bot/polling.py): a cancelled worker stops, even when a library
swallowed the cancellation inside a round (seen as a hung test: the worker polled on forever)."""

from __future__ import annotations

import asyncio

from bot.polling import PollingWorker


class _Swallowing(PollingWorker):
    """A round that, like some drivers closing a connection, eats the cancellation."""

    name = "swallowing"

    def __init__(self) -> None:
        super().__init__(poll_seconds=0.01, first_round_spread=0.0)
        self.rounds = 0
        self.in_round = asyncio.Event()

    async def run_once(self) -> int:
        self.rounds += 1
        self.in_round.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return 0  # swallowed
        return 0


async def test_a_cancelled_worker_stops_even_if_a_round_swallowed_the_cancellation() -> None:
    worker = _Swallowing()
    stopping = asyncio.Event()  # only to end the loop if the cancellation is lost (the bug)
    task = asyncio.create_task(worker.run_forever(stopping))
    try:
        async with asyncio.timeout(10):
            await worker.in_round.wait()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done == {task}, "the cancelled worker polled on"
        assert task.cancelled()
        assert worker.rounds == 1  # no round after the cancellation
    finally:
        stopping.set()
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)


async def test_a_stop_request_ends_the_loop_after_the_round() -> None:
    class _Counting(PollingWorker):
        def __init__(self, stopping: asyncio.Event) -> None:
            super().__init__(poll_seconds=0.01, first_round_spread=0.0)
            self.stopping = stopping
            self.rounds = 0

        async def run_once(self) -> int:
            self.rounds += 1
            if self.rounds == 3:
                self.stopping.set()
            return 1

    stopping = asyncio.Event()
    worker = _Counting(stopping)
    async with asyncio.timeout(10):
        await worker.run_forever(stopping)
    assert worker.rounds == 3
