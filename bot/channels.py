"""The channels the HTTP application carries; each installs its routes and background tasks."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot import clinic_api, operator, telegram, verify
from bot.desk import channel as desk
from bot.notify import channel as notify
from bot.runtime import Runtime
from bot.sms import channel as sms

Installer = Callable[[web.Application, Runtime], None]

CHANNELS: tuple[Installer, ...] = (
    telegram.install,
    sms.install,
    operator.install,
    clinic_api.install,
    notify.install,
    desk.install,  # after the channels it delivers on (issue 12)
    verify.install,
)
