"""The SMS channel (issue 5): Twilio webhooks, numbered menus, the outbox worker.

`install` adds `POST /sms/twilio` and `POST /sms/twilio/status` to the app and, while the app
runs, the worker that sends the database outbox through the gateway sender (`runtime.sender`:
Twilio, or the console sender in development).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from bot.desk.feed import feed_for
from bot.desk.gate import DeskGate
from bot.runtime import Runtime
from bot.sms.conversation import SmsConversations
from bot.sms.outbox_worker import OutboxSmsSender, OutboxWorker
from bot.sms.render import SmsRenderer
from bot.sms.state import MemorySmsStateStore, RedisSmsStateStore, SmsStateStore
from bot.sms.webhook import TwilioSignature, TwilioWebhooks


@dataclass
class SmsChannel:
    conversations: SmsConversations
    renderer: SmsRenderer
    worker: OutboxWorker
    webhooks: TwilioWebhooks


SMS_KEY: Final = web.AppKey("sms", SmsChannel)
# Set to False before the app starts to run the outbox worker by hand (tests).
SMS_WORKER_KEY: Final = web.AppKey("sms_worker_enabled", bool)


def build_channel(runtime: Runtime) -> SmsChannel:
    settings = runtime.settings
    renderer = SmsRenderer(runtime.translator)
    secret = runtime.key_secret
    states: SmsStateStore = (
        RedisSmsStateStore(runtime.redis, prefix=runtime.key_prefix, secret=secret)
        if runtime.redis is not None
        else MemorySmsStateStore(secret=secret)
    )
    # The desk's live feed of this app (Redis when there is one), as the console reads it.
    gate = DeskGate(
        runtime.backend,
        feed_for(runtime.backend, runtime.redis, prefix=runtime.key_prefix),
        runtime.key_secret,
    )
    conversations = SmsConversations(runtime.engine, runtime.backend, renderer, states, gate)
    worker = OutboxWorker(runtime.backend, runtime.sender)
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    signature = TwilioSignature(auth_token=token, public_base_url=settings.public_base_url)
    webhooks = TwilioWebhooks(conversations, runtime.backend, signature)
    return SmsChannel(conversations, renderer, worker, webhooks)


def install(app: web.Application, runtime: Runtime) -> None:
    """Add the SMS channel to the app (Twilio webhooks, the outbox worker)."""
    channel = build_channel(runtime)
    app[SMS_KEY] = channel
    app[SMS_WORKER_KEY] = True
    channel.webhooks.register(app)
    # Issue 5: messages that are not an immediate reply (OTP codes) go through the durable
    # outbox, sent by the worker through the gateway sender; nothing is lost when Twilio or
    # the process is down. The worker is woken at once, so a code does not wait for a poll.
    runtime.services.otp.sender = OutboxSmsSender(runtime.backend, on_enqueue=channel.worker.wake)
    app.cleanup_ctx.append(_run_worker)


async def _run_worker(app: web.Application) -> AsyncIterator[None]:
    if not app[SMS_WORKER_KEY]:
        yield
        return
    task = asyncio.create_task(app[SMS_KEY].worker.run_forever(), name="sms-outbox-worker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
