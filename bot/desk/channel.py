"""The desk in the HTTP app (issue 12): `install` (in bot/channels.py, after the channels it
delivers on) builds the feed, the actions for the console and the relay, and runs the relay
with the timeouts sweep while the app runs. The console finds them at `app[DESK_KEY]`."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from backend.services import desk
from bot.config import Settings
from bot.desk import feed as events
from bot.desk.actions import DeskActions
from bot.desk.feed import DeskEvent, Feed, feed_for
from bot.desk.relay import PatientChannel, Relay, SmsPatient
from bot.logs import get_logger
from bot.polling import first_round_delay
from bot.runtime import Runtime

log = get_logger("bot.desk")


@dataclass
class Desk:
    feed: Feed
    actions: DeskActions
    relay: Relay
    timeouts: desk.Timeouts
    sweep_seconds: float


DESK_KEY: Final = web.AppKey("desk", Desk)
# Set to False before the app starts to run the relay and the sweep by hand (tests).
DESK_LOOP_KEY: Final = web.AppKey("desk_loop_enabled", bool)


def timeouts(settings: Settings) -> desk.Timeouts:
    return desk.Timeouts(
        long_wait=dt.timedelta(minutes=settings.desk_long_wait_minutes),
        operator_idle_warn=dt.timedelta(minutes=settings.desk_operator_idle_warn_minutes),
        operator_idle_requeue=dt.timedelta(minutes=settings.desk_operator_idle_requeue_minutes),
        patient_idle_close=dt.timedelta(minutes=settings.desk_patient_idle_close_minutes),
    )


def install(app: web.Application, runtime: Runtime) -> None:
    from bot.desk.telegram import TelegramPatient  # noqa: PLC0415
    from bot.sms.channel import SMS_KEY  # noqa: PLC0415 - installed before this one
    from bot.telegram import BOT_KEY  # noqa: PLC0415

    channels: dict[str, PatientChannel] = {}
    bot = app.get(BOT_KEY)
    if bot is not None:
        channels["telegram"] = TelegramPatient(bot, runtime.translator)
    sms = app.get(SMS_KEY)
    if sms is not None:
        channels["sms"] = SmsPatient(
            runtime.backend,
            sms.renderer,
            sms.conversations.states,
            wake=sms.worker.wake,
        )
    feed = feed_for(runtime.backend, runtime.redis, prefix=runtime.key_prefix)
    relay = Relay(runtime.backend, runtime.engine, runtime.translator, channels)
    app[DESK_KEY] = Desk(
        feed=feed,
        actions=DeskActions(runtime.backend, feed, wake=relay.wake),
        relay=relay,
        timeouts=timeouts(runtime.settings),
        sweep_seconds=float(runtime.settings.desk_sweep_seconds),
    )
    app[DESK_LOOP_KEY] = True
    app.cleanup_ctx.append(_run)


async def sweep_once(the_desk: Desk) -> desk.Sweep:
    """One round of the timeouts; their events on the feed, the relay woken."""
    backend = the_desk.relay.backend
    now = backend.clock.now()
    swept = await desk.idle_sweep(backend.uow(), now, the_desk.timeouts)
    for kind, ids in (
        (events.WARNED, swept.warned),
        (events.REQUEUED, swept.requeued),
        (events.CLOSED, swept.closed),
    ):
        for chat_id in ids:
            await the_desk.feed.publish(DeskEvent(kind, chat_id, now))
    if swept.long_wait or swept.closed:
        the_desk.relay.wake()
    return swept


async def _sweep_forever(the_desk: Desk, stopping: asyncio.Event) -> None:
    await first_round_delay()  # the loops of a starting process do not all start at once
    while not stopping.is_set():
        try:
            await sweep_once(the_desk)
        except Exception:
            log.exception("desk sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=the_desk.sweep_seconds)


async def _run(app: web.Application) -> AsyncIterator[None]:
    if not app[DESK_LOOP_KEY]:
        yield
        return
    the_desk = app[DESK_KEY]
    stopping = asyncio.Event()
    tasks = [
        asyncio.create_task(the_desk.relay.run_forever(stopping), name="desk-relay"),
        asyncio.create_task(_sweep_forever(the_desk, stopping), name="desk-sweep"),
    ]
    try:
        yield
    finally:
        stopping.set()
        the_desk.relay.wake()
        _done, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
