"""The SMS channel (Twilio webhooks, numbered menus)."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime


def install(app: web.Application, runtime: Runtime) -> None:
    """Add the SMS channel to the app (Twilio webhooks, the outbox worker)."""
