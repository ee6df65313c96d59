"""The per-conversation Redis lock, renewed while held (issue 16).

A Redis lock has a timeout so that a process that dies holding it does not block the patient
for ever. Under a burst a step can outlive that timeout; a plain lock then expires mid-step
(another process may step the same conversation) and the release raises `LockNotOwnedError`.
Here a watchdog task renews the lock's TTL every third of the timeout while the body runs, so
only a process that stops renewing (dead, or its event loop stalled for two thirds of the
timeout) loses it. Releasing never raises: a lock that was lost or cannot be released (Redis
down) expires on its own, and that is logged, not crashed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, LockNotOwnedError, RedisError

log = logging.getLogger("dialogs.lock")

LOCK_TIMEOUT_SECONDS = 30.0  # a dead holder blocks the conversation at most this long
WAIT_SECONDS = 30.0  # how long a second event of the same patient waits for the first


async def _renew(lock: Lock, ttl: float, lost: asyncio.Event, stop: asyncio.Event) -> None:
    """Reset the lock's TTL to `ttl` now and every third of it until `stop` (a cancellation
    that arrives while a renewal is on the wire can be swallowed by the client: the flag ends
    the loop all the same)."""
    while not stop.is_set():
        try:
            await lock.reacquire()
        except LockNotOwnedError:
            lost.set()
            log.warning("conversation_lock_lost")
            return
        except (RedisError, OSError) as exc:  # a blip: the next renewal may still be in time
            log.warning("conversation_lock_renew_failed error=%s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ttl / 3)


@asynccontextmanager
async def renewed_lock(
    redis: Redis,
    key: str,
    *,
    ttl: float = LOCK_TIMEOUT_SECONDS,
    wait: float = WAIT_SECONDS,
    token: bytes | None = None,
) -> AsyncIterator[asyncio.Event]:
    """Hold the Redis lock `key` for the body, renewing its `ttl`; yields an event that is set
    when the lock was lost anyway (a caller may check it before writing). Raises `LockError`
    when the lock could not be had within `wait` seconds. `token`: the lock was already taken
    with this value (by a script that did more in the same round trip, dialogs/engine/store.py)."""
    if ttl <= 0 or wait < 0:
        raise ValueError("the lock's TTL must be positive")
    lock = redis.lock(key, timeout=ttl, blocking_timeout=wait)
    if token is not None:
        lock.local.token = token
    elif not await lock.acquire():
        raise LockError("conversation busy", lock_name=key)
    lost, stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    watchdog: list[asyncio.Task[None]] = []

    def start_renewing() -> None:
        renewing = _renew(lock, ttl, lost, stop)
        watchdog.append(loop.create_task(renewing, name="conversation-lock"))

    # Most steps end long before a third of the TTL: the watchdog starts only for those that
    # do not (a timer costs less than a task for every event).
    timer = loop.call_later(ttl / 3, start_renewing)
    try:
        yield lost
    finally:
        timer.cancel()
        stop.set()
        for task in watchdog:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await lock.release()
        except LockNotOwnedError:
            log.warning("conversation_lock_expired_before_release")
        except (LockError, RedisError, OSError) as exc:
            log.warning("conversation_lock_release_failed error=%s", type(exc).__name__)
