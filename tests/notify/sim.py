"""Simulated time for the notification workers: one clock for the database times (`now`) and
the rate limiter (`monotonic`), and a `sleep` that moves it instead of waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from bot.notify.render import RenderedNotification


@dataclass
class SimClock:
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
        """Time passes for everyone (at least `seconds` from the caller's point of view)."""
        target = self.monotonic() + max(seconds, 0.0)
        await asyncio.sleep(0)  # let the other workers run
        if self.monotonic() < target:
            self.current = self.start + dt.timedelta(seconds=target)


@dataclass
class FakeSender:
    """A Telegram that records (chat, simulated time, text, buttons) and never fails."""

    clock: SimClock
    sent: list[tuple[str, float, str, tuple[str, ...], str | None]] = field(default_factory=list)

    async def send(self, chat_id: str, message: RenderedNotification, number: str | None) -> None:
        actions = tuple(a for a, _ in message.buttons)
        self.sent.append((chat_id, self.clock.monotonic(), message.text, actions, number))
