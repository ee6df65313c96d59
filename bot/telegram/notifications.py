"""Notifications on Telegram (issue 11): how they are sent, and what their buttons do.

A notification is a plain message (not a dialog screen: it must not disturb the screen the
patient is on) with inline buttons whose data is `n:<action>:<application number>`:
- Open: the applications journey at that application's card (sign in first if needed);
- This wasn't me: the operator screen (1414);
- Confirm (a reminder): recorded, and thanked with a short alert;
- Cancel (a reminder): the normal confirmed cancellation of my appointments (yes / no).
"""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from backend.bootstrap import Backend
from backend.services import documents, notifications
from bot.logs import get_logger
from bot.notify import render
from bot.notify.render import RenderedNotification
from bot.notify.workers import Blocked, PermanentFailure, RetryAfter
from bot.runtime import Runtime
from bot.telegram.render import show_screen
from dialogs.engine.events import Command
from dialogs.journeys import appointments
from dialogs.journeys.applications import DETAILS, K_NUMBER

log = get_logger("bot.telegram")
CHANNEL = "telegram"


class Notice(CallbackData, prefix="n"):
    act: str
    ref: str


def keyboard(message: RenderedNotification, number: str | None) -> InlineKeyboardMarkup | None:
    if not message.buttons or not number:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=label, callback_data=Notice(act=action, ref=number).pack()
                )
                for action, label in message.buttons
            ]
        ]
    )


CAPTION_LIMIT = 1024  # Telegram's limit of a document's caption


async def send_document(
    bot: Bot, backend: Backend, chat_id: int, message: RenderedNotification, number: str | None
) -> None:
    """Issue 13: the signed PDF itself, protected (no forwarding or saving in Telegram)."""
    file = await documents.document_file(backend.uow(), message.document_id or 0)
    if file is None:
        raise PermanentFailure("document_missing")
    if file.revoked:  # revoked after this notice was queued: the revocation notice follows
        raise PermanentFailure("document_revoked")
    await bot.send_document(
        chat_id,
        BufferedInputFile(file.content, filename=file.filename),
        caption=html.quote(message.text)[:CAPTION_LIMIT],
        parse_mode=ParseMode.HTML,
        protect_content=True,
        reply_markup=keyboard(message, number),
    )


class AiogramSender:
    """Sends a rendered notification to a chat with its buttons (a document as the file)."""

    def __init__(self, bot: Bot, backend: Backend | None = None) -> None:
        self.bot = bot
        self.backend = backend

    async def send(self, chat_id: str, message: RenderedNotification, number: str | None) -> None:
        try:
            if message.document_id is not None and self.backend is not None:
                await send_document(self.bot, self.backend, int(chat_id), message, number)
                return
            await self.bot.send_message(
                int(chat_id),
                html.quote(message.text),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message, number),
            )
        except TelegramRetryAfter as exc:
            raise RetryAfter(float(exc.retry_after)) from None
        except TelegramForbiddenError:
            raise Blocked() from None
        except (TelegramNotFound, TelegramBadRequest) as exc:
            raise PermanentFailure(f"telegram_{type(exc).__name__}: {exc.message}"[:200]) from None


async def on_notice(
    query: CallbackQuery, callback_data: Notice, runtime: Runtime, bot: Bot
) -> None:
    """A tap on a notification's button."""
    user = query.from_user
    uid = str(user.id)
    hint = user.language_code
    chat_id = query.message.chat.id if isinstance(query.message, Message) else user.id
    engine = runtime.engine
    number = callback_data.ref
    if callback_data.act == render.CONFIRM:
        language = await engine.current_language(CHANNEL, uid, language_hint=hint)
        session = await runtime.services.sessions.current(CHANNEL, uid)
        if session is not None:
            await notifications.confirm_reminder(
                runtime.backend.uow(), session.patient_id, number, now=runtime.backend.clock.now()
            )
        await query.answer(runtime.translator.render(render.THANKS, language), show_alert=True)
        return
    await _answer(query)
    if callback_data.act == render.OPEN:
        screen = await engine.open(
            CHANNEL, uid, DETAILS, data={K_NUMBER: number}, language_hint=hint
        )
    elif callback_data.act == render.CANCEL:
        screen = await engine.open(
            CHANNEL,
            uid,
            appointments.CANCEL,
            data={appointments.NUMBER: number},
            language_hint=hint,
        )
    else:  # "This wasn't me", or an action of a newer release: the contact centre 1414
        screen = await engine.handle(CHANNEL, uid, Command("operator"), language_hint=hint)
    await show_screen(bot, chat_id, screen, screen.language, runtime.translator)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramBadRequest as exc:  # too old to answer: the screen still goes out
        log.info("callback answer refused", reason=exc.message)
