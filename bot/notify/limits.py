"""Telegram's limits as a sliding-window limiter that a fake clock can drive (issue 11).

Telegram allows about one message per second to one chat and about 30 per second overall
(Bot API FAQ, "My bot is hitting limits"); a 429 answer carries `retry_after`, during which
nothing should be sent. The limiter is shared by the workers of one process: a send is allowed
when the chat had none in the last second and fewer than `per_second` went out in the last
second; `delay` says how long to wait otherwise. Times are plain seconds from any monotonic
source (time.monotonic, or a simulated clock in tests and the benchmark).

`RateLimiter` counts in one process (the embedded default). Telegram's limits are per bot, not
per process: with several `dariger serve` processes on one Redis, `RedisRateLimiter` keeps one
budget for all of them, checked and spent atomically by one Lua script on the Redis clock.
The workers use either through `SendLimiter` (`acquire`, `suspend`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.logs import get_logger

log = get_logger("bot.notify")


class SendLimiter(Protocol):
    async def acquire(self, chat: str, now: float) -> float:
        """Spend one send to `chat` when allowed (0.0), else the seconds to wait."""
        ...

    async def suspend(self, now: float, seconds: float) -> None:
        """Telegram said 429: nothing goes out for `seconds`."""
        ...


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

    async def acquire(self, chat: str, now: float) -> float:
        return self.try_acquire(chat, now)

    async def suspend(self, now: float, seconds: float) -> None:
        self.pause(now, seconds)


# KEYS: the sends of the last window (a sorted set scored in ms), the chat's last send (a key
# that lives `chat_interval`), the pause after a 429. ARGV: per_second, window (ms), chat
# interval (ms), a member unique to this send, a pause to set (ms; 0: none).
# Returns the milliseconds to wait (0: spent). The Redis clock is the one clock of all processes.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per, window, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local pause = tonumber(ARGV[5])
if pause > 0 then
  if redis.call('PTTL', KEYS[3]) < pause then
    redis.call('SET', KEYS[3], '1', 'PX', pause)
  end
  return 0
end
local wait = redis.call('PTTL', KEYS[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= per then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = math.max(wait, tonumber(first[2]) + window - now)
end
wait = math.max(wait, redis.call('PTTL', KEYS[2]))
if wait > 0 then
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window + 1000)
if interval > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', interval)
end
return 0
"""


class RedisRateLimiter:
    """The same limits as `RateLimiter`, one budget for every process on the Redis at
    `prefix` (issue 11). `now` is ignored: the script reads the Redis server's clock, the one
    clock every process shares. Chat ids are in key names as a keyed hash only.

    While Redis does not answer, the process falls back to its own `RateLimiter` (the limits
    then hold per process, as without Redis) rather than stop sending or fail the round."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "dariger:",
        secret: bytes | None = None,
        per_second: int = 30,
        chat_interval: float = 1.0,
        window: float = 1.0,
    ) -> None:
        if per_second < 1 or chat_interval < 0 or window <= 0:
            raise ValueError("limits must be positive")
        self.redis = redis
        self.prefix = f"{prefix}tglimit:"
        # The same names in every process: a fixed key when no secret is given.
        self._secret = secret if secret is not None else b"dariger telegram limits"
        self.per_second = per_second
        self.chat_interval_ms = round(chat_interval * 1000)
        self.window_ms = max(1, round(window * 1000))
        self._script = redis.register_script(_ACQUIRE)
        self._fallback = RateLimiter(
            per_second=per_second, chat_interval=chat_interval, window=window
        )
        self._failing = False

    def _keys(self, chat: str) -> list[str]:
        digest = hmac.new(self._secret, chat.encode(), hashlib.sha256).hexdigest()[:32]
        return [f"{self.prefix}sent", f"{self.prefix}chat:{digest}", f"{self.prefix}paused"]

    async def _run(self, chat: str, pause_ms: int) -> int:
        args: list[int | str] = [
            self.per_second,
            self.window_ms,
            self.chat_interval_ms,
            secrets.token_hex(8),
            pause_ms,
        ]
        return int(await self._script(keys=self._keys(chat), args=args))

    def _failed(self, exc: Exception) -> None:
        if not self._failing:  # once per outage, not once per message
            log.warning("notify_limiter_fallback", error=type(exc).__name__)
        self._failing = True

    async def acquire(self, chat: str, now: float) -> float:
        try:
            waited_ms = await self._run(chat, 0)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return self._fallback.try_acquire(chat, time.monotonic())
        self._failing = False
        return waited_ms / 1000

    async def suspend(self, now: float, seconds: float) -> None:
        self._fallback.pause(time.monotonic(), seconds)
        try:
            await self._run("", max(1, round(seconds * 1000)))
        except (RedisError, OSError) as exc:
            self._failed(exc)
