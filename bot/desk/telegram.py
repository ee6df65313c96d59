"""The desk on Telegram: the gate in front of the router's handlers, and delivery.

While the patient's conversation waits for or is with an operator, nothing reaches the dialog
engine: a message goes to the transcript (waiting: a short answer with the place in the queue
and a «Leave the queue» button; with an operator: no answer, the operator answers), a tap on
«Leave the queue» leaves it, any other tap gets the same short answer.
"""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.enums import ParseMode
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, User

from backend.services import desk
from bot.desk import texts
from bot.desk.feed import feed_for
from bot.desk.gate import DeskGate
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.telegram.callbacks import pack_pick
from bot.telegram.render import send_screen
from dialogs.engine.events import Chose, Command, Event, SharedContact, Start, Typed
from dialogs.engine.screen import Screen
from dialogs.journeys.common import LEAVE

CHANNEL = "telegram"


def gate_of(runtime: Runtime) -> DeskGate:
    return DeskGate(
        runtime.backend,
        feed_for(runtime.backend, runtime.redis, prefix=runtime.key_prefix),
        runtime.key_secret,
    )


async def queued(runtime: Runtime, user: User, screen: Screen) -> None:
    """Tell the console when the screen just shown is the queue (the patient confirmed)."""
    await gate_of(runtime).after_screen(CHANNEL, str(user.id), screen.state)


def _as_text(event: Event) -> str:
    if isinstance(event, Typed):
        return event.text
    if isinstance(event, Command):
        return f"/{event.name}"
    if isinstance(event, Start):
        return "/start"
    if isinstance(event, SharedContact):
        return "[contact]"  # the number itself stays out of the transcript
    return ""


async def intercept(runtime: Runtime, bot: Bot, chat_id: int, user: User, event: Event) -> bool:
    """True when the desk has the conversation (the engine must not answer)."""
    gate = gate_of(runtime)
    user_id = str(user.id)
    chat = await gate.open_chat(CHANNEL, user_id)
    if chat is None:
        return False
    hint = user.language_code
    if isinstance(event, Chose):
        if event.option_id == LEAVE and await gate.leave(chat):
            screen = await runtime.engine.resume(CHANNEL, user_id, texts.LEFT, language_hint=hint)
            await send_screen(bot, chat_id, screen, screen.language, runtime.translator)
            return True
        place = (
            None
            if chat.state.value != "waiting"
            else await desk.place(gate.backend.uow(), chat.id)
        )
    else:
        text = _as_text(event).strip()
        if not text:
            return True
        place = await gate.pass_on(chat, text)
    if place is not None:
        language = await runtime.engine.current_language(CHANNEL, user_id, language_hint=hint)
        await _waiting(bot, chat_id, place, language, runtime.translator)
    return True


async def _waiting(
    bot: Bot, chat_id: int, place: int, language: str, translator: Translator
) -> None:
    text = translator.render(texts.passed_on(place), language)
    data = pack_pick(0, LEAVE)
    markup = (
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=translator.render(texts.LEAVE_BUTTON, language), callback_data=data
                    )
                ]
            ]
        )
        if data
        else None
    )
    await bot.send_message(
        chat_id, html.quote(text), parse_mode=ParseMode.HTML, reply_markup=markup
    )


class TelegramPatient:
    """Delivery of desk messages on Telegram (at once, by the relay)."""

    def __init__(self, bot: Bot, translator: Translator) -> None:
        self.bot = bot
        self.translator = translator

    async def send_text(self, address: str, text: str) -> None:
        await self.bot.send_message(int(address), html.quote(text), parse_mode=ParseMode.HTML)

    async def send_screen(self, address: str, screen: Screen) -> None:
        await send_screen(self.bot, int(address), screen, screen.language, self.translator)
