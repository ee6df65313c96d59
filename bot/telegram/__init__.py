"""The Telegram channel (aiogram 3)."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime


def install(app: web.Application, runtime: Runtime) -> None:
    """Add the Telegram channel to the app (webhook route or long polling on start-up)."""
