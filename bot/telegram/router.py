"""Telegram handlers: an update becomes one engine event, the engine's screen one reply.

The handlers hold no dialog logic and no state. A message (text, contact, command) gets a new
message; a tap edits the message it was made on; a tap on an old message (a stale button) is
answered with a short alert and the current screen as a new message, so the patient sees
where the conversation is instead of a rewritten old message.
"""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, ErrorEvent, Message, User

from bot.desk import telegram as desk
from bot.logs import get_logger
from bot.runtime import Runtime
from bot.sanitize import clean_text
from bot.telegram import notifications
from bot.telegram.callbacks import Pick
from bot.telegram.render import alert_text, show_screen
from dialogs.engine.engine import DEFAULT_LANGUAGE, FAILURE
from dialogs.engine.events import Chose, Command, Event, SharedContact, Start, Typed
from dialogs.engine.screen import Screen

log = get_logger("bot.telegram")

CHANNEL = "telegram"
# What a garbled or foreign button becomes: a tap on an option no screen shows (stale).
_NO_OPTION = Chose("", seq=-1)


async def _step(runtime: Runtime, user: User, event: Event) -> tuple[Screen, str]:
    """One engine step for the sender; the screen and the language to show it in."""
    user_id = str(user.id)
    hint = user.language_code
    screen = await runtime.engine.handle(CHANNEL, user_id, event, language_hint=hint)
    return screen, screen.language


def command_name(text: str) -> str:
    """`/Help@DarigerBot now` → `help`."""
    word = text.split(maxsplit=1)[0] if text.strip() else ""
    return word.removeprefix("/").split("@", 1)[0].lower()


async def _answer_message(message: Message, event: Event, runtime: Runtime, bot: Bot) -> None:
    if message.from_user is None:
        return
    # Issue 12: a conversation with the 1414 desk never reaches the bot.
    if await desk.intercept(runtime, bot, message.chat.id, message.from_user, event):
        return
    screen, language = await _step(runtime, message.from_user, event)
    await show_screen(bot, message.chat.id, screen, language, runtime.translator)
    await desk.queued(runtime, message.from_user, screen)


async def on_start(message: Message, runtime: Runtime, bot: Bot) -> None:
    """/start (with or without a deep-link payload): the main menu."""
    await _answer_message(message, Start(), runtime, bot)


async def on_command(message: Message, runtime: Runtime, bot: Bot) -> None:
    """/menu, /help, /language, /operator, and any other: the engine answers unknown ones."""
    text = clean_text(message.text or "")
    await _answer_message(message, Command(command_name(text)), runtime, bot)


async def on_contact(message: Message, runtime: Runtime, bot: Bot) -> None:
    """A shared contact; the engine trusts the phone only when it is the sender's own."""
    contact = message.contact
    if contact is None or message.from_user is None:
        return
    event = SharedContact(
        phone=clean_text(contact.phone_number),
        contact_user_id=str(contact.user_id) if contact.user_id is not None else None,
        sender_user_id=str(message.from_user.id),
    )
    await _answer_message(message, event, runtime, bot)


async def on_text(message: Message, runtime: Runtime, bot: Bot) -> None:
    """Typed text, or anything else the patient sends (a photo's caption, a sticker: empty).
    Control characters and bidi overrides never get past here (issue 9 §2)."""
    text = clean_text(message.text or message.caption or "", keep_layout=True)
    await _answer_message(message, Typed(text), runtime, bot)


async def _answer_tap(query: CallbackQuery, event: Chose, runtime: Runtime, bot: Bot) -> None:
    origin = query.message if isinstance(query.message, Message) else None
    chat_id = origin.chat.id if origin is not None else query.from_user.id
    if await desk.intercept(runtime, bot, chat_id, query.from_user, event):
        try:
            await query.answer()
        except TelegramBadRequest as exc:
            log.info("callback answer refused", reason=exc.message)
        return
    screen, language = await _step(runtime, query.from_user, event)
    stale = screen.stale
    try:
        if stale and screen.notice is not None:
            notice = runtime.translator.render(screen.notice, language)
            await query.answer(alert_text(notice), show_alert=True)
        else:
            await query.answer()
    except TelegramBadRequest as exc:  # too old to answer: the reply below still goes out
        log.info("callback answer refused", reason=exc.message)
    if screen.repeat:  # a double tap: the alert only, the screen is already there (issue 15)
        return
    await show_screen(
        bot,
        chat_id,
        screen,
        language,
        runtime.translator,
        replace=None if stale else origin,
    )
    await desk.queued(runtime, query.from_user, screen)


async def on_pick(query: CallbackQuery, callback_data: Pick, runtime: Runtime, bot: Bot) -> None:
    """A tap on one of our buttons."""
    opt = clean_text(callback_data.opt)
    await _answer_tap(query, Chose(opt, seq=callback_data.seq), runtime, bot)


async def on_unknown_tap(query: CallbackQuery, runtime: Runtime, bot: Bot) -> None:
    """Callback data we never made (an old release, a forged payload): a stale button."""
    await _answer_tap(query, _NO_OPTION, runtime, bot)


async def on_error(event: ErrorEvent, runtime: Runtime, bot: Bot) -> None:
    """The last resort: log, and tell the patient in a short localised line (never silence)."""
    log.error("telegram update failed", exc_info=event.exception)
    update = event.update
    user = (
        update.message.from_user
        if update.message is not None
        else update.callback_query.from_user
        if update.callback_query is not None
        else None
    )
    if user is None:
        return
    language = DEFAULT_LANGUAGE
    try:
        language = await runtime.engine.current_language(
            CHANNEL, str(user.id), language_hint=user.language_code
        )
        if update.callback_query is not None:
            await update.callback_query.answer()
    except Exception:  # the apology below must still go out
        log.warning("error reply without the patient's language", exc_info=True)
    chat_id = update.message.chat.id if update.message is not None else user.id
    try:
        text = html.quote(runtime.translator.render(FAILURE, language))
        await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
    except Exception:  # Telegram itself is failing: only the log is left
        log.exception("could not send the error reply")


def build_router() -> Router:
    """A fresh router (a router belongs to one dispatcher): private chats only."""
    router = Router(name="dariger")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(on_start, CommandStart())
    router.message.register(on_command, F.text.startswith("/"))
    router.message.register(on_contact, F.contact)
    router.message.register(on_text)
    router.callback_query.register(on_pick, Pick.filter())
    router.callback_query.register(notifications.on_notice, notifications.Notice.filter())
    router.callback_query.register(on_unknown_tap)
    return router
