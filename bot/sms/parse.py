"""An SMS body as what the patient meant (botbuilder's and Praekelt's order, STYLE.md §2.2):

1. a keyword, the whole message (STOP, HELP, MENU, OPERATOR, KZ/RU/EN, CANCEL …);
2. a number of the page last sent: "1".."9" an option, "9" the next page of a long list,
   "0" back, "00" the main menu;
3. the exact label of an item or navigation option ("Терапевт", "25.11", "09:20"), never of an
   action: a confirmation is given by its number only;
4. several numbers at once ("1 2 1"), taken one after another (menus only);
5. anything else is typed text (an ИИН, a code, an address) for the dialog.

A number out of range is typed text too: the dialog answers it with its own hint, and it counts
towards the three strikes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sms.keywords import Keyword, match_check, match_keyword, normalize
from bot.sms.render import BACK_NUMBER, MENU_NUMBER, MORE_NUMBER, TYPED
from bot.sms.state import SmsState
from dialogs.engine.engine import NAV_BACK
from dialogs.engine.events import Chose, Command, Event, Start, Typed
from dialogs.engine.screen import InputKind

MAX_SHORTCUT = 6


@dataclass(frozen=True, slots=True)
class ShowPage:
    """Send a page of the last screen again (the next one, or the same after an empty SMS)."""

    page: int


@dataclass(frozen=True, slots=True)
class KeywordSent:
    keyword: Keyword


@dataclass(frozen=True, slots=True)
class ToDialog:
    event: Event


@dataclass(frozen=True, slots=True)
class Shortcut:
    numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckSent:
    """CHECK <code>: verify a document (issue 13), from any phone, in any state."""

    code: str


Parsed = ShowPage | KeywordSent | ToDialog | Shortcut | CheckSent


def _ascii_number(text: str) -> str | None:
    word = normalize(text)
    return word if word.isascii() and word.isdigit() and len(word) <= 2 else None


def parse_number(text: str, state: SmsState) -> ShowPage | ToDialog | None:
    """A number of the current page, or None."""
    number = _ascii_number(text)
    if number is None:
        return None
    rendering = state.rendering
    page = state.current
    if number == MENU_NUMBER:
        return ToDialog(Command("menu"))
    if number == BACK_NUMBER:
        if rendering.back:
            return ToDialog(Chose(NAV_BACK, seq=rendering.seq))
        return ToDialog(Command("menu"))  # nowhere to go back to: the menu
    if number in page.numbers:
        return ToDialog(Chose(page.numbers[number], seq=rendering.seq))
    if not page.numbers:
        # A page of words only (a long hint, HELP): its numbers are those of the first page
        # that has options, so a number that was valid stays valid (issue 15, page trap).
        for other in rendering.pages:
            if other.numbers:
                if number in other.numbers:
                    return ToDialog(Chose(other.numbers[number], seq=rendering.seq))
                break
    if number == MORE_NUMBER and state.has_next:
        return ShowPage((state.page + 1) % len(rendering.pages))  # past the last: the first
    return None


def parse(body: str, state: SmsState | None) -> Parsed:
    text = body.strip()
    if not text:
        return ShowPage(state.page) if state is not None else ToDialog(Start())
    keyword = match_keyword(text)
    if keyword is not None:
        return KeywordSent(keyword)
    check = match_check(text)
    if check is not None:
        return CheckSent(check)
    if state is None:  # a first message (or one after a long silence): the dialog reads it
        return ToDialog(Typed(text))
    number = parse_number(text, state)
    if number is not None:
        return number
    option_id = state.rendering.labels.get(normalize(text))
    if option_id is not None and option_id.startswith(TYPED):  # a word the dialog reads
        return ToDialog(Typed(option_id.removeprefix(TYPED)))
    if option_id is not None:
        return ToDialog(Chose(option_id, seq=state.rendering.seq))
    tokens = tuple(text.split())
    if (
        1 < len(tokens) <= MAX_SHORTCUT
        and state.rendering.expects == InputKind.NONE.value
        and all(_ascii_number(t) is not None for t in tokens)
    ):
        return Shortcut(tokens)
    return ToDialog(Typed(text))
