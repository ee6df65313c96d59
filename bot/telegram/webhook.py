"""Webhook mode (PUBLIC_BASE_URL set): `POST /telegram/webhook`, checked by a secret token.

Telegram sends the secret given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`;
aiogram's `SimpleRequestHandler` compares it in constant time and answers 401 otherwise,
before anything is parsed. Without TELEGRAM_WEBHOOK_SECRET the secret is derived from the
bot token (an HMAC), so a webhook is never open and every worker derives the same one.

With the right secret, the body is checked before anything is processed (issue 9 §2): it must
be one JSON object that parses as an `Update`. Anything else (bad JSON, an empty or form-encoded
body, nesting deeper than an update ever is, wrong field types) is answered 400 with one
warning, and nothing reaches the dispatcher.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any, Final

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import ClientError, web
from pydantic import ValidationError

from bot.config import Settings
from bot.logs import get_logger

log = get_logger("bot.telegram")

WEBHOOK_PATH = "/telegram/webhook"
# An update nests a few levels (a message, its reply, its entities); a body nested deeper is
# not Telegram's, and is refused before a parser recurses into it.
MAX_UPDATE_DEPTH: Final = 32


def nesting_depth(body: bytes) -> int:
    """How deep JSON arrays and objects nest in `body` (strings skipped); no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_UPDATE_DEPTH:
                    return deepest
        elif byte in (0x7D, 0x5D):  # } ]
            depth -= 1
    return deepest


class BadUpdate(ValueError):
    """The body is not one Telegram update; the reason names no content."""


def parse_update(body: bytes, bot: Bot) -> Update:
    """The update in a webhook body, or BadUpdate."""
    if not body.strip():
        raise BadUpdate("empty body")
    if nesting_depth(body) > MAX_UPDATE_DEPTH:
        raise BadUpdate("nested too deeply")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadUpdate("not JSON") from exc
    if not isinstance(data, dict):
        raise BadUpdate(f"a JSON {type(data).__name__}, not an object")
    try:
        return Update.model_validate(data, context={"bot": bot})
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"][:3]) for e in exc.errors()[:5]})
        raise BadUpdate(f"not an update ({', '.join(fields)})") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadUpdate("not an update") from exc


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's handler, with the body checked before the update is handed on.

    The update is handled in a task of ours, whose failure is logged (never "Task exception was
    never retrieved"); Telegram gets its answer at once.
    """

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        update = await self._checked_update(bot, request)
        task = asyncio.create_task(self._feed(bot, update), name="telegram-update")
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({}, dumps=bot.session.json_dumps)

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        update = await self._checked_update(bot, request)
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    async def _checked_update(self, bot: Bot, request: web.Request) -> Update:
        try:
            return parse_update(await request.read(), bot)
        except BadUpdate as exc:
            log.warning("telegram webhook body refused", reason=str(exc))
            raise web.HTTPBadRequest(text="not a Telegram update") from None

    async def _feed(self, bot: Bot, update: Update) -> None:
        try:
            result: Any = await self.dispatcher.feed_update(bot, update, **self.data)
            if isinstance(result, TelegramMethod):  # a handler's answer as a method to call
                await self.dispatcher.silent_call_request(bot=bot, result=result)
        except Exception:
            log.exception("telegram update failed", update_id=update.update_id)


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
    CheckedRequestHandler(
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
