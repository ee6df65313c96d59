"""Long polling: the mode without a public URL (`make run` with a token), as an app task.

The poller starts after the HTTP app is up and stops at shutdown, before the app's cleanup
closes the database and Redis that the handlers use.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError, web

from bot.logs import get_logger

log = get_logger("bot.telegram")

POLLING_TASK_KEY: Final = web.AppKey("telegram_polling", asyncio.Task[None])


async def run_polling(dispatcher: Dispatcher, bot: Bot) -> None:
    """Drop a webhook left from a deployment (Telegram refuses getUpdates while one is set),
    then poll until stopped."""
    try:
        await bot.delete_webhook(drop_pending_updates=False)
    except (TelegramAPIError, ClientError, TimeoutError) as exc:
        log.warning("could not remove the webhook before polling", error=repr(exc))
    await dispatcher.start_polling(bot, handle_signals=False, close_bot_session=True)


def install_polling(app: web.Application, dispatcher: Dispatcher, bot: Bot) -> None:
    async def start(app: web.Application) -> None:
        app[POLLING_TASK_KEY] = asyncio.create_task(run_polling(dispatcher, bot))
        log.info("telegram long polling started")

    async def stop(app: web.Application) -> None:
        task = app.get(POLLING_TASK_KEY)
        if task is None:
            return
        if not task.done():
            try:
                async with asyncio.timeout(10):
                    await dispatcher.stop_polling()
            except (RuntimeError, TimeoutError):  # not started yet, or stuck: cancel it
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.session.close()
        log.info("telegram long polling stopped")

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
