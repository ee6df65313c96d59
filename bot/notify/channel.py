"""Notifications in the HTTP app (issue 11): the workers and the scheduler run while it runs.

`install` (in bot/channels.py, after the Telegram and SMS channels) builds:
- the Telegram worker, when Telegram is on (it sends through the channel's bot), with
  Telegram's limits counted in Redis when Redis is configured (one budget for all processes),
  else in this process;
- the SMS notification worker, which hands rendered SMS to the SMS outbox and wakes its worker;
- the scheduler of reminders, passed deadlines and carried-over requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from bot.notify.limits import RateLimiter, RedisRateLimiter, SendLimiter
from bot.notify.scheduler import Scheduler
from bot.notify.workers import SmsNotificationWorker, TelegramWorker
from bot.runtime import Runtime
from bot.verify import document_links


@dataclass
class Notifier:
    telegram: TelegramWorker | None
    sms: SmsNotificationWorker
    scheduler: Scheduler


NOTIFY_KEY: Final = web.AppKey("notify", Notifier)
# Set to False before the app starts to run the workers and the scheduler by hand (tests).
NOTIFY_ENABLED_KEY: Final = web.AppKey("notify_enabled", bool)
STOP_SECONDS: Final = 10.0  # on shutdown, how long a round in progress may take to end


def install(app: web.Application, runtime: Runtime) -> None:
    from bot.sms.channel import SMS_KEY  # noqa: PLC0415 - installed before this one
    from bot.telegram import BOT_KEY  # noqa: PLC0415
    from bot.telegram.notifications import AiogramSender  # noqa: PLC0415

    sms_channel = app.get(SMS_KEY)
    wake_sms: Callable[[], None] | None = (
        sms_channel.worker.wake if sms_channel is not None else None
    )
    bot = app.get(BOT_KEY)
    limiter: SendLimiter = (
        RedisRateLimiter(runtime.redis, prefix=runtime.key_prefix, secret=runtime.key_secret)
        if runtime.redis is not None
        else RateLimiter()
    )
    telegram = (
        TelegramWorker(
            runtime.backend,
            AiogramSender(bot, runtime.backend),
            runtime.translator,
            limiter=limiter,
        )
        if bot is not None
        else None
    )
    sms = SmsNotificationWorker(
        runtime.backend, runtime.translator, on_handed=wake_sms, link_for=document_links(runtime)
    )
    wakers = [sms.wake] + ([telegram.wake] if telegram is not None else [])
    app[NOTIFY_KEY] = Notifier(telegram, sms, Scheduler(runtime.backend, wake=wakers))
    app[NOTIFY_ENABLED_KEY] = True
    app.cleanup_ctx.append(_run)


async def _run(app: web.Application) -> AsyncIterator[None]:
    if not app[NOTIFY_ENABLED_KEY]:
        yield
        return
    notifier = app[NOTIFY_KEY]
    stopping = asyncio.Event()
    tasks = [
        asyncio.create_task(notifier.scheduler.run_forever(stopping), name="notify-scheduler"),
        asyncio.create_task(notifier.sms.run_forever(stopping), name="notify-sms"),
    ]
    if notifier.telegram is not None:
        tasks.append(
            asyncio.create_task(notifier.telegram.run_forever(stopping), name="notify-telegram")
        )
    try:
        yield
    finally:
        # The rounds in progress end (nothing half-sent, no query left behind), then the loops.
        stopping.set()
        notifier.sms.wake()
        if notifier.telegram is not None:
            notifier.telegram.wake()
        _done, pending = await asyncio.wait(tasks, timeout=STOP_SECONDS)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
