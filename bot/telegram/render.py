"""A `Screen` as a Telegram message: HTML text and an inline keyboard, in the patient's language.

The only code that knows how a screen looks on Telegram. Every word goes through the
`Translator`; every piece of text is HTML-escaped (names and addresses come from registers).
Layout: the dialog's items in `screen.columns` columns, each action on its own row, then the
navigation at the bottom: « Back and Main menu in one row, Language and Operator 1414 in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aiogram import Bot, html
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)

from bot.i18n import Translator
from bot.logs import get_logger
from bot.telegram.callbacks import pack_pick
from dialogs.engine.engine import NAV_BACK, NAV_LANGUAGE, NAV_MENU, NAV_OPERATOR
from dialogs.engine.screen import Document, Option, OptionRole, Screen
from dialogs.engine.text import Text

log = get_logger("bot.telegram")

MAX_TEXT = 4096  # characters after entity parsing (Bot API sendMessage)
MAX_ALERT = 200  # answerCallbackQuery text
MAX_ROW = 8  # buttons in one keyboard row
BUTTON_CONTEXT = "button"  # a catalog may give a shorter variant of a label for buttons
# The navigation the engine adds, laid out as pairs at the bottom of every keyboard.
NAV_ROWS = ((NAV_BACK, NAV_MENU), (NAV_LANGUAGE, NAV_OPERATOR))
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
WARNING = "⚠️ "  # before an input error

Style = Literal["notice", "error", "body"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One screen for Telegram: the message text (several parts only past 4096 characters),
    the keyboard for the last part, and whether forwarding and saving are blocked."""

    parts: tuple[str, ...]
    markup: InlineKeyboardMarkup | None
    protect: bool


def _units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    used = 0
    for count, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return count
    return len(text)


def _cut(plain: str, limit: int) -> list[str]:
    """A paragraph cut into pieces of at most `limit` units: at a line break, else at a
    space, else anywhere."""
    pieces = []
    rest = plain
    while _units(rest) > limit:
        end = max(_fit(rest, limit), 1)
        cut = rest.rfind("\n", 0, end + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, end + 1)
        if cut <= 0:
            cut = end
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    pieces.append(rest)
    return pieces


def _styled(plain: str, style: Style) -> str:
    quoted = html.quote(plain)
    if style == "notice":
        return html.bold(quoted)
    if style == "error":
        return WARNING + quoted
    return quoted


def split_text(paragraphs: Sequence[tuple[str, Style]], limit: int = MAX_TEXT) -> list[str]:
    """Paragraphs joined with blank lines, as few messages as fit; each HTML-escaped.

    The limit counts the text as the patient sees it (escaping does not count), so a piece is
    cut before it is escaped and no entity or tag is ever split.
    """
    messages: list[str] = []
    current: list[str] = []
    length = 0
    for plain, style in paragraphs:
        extra = _units(WARNING) if style == "error" else 0
        for piece in _cut(plain, limit - extra):
            size = _units(piece) + extra
            if current and length + 2 + size > limit:
                messages.append("\n\n".join(current))
                current, length = [], 0
            current.append(_styled(piece, style))
            length += size + (2 if length else 0)
    if current:
        messages.append("\n\n".join(current))
    return messages or ["…"]


def _button(
    option: Option, seq: int, language: str, translator: Translator
) -> list[InlineKeyboardButton]:
    data = pack_pick(seq, option.id)
    if data is None:
        return []
    label = translator.render(option.label, language, context=BUTTON_CONTEXT)
    return [InlineKeyboardButton(text=label or option.id, callback_data=data)]


def build_keyboard(
    screen: Screen, language: str, translator: Translator
) -> InlineKeyboardMarkup | None:
    """Items in `screen.columns` columns, one action per row, navigation pairs at the bottom."""

    def buttons(options: Sequence[Option]) -> list[InlineKeyboardButton]:
        return [b for o in options for b in _button(o, screen.seq, language, translator)]

    items = buttons([o for o in screen.options if o.role is OptionRole.ITEM])
    width = max(1, min(screen.columns, MAX_ROW))
    rows = [items[i : i + width] for i in range(0, len(items), width)]
    rows.extend([b] for b in buttons([o for o in screen.options if o.role is OptionRole.ACTION]))
    nav = {o.id: o for o in screen.options if o.role is OptionRole.NAV}
    for pair in NAV_ROWS:
        row = buttons([nav.pop(option_id) for option_id in pair if option_id in nav])
        if row:
            rows.append(row)
    rows.extend([b] for b in buttons(list(nav.values())))  # a navigation option added later
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def render_screen(screen: Screen, language: str, translator: Translator) -> Rendered:
    def say(text: Text) -> str:
        return translator.render(text, language)

    paragraphs: list[tuple[str, Style]] = []
    if screen.notice is not None:
        paragraphs.append((say(screen.notice), "notice"))
    if screen.error is not None:
        paragraphs.append((say(screen.error), "error"))
    paragraphs.extend((say(item), "body") for item in screen.body)
    return Rendered(
        parts=tuple(split_text([(p, s) for p, s in paragraphs if p.strip()])),
        markup=build_keyboard(screen, language, translator),
        protect=screen.sensitive,
    )


def alert_text(text: str) -> str:
    """A callback-query answer: at most 200 characters."""
    return text if len(text) <= MAX_ALERT else text[: MAX_ALERT - 1] + "…"


async def _send(bot: Bot, chat_id: int, rendered: Rendered, document: Document | None) -> Message:
    if document is not None:
        await bot.send_document(
            chat_id,
            BufferedInputFile(document.content, filename=document.filename),
            protect_content=rendered.protect,
        )
    message: Message | None = None
    last = len(rendered.parts) - 1
    for index, part in enumerate(rendered.parts):
        message = await bot.send_message(
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=rendered.markup if index == last else None,
            protect_content=rendered.protect,
            link_preview_options=_NO_PREVIEW,
        )
    assert message is not None  # noqa: S101 - split_text never returns an empty list
    return message


async def send_screen(
    bot: Bot, chat_id: int, screen: Screen, language: str, translator: Translator
) -> Message:
    """Send a screen as a new message (also how notifications reach a patient on Telegram)."""
    rendered = render_screen(screen, language, translator)
    return await _send(bot, chat_id, rendered, screen.document)


def _editable(message: Message, rendered: Rendered, screen: Screen) -> bool:
    if len(rendered.parts) != 1 or screen.document is not None:
        return False
    # Protection is set when a message is sent and cannot be changed by an edit: a screen is
    # edited only into a message protected as it should be (issue 15: a sensitive screen goes
    # out as a new message from an unprotected one, and so does any other screen from a
    # protected one, so only sensitive screens are protected).
    return rendered.protect == bool(message.has_protected_content)


async def show_screen(
    bot: Bot,
    chat_id: int,
    screen: Screen,
    language: str,
    translator: Translator,
    *,
    replace: Message | None = None,
) -> Message:
    """Edit `replace` into the screen (a tap on one of its buttons), else send a new message.

    An edit Telegram refuses (the message is too old, deleted, or not modified) falls back to
    a new message: the patient always gets the screen.
    """
    rendered = render_screen(screen, language, translator)
    if replace is not None and _editable(replace, rendered, screen):
        try:
            edited = await bot.edit_message_text(
                text=rendered.parts[0],
                chat_id=replace.chat.id,
                message_id=replace.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.markup,
                link_preview_options=_NO_PREVIEW,
            )
        except TelegramBadRequest as exc:
            log.info("edit refused, sending a new message", reason=exc.message)
        else:
            return edited if isinstance(edited, Message) else replace
    return await _send(bot, chat_id, rendered, screen.document)
