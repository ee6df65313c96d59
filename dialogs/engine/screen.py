"""What a dialog state shows: channel-neutral, rendered by each channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialogs.engine.text import Text, Verbatim


class InputKind(StrEnum):
    """The free input a screen accepts besides its options."""

    NONE = "none"
    TEXT = "text"
    IIN = "iin"
    CODE = "code"
    DATE = "date"
    PHONE = "phone"
    ADDRESS = "address"


class OptionRole(StrEnum):
    ITEM = "item"  # a choice of the dialog (a doctor, a time)
    ACTION = "action"  # confirm, cancel, refresh …
    NAV = "nav"  # back, main menu, language, operator: added by the engine


@dataclass(frozen=True, slots=True)
class Option:
    id: str  # stable ASCII id, short: it goes into Telegram CallbackData and the SMS map
    label: Text | Verbatim
    role: OptionRole = OptionRole.ITEM


@dataclass(frozen=True, slots=True)
class Document:
    """A file to deliver with the screen (signed certificates, a later issue)."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class Screen:
    state: str
    body: tuple[Text, ...]
    options: tuple[Option, ...] = ()
    expects: InputKind = InputKind.NONE
    notice: Text | None = None  # a result or a refusal shown above the body
    error: Text | None = None  # what was wrong with the last input, shown above the body
    sensitive: bool = False  # medical data: Telegram protect_content, SMS kept short
    document: Document | None = None
    seq: int = 0  # the conversation's screen counter: stale buttons carry an older one
    columns: int = 1  # a layout hint for button channels (times in rows of 3)
    language: str = "kk"  # the language to show it in (after any switch made in this step)
    stale: bool = False  # the answer to a tap on an old screen: show it anew, don't edit
    # A stale tap on the screen this one just replaced (a double tap): the patient already
    # sees it, with these very options; a channel that shows screens in place sends nothing.
    repeat: bool = False

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)
