"""Telegram's limits as a sliding-window limiter that a fake clock can drive (issue 11).

Telegram allows about one message per second to one chat and about 30 per second overall
(Bot API FAQ, "My bot is hitting limits"); a 429 answer carries `retry_after`, during which
nothing should be sent. The limiter is shared by the workers of one process: a send is allowed
when the chat had none in the last second and fewer than `per_second` went out in the last
second; `delay` says how long to wait otherwise. Times are plain seconds from any monotonic
source (time.monotonic, or a simulated clock in tests and the benchmark).
"""

from __future__ import annotations

from collections import deque


class RateLimiter:
    def __init__(
        self, *, per_second: int = 30, chat_interval: float = 1.0, window: float = 1.0
    ) -> None:
        if per_second < 1 or chat_interval < 0 or window <= 0:
            raise ValueError("limits must be positive")
        self.per_second = per_second
        self.chat_interval = chat_interval
        self.window = window
        self._recent: deque[float] = deque()
        self._last: dict[str, float] = {}
        self._paused_until = 0.0

    def delay(self, chat: str, now: float) -> float:
        """Seconds to wait before a message to `chat` may go (0: now)."""
        while self._recent and self._recent[0] <= now - self.window:
            self._recent.popleft()
        waits = [self._paused_until - now]
        if len(self._recent) >= self.per_second:
            waits.append(self._recent[0] + self.window - now)
        last = self._last.get(chat)
        if last is not None:
            waits.append(last + self.chat_interval - now)
        return max(0.0, *waits)

    def record(self, chat: str, now: float) -> None:
        """A message to `chat` went out at `now`."""
        self._recent.append(now)
        self._last[chat] = now
        if len(self._last) > 4 * self.per_second * 60:  # forget chats idle for long
            horizon = now - self.chat_interval
            self._last = {c: t for c, t in self._last.items() if t > horizon}

    def pause(self, now: float, seconds: float) -> None:
        """Telegram said 429: nothing goes out for `seconds` (retry_after)."""
        self._paused_until = max(self._paused_until, now + seconds)

    def try_acquire(self, chat: str, now: float) -> float:
        """Record a send now when allowed (0.0), else the seconds to wait (nothing recorded)."""
        wait = self.delay(chat, now)
        if wait <= 0:
            self.record(chat, now)
        return wait
