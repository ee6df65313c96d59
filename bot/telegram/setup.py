"""The aiogram objects of the channel, built from the runtime (production and tests alike)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import AiogramError
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import BotCommand
from aiohttp import ClientError

from bot.config import Settings
from bot.i18n import Translator
from bot.logs import get_logger
from bot.runtime import Runtime
from bot.telegram.middlewares import (
    MemorySeenUpdates,
    NoStorage,
    RedisSeenUpdates,
    SeenUpdates,
    UpdateDedupe,
)
from bot.telegram.router import build_router, on_error
from dialogs.engine.engine import DEFAULT_LANGUAGE
from dialogs.engine.text import T, Text

log = get_logger("bot.telegram")

KEY_PREFIX = "dariger:"  # the runtime's Redis keys share it (bot.wiring)

# Issue 16 (CPU per message): aiogram reads every Bot API answer with `Response[T]`, a pydantic
# generic that pydantic caches only weakly; nothing else holds it, so it was collected and
# built again (a whole model class, ~0.2 ms and more under load) at every call. Holding the
# parametrised class of each method type once makes every later call a cache hit.
_RESPONSE_TYPES: dict[type[Any], object] = {}


async def _keep_response_type(
    make_request: NextRequestMiddlewareType[TelegramType],
    bot: Bot,
    method: TelegramMethod[TelegramType],
) -> Any:
    kind = type(method)
    if kind not in _RESPONSE_TYPES:
        _RESPONSE_TYPES[kind] = Response[method.__returning__]  # type: ignore[name-defined]
    return await make_request(bot, method)


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
    session.middleware(_keep_response_type)
    return Bot(
        token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(runtime: Runtime, *, key_prefix: str = KEY_PREFIX) -> Dispatcher:
    """Routers, the dedupe middleware with per-user isolation, and the runtime as workflow data.

    With Redis (REDIS_URL), isolation and dedupe are shared by every worker; without it they
    live in the process, which is then the only one (long polling). The isolation is the
    engine's conversation lock, held for the whole update (bot/telegram/middlewares.py).
    """
    seen: SeenUpdates
    if runtime.redis is not None:
        seen = RedisSeenUpdates(runtime.redis, prefix=f"{key_prefix}tg:update:")
    else:
        seen = MemorySeenUpdates()
    dispatcher = Dispatcher(
        storage=NoStorage(), events_isolation=DisabledEventIsolation(), runtime=runtime
    )
    dispatcher.update.outer_middleware(UpdateDedupe(seen, runtime.engine.store))
    dispatcher.errors.register(on_error)
    dispatcher.include_router(build_router())
    return dispatcher


# --- what Telegram shows before and around a chat (issue 15, "Telegram conventions") ----------

# The command menu: (command, description), described in each language.
BOT_COMMANDS: tuple[tuple[str, Text], ...] = (
    ("start", T("Start: the main menu")),
    ("menu", T("Main menu")),
    ("help", T("Help")),
    ("language", T("Change the language")),
    ("operator", T("Operator 1414")),
)
# Shown in an empty chat before Start (at most 512 characters) and on the profile (120).
BOT_DESCRIPTION = T(
    "Dariger is the free state service of your PHC clinic: book an appointment with a doctor, "
    "cancel or move it, call a doctor home, request certificates and follow your "
    "applications. In an emergency call 103. A person can help you at the contact centre 1414."
)
BOT_SHORT_DESCRIPTION = T(
    "Free: appointments, home visits and certificates of your clinic. Emergency: 103. Help: 1414."
)
PROFILE_LANGUAGES = ("kk", "ru", "en")
PROFILE_TIMEOUT = 30.0  # seconds for all of it


async def _profile_for(bot: Bot, translator: Translator, language: str, code: str) -> int:
    """Set the commands and descriptions for one `language_code` ("" = everyone else) where
    they differ from what Telegram has; the number of changes made."""
    changed = 0
    commands = [
        BotCommand(command=name, description=translator.render(text, language))
        for name, text in BOT_COMMANDS
    ]
    current = await bot.get_my_commands(language_code=code or None)
    if [(c.command, c.description) for c in current] != [
        (c.command, c.description) for c in commands
    ]:
        await bot.set_my_commands(commands, language_code=code or None)
        changed += 1
    description = translator.render(BOT_DESCRIPTION, language)
    if (await bot.get_my_description(language_code=code or None)).description != description:
        await bot.set_my_description(description, language_code=code or None)
        changed += 1
    short = translator.render(BOT_SHORT_DESCRIPTION, language)
    got = await bot.get_my_short_description(language_code=code or None)
    if got.short_description != short:
        await bot.set_my_short_description(short, language_code=code or None)
        changed += 1
    return changed


async def set_bot_profile(bot: Bot, translator: Translator) -> int:
    """The command menu, description and short description in kk, ru and en (and Kazakh for
    any other language, as the dialogs default to it), set only where Telegram has something
    else. A failure is logged, never fatal: the next start-up tries again."""
    changed = 0
    targets = [(code, code) for code in PROFILE_LANGUAGES] + [(DEFAULT_LANGUAGE, "")]
    try:
        async with asyncio.timeout(PROFILE_TIMEOUT):  # never holds the start-up for long
            for language, code in targets:
                try:
                    changed += await _profile_for(bot, translator, language, code)
                # AiogramError: an API error, or an answer that is not what the API promises.
                except (AiogramError, ClientError, ValueError, TypeError) as exc:
                    log.warning("could not set the bot's commands", language=code, error=repr(exc))
    except TimeoutError:
        log.warning("setting the bot's commands timed out")
    log.info("telegram profile checked", changed=changed)
    return changed
