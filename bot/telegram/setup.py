"""The aiogram objects of the channel, built from the runtime (production and tests alike)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation

from bot.config import Settings
from bot.runtime import Runtime
from bot.telegram.middlewares import (
    MemorySeenUpdates,
    NoStorage,
    RedisSeenUpdates,
    SeenUpdates,
    UpdateDedupe,
)
from bot.telegram.router import build_router, on_error

KEY_PREFIX = "dariger:"  # the runtime's Redis keys share it (bot.wiring)


def build_bot(settings: Settings, *, session: BaseSession | None = None) -> Bot:
    """The bot for TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE points it at another Bot API server."""
    token = settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    if session is None:
        base = settings.telegram_api_base.strip().rstrip("/")
        session = (
            AiohttpSession(api=TelegramAPIServer.from_base(base)) if base else AiohttpSession()
        )
    return Bot(
        token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(runtime: Runtime, *, key_prefix: str = KEY_PREFIX) -> Dispatcher:
    """Routers, the dedupe middleware, per-user isolation and the runtime as workflow data.

    With Redis (REDIS_URL), isolation and dedupe are shared by every worker; without it they
    live in the process, which is then the only one (long polling).
    """
    isolation: BaseEventIsolation
    seen: SeenUpdates
    if runtime.redis is not None:
        isolation = RedisEventIsolation(
            runtime.redis, key_builder=DefaultKeyBuilder(prefix=f"{key_prefix}tg")
        )
        seen = RedisSeenUpdates(runtime.redis, prefix=f"{key_prefix}tg:update:")
    else:
        isolation = SimpleEventIsolation()
        seen = MemorySeenUpdates()
    dispatcher = Dispatcher(storage=NoStorage(), events_isolation=isolation, runtime=runtime)
    dispatcher.update.outer_middleware(UpdateDedupe(seen))
    dispatcher.errors.register(on_error)
    dispatcher.include_router(build_router())
    return dispatcher
