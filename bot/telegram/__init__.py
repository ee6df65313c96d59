"""The Telegram channel (aiogram 3): updates become engine events, screens become messages.

Without TELEGRAM_BOT_TOKEN nothing is installed (`dariger serve` says "Telegram is off").
With PUBLIC_BASE_URL the channel is a webhook on this app (`POST /telegram/webhook`, set on
start-up); without it, the app long-polls in a background task.
"""

from __future__ import annotations

from typing import Final

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.runtime import Runtime
from bot.telegram.polling import install_polling
from bot.telegram.render import send_screen
from bot.telegram.setup import KEY_PREFIX, build_bot, build_dispatcher, set_bot_profile
from bot.telegram.webhook import WEBHOOK_PATH, install_webhook

__all__ = ["BOT_KEY", "DISPATCHER_KEY", "WEBHOOK_PATH", "install", "send_screen"]

# For notifications (a later issue): the bot that reaches patients on Telegram.
BOT_KEY: Final = web.AppKey("telegram_bot", Bot)
DISPATCHER_KEY: Final = web.AppKey("telegram_dispatcher", Dispatcher)


def install(
    app: web.Application,
    runtime: Runtime,
    *,
    bot: Bot | None = None,
    key_prefix: str = KEY_PREFIX,
) -> None:
    """Add the Telegram channel to the app: a webhook route, or long polling on start-up.

    `bot` replaces the one built from the settings (tests give one whose session answers
    locally, so nothing reaches Telegram).
    """
    settings = runtime.settings
    if not settings.telegram_enabled:
        return
    bot = bot or build_bot(settings)
    dispatcher = build_dispatcher(runtime, key_prefix=key_prefix)
    app[BOT_KEY] = bot
    app[DISPATCHER_KEY] = dispatcher

    async def profile(_app: web.Application) -> None:  # issue 15: commands and descriptions
        await set_bot_profile(bot, runtime.translator)

    app.on_startup.append(profile)
    if settings.public_base_url.strip():
        install_webhook(app, dispatcher, bot, settings)
    else:
        install_polling(app, dispatcher, bot)
