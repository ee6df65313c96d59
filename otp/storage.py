"""The storage port of sign-in state (code hashes, counters, send logs) and two adapters.

`InMemoryOtpStore` is the embedded default (one process; expiry by the injected clock).
`RedisOtpStore` keeps the same keys in Redis with native TTLs, so several bot processes share
codes, counters and locks. The service never stores a code, only its HMAC.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Protocol

from redis.asyncio import Redis

from otp.policy import Clock, SystemClock


class OtpStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: dt.timedelta) -> None: ...

    async def delete(self, key: str) -> bool:
        """Remove the key; True only for the call that removed it (single use)."""
        ...

    async def incr(self, key: str, ttl: dt.timedelta) -> int:
        """Atomically add 1 (from 0 when absent) and set the key to expire after `ttl`."""
        ...

    async def window(self, key: str, now: float, span: dt.timedelta) -> list[float]:
        """The event times (epoch seconds) of this log within `span` before `now`, oldest first."""
        ...

    async def window_add(self, key: str, now: float, span: dt.timedelta) -> None:
        """Log one event at `now`; the log is kept for `span`."""
        ...


class InMemoryOtpStore:
    """One process's store; keys expire by the clock it is given (tests move that clock)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._values: dict[str, tuple[str, float]] = {}
        self._windows: dict[str, tuple[list[float], float]] = {}

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _live(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= self._now():
            del self._values[key]
            return None
        return item[0]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: dt.timedelta) -> None:
        self._values[key] = (value, self._now() + ttl.total_seconds())

    async def delete(self, key: str) -> bool:
        present = self._live(key) is not None
        self._values.pop(key, None)
        return present

    async def incr(self, key: str, ttl: dt.timedelta) -> int:
        count = int(self._live(key) or 0) + 1
        await self.set(key, str(count), ttl)
        return count

    async def window(self, key: str, now: float, span: dt.timedelta) -> list[float]:
        times, expires = self._windows.get(key, ([], 0.0))
        if expires <= self._now():
            self._windows.pop(key, None)
            return []
        kept = [t for t in times if t > now - span.total_seconds()]
        self._windows[key] = (kept, expires)
        return sorted(kept)

    async def window_add(self, key: str, now: float, span: dt.timedelta) -> None:
        times = await self.window(key, now, span)
        self._windows[key] = ([*times, now], self._now() + span.total_seconds())


def _ms(ttl: dt.timedelta) -> int:
    return max(math.ceil(ttl.total_seconds() * 1000), 1)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisOtpStore:
    """The store on Redis (`redis.asyncio`); every key starts with `prefix`."""

    def __init__(self, redis: Redis, prefix: str = "dariger:otp:") -> None:
        self.redis = redis
        self.prefix = prefix

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        value = await self.redis.get(self._k(key))
        return None if value is None else _text(value)

    async def set(self, key: str, value: str, ttl: dt.timedelta) -> None:
        await self.redis.set(self._k(key), value, px=_ms(ttl))

    async def delete(self, key: str) -> bool:
        return bool(await self.redis.delete(self._k(key)))

    async def incr(self, key: str, ttl: dt.timedelta) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._k(key))
            pipe.pexpire(self._k(key), _ms(ttl))
            count, _ = await pipe.execute()
        return int(count)

    async def window(self, key: str, now: float, span: dt.timedelta) -> list[float]:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(self._k(key), "-inf", now - span.total_seconds())
            pipe.zrange(self._k(key), 0, -1, withscores=True)
            _, members = await pipe.execute()
        return sorted(float(score) for _, score in members)

    async def window_add(self, key: str, now: float, span: dt.timedelta) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._k(key), {secrets.token_hex(8): now})
            pipe.pexpire(self._k(key), _ms(span))
            await pipe.execute()
