"""Answers to reminders by SMS (issue 11): OK from the phone the reminder went to confirms
it; cancelling goes through the menu's confirmed cancellation."""

from __future__ import annotations

from backend.bootstrap import Backend
from backend.services import notifications
from bot.notify.render import THANKS
from dialogs.engine.text import T, Text

NOTHING_TO_CONFIRM = T("There is no appointment reminder to confirm. Send MENU for the menu.")


async def reminder_answer(backend: Backend, phone: str) -> Text:
    confirmed = await notifications.confirm_by_sms(backend.uow(), phone, now=backend.clock.now())
    return THANKS if confirmed else NOTHING_TO_CONFIRM
