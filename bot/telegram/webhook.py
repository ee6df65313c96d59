"""Webhook mode (PUBLIC_BASE_URL set): `POST /telegram/webhook`, checked by a secret token.

Telegram sends the secret given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`;
aiogram's `SimpleRequestHandler` compares it in constant time and answers 401 otherwise,
before anything is parsed. Without TELEGRAM_WEBHOOK_SECRET the secret is derived from the
bot token (an HMAC), so a webhook is never open and every worker derives the same one.
"""

from __future__ import annotations

import hashlib
import hmac

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import ClientError, web

from bot.config import Settings
from bot.logs import get_logger

log = get_logger("bot.telegram")

WEBHOOK_PATH = "/telegram/webhook"


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the token ([A-Za-z0-9_-], ≤ 256)."""
    given = settings.telegram_webhook_secret
    if given is not None and given.get_secret_value():
        return given.get_secret_value()
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    return hmac.new(token.encode(), b"dariger telegram webhook", hashlib.sha256).hexdigest()


def webhook_url(settings: Settings) -> str:
    return settings.public_base_url.strip().rstrip("/") + WEBHOOK_PATH


def install_webhook(
    app: web.Application, dispatcher: Dispatcher, bot: Bot, settings: Settings
) -> None:
    secret = webhook_secret(settings)
    # Answered at once, handled in a task (aiogram's default): Telegram never waits on the
    # database, and a redelivered update is dropped by the dedupe middleware.
    SimpleRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=True
    ).register(app, path=WEBHOOK_PATH)
    setup_application(app, dispatcher, bot=bot)
    url = webhook_url(settings)

    async def set_webhook(_app: web.Application) -> None:
        """Tell Telegram where to send updates. Failing is logged, not fatal: health checks
        and the SMS channel keep serving, and the next start-up tries again."""
        try:
            await bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=dispatcher.resolve_used_update_types(),
            )
        except (TelegramAPIError, ClientError, TimeoutError) as exc:
            log.error("could not set the telegram webhook", url=url, error=repr(exc))
        else:
            log.info("telegram webhook set", url=url)

    app.on_startup.append(set_webhook)
