"""A `Screen` as SMS text: numbered options, paged to the segment budget (issue 5).

The only code that knows how a screen looks by SMS. One screen becomes one or more *pages*;
each page is one reply:

    {notice}
    {error}
    {body…}
    1 {option}
    2 {option}
    9 more            (only when another page follows)
    0 back, 00 menu   (only when it costs no extra segment)

- The dialog's items and actions are numbered 1..9 per page; with more than fit on one page,
  at most 8 per page and "9" for the next page. A page of such a paged list ends after its
  first segment when a second segment would not even double the options it shows (the same
  cost per option, a cheaper first reply: 5 days or 4 times in one segment, not 8 in two).
  The engine's navigation is not numbered: "0" is back, "00" the main menu, and language
  and operator are keywords (KZ/RU/EN, OPERATOR/1414).
- Every page fits the budget (2 segments by default), counted exactly (bot.sms.segments). A
  body too long for one page is continued on the next; such a screen is marked `overflow`, and
  its messages need a shorter `pgettext("sms", …)` variant in the catalogs.
- The patient's own typing shown back (`Verbatim(…, echo=True)`: an address, a reason) is cut
  short, at a word and with "…", when the screen would not fit one reply otherwise; nothing
  else is ever shortened (an operator's reply is paged whole).
- A card too long for one reply whose options are all actions (an application's details)
  shows the actions on the first reply after as much of the card as fits; the rest follows
  on "9 more" (issue 15: «Cancel» within reach).
- Lines the dialog marks `omissible` (shown a step before: the confirmation's details on the
  result screen, the clinic named at the specialty step) are left out (issue 15).
- Text is translated with the "sms" context (a catalog's short variant wins) and the short
  date style ("25.11 09:20"). Typographic punctuation is folded to GSM-7 when that makes the
  whole page GSM-7 (English), as Twilio's Smart Encoding would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.i18n import Translator
from bot.sms import texts
from bot.sms.keywords import normalize
from bot.sms.segments import gsm7_or_original, segments
from dialogs.engine.engine import NAV_BACK, NAV_MENU
from dialogs.engine.screen import OptionRole, Screen
from dialogs.engine.text import Text, Verbatim
from dialogs.journeys.common import BOOK_ASK, BOOK_LABEL

SMS_CONTEXT = "sms"
MAX_SEGMENTS = 2
MORE_NUMBER = "9"
BACK_NUMBER = "0"
MENU_NUMBER = "00"
MAX_SINGLE_PAGE_OPTIONS = 9
MAX_PAGED_OPTIONS = 8
TYPED = "typed:"  # a label that stands for typed text the dialog reads (Rendering.labels)


@dataclass
class Page:
    text: str
    numbers: dict[str, str] = field(default_factory=dict)  # "1" -> option id


@dataclass
class Rendering:
    """A screen as SMS pages, and what the parser needs to read the answer to it."""

    state: str
    seq: int
    language: str
    expects: str
    pages: list[Page]
    labels: dict[str, str] = field(default_factory=dict)  # normalised label -> option id
    back: bool = False
    menu: bool = False
    overflow: bool = False  # the body did not fit the first page

    @property
    def option_count(self) -> int:
        return sum(len(p.numbers) for p in self.pages)


# How short the patient's own typing (Verbatim echoes: an address, a reason) may become when a
# screen that shows it back would not fit one reply: tried longest first.
ECHO_LIMITS = (60, 40, 28, 20, 14)
ELLIPSIS = "…"  # folded to "..." on a GSM-7 page


def _clip_echoes(item: Text | Verbatim, limit: int) -> Text | Verbatim:
    """`item` with every echo longer than `limit` characters cut at a word and marked "…"."""
    if isinstance(item, Verbatim):
        if not item.echo or len(item.text) <= limit:
            return item
        cut = item.text[: limit - 1]
        if " " in cut[limit // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        return Verbatim(cut.rstrip(" ,.;:-") + ELLIPSIS, echo=True)
    params = {
        name: _clip_echoes(value, limit) if isinstance(value, Text | Verbatim) else value
        for name, value in item.params.items()
    }
    return item if params == dict(item.params) else Text(item.msgid, MappingProxyType(params))


def _kept(body: Sequence[Text]) -> list[Text | Verbatim]:
    return [t for t in body if not t.omissible]


def fits(text: str, budget: int = MAX_SEGMENTS) -> bool:
    return segments(gsm7_or_original(text)) <= budget


def _split_words(text: str, tail: str, budget: int) -> list[str]:
    """A paragraph too long for a page, cut at spaces into pieces that fit followed by `tail`."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and not fits(f"{trial}\n{tail}", budget):
            pieces.append(current)
            current = word
        else:
            current = trial
    if current:
        pieces.append(current)
    return pieces


class SmsRenderer:
    def __init__(self, translator: Translator, *, max_segments: int = MAX_SEGMENTS) -> None:
        self.translator = translator
        self.budget = max_segments

    def text(self, item: Text | Verbatim, language: str) -> str:
        rendered = self.translator.render(item, language, style="short", context=SMS_CONTEXT)
        return " ".join(rendered.split())  # one line per text: the numbering stays readable

    def notice(self, items: Sequence[Text], language: str, *, back: bool = False) -> str:
        """Channel-level words on their own (STOP confirmed, another phone's ИИН), with the
        navigation footer when `back` (and when it costs nothing)."""
        lines = [self.text(item, language) for item in items]
        text = "\n".join(line for line in lines if line)
        if back:
            footer = self._footer(back=True, menu=True, language=language)
            text = self._with_footer(text, footer or "")
        return gsm7_or_original(text)

    def render(self, screen: Screen, language: str, *, preface: Sequence[Text] = ()) -> Rendering:
        head_items: list[Text | Verbatim] = list(preface)
        head_items += [t for t in (screen.notice, screen.error) if t is not None]
        # Issue 15, fewer segments: lines the dialog marks omissible are not repeated by SMS.
        head_items += _kept(screen.body)
        if screen.document is not None:
            head_items.append(texts.NO_DOCUMENT)
        choices = [o for o in screen.options if o.role is not OptionRole.NAV]
        labels = [self.text(o.label, language) for o in choices]
        ids = [o.id for o in choices]
        back = NAV_BACK in screen.option_ids
        menu = NAV_MENU in screen.option_ids

        header = [line for line in (self.text(t, language) for t in head_items) if line]
        pages, overflow = self._pages(header, ids, labels, language)
        if ids and (screen.error is not None or screen.notice is not None):
            head_items, header, pages = self._keep_options_on_page(
                screen,
                preface,
                current=(head_items, header, pages),
                ids=ids,
                labels=labels,
                language=language,
            )
        for limit in ECHO_LIMITS:  # the patient's own long typing, shortened until one reply
            if len(pages) == 1:
                break
            clipped = [_clip_echoes(item, limit) for item in head_items]
            if clipped == head_items:
                break  # nothing typed by the patient to shorten
            header = [line for line in (self.text(t, language) for t in clipped) if line]
            pages, overflow = self._pages(header, ids, labels, language)
        if len(pages) > 1 and choices and all(o.role is OptionRole.ACTION for o in choices):
            pages = self._actions_first(header, ids, labels, language) or pages
        footer = self._footer(back, menu, language)
        if footer:
            for index, page in enumerate(pages):
                # Issue 15, a way on from every screen: a last page with no numbered option
                # (the 1414 screen) always says how to go on, even at the cost of a segment.
                way_on = index == len(pages) - 1 and not page.numbers
                page.text = self._with_footer(page.text, footer, way_on=way_on, language=language)
        for page in pages:
            page.text = gsm7_or_original(page.text)

        matchable: dict[str, str | None] = {}
        for option in screen.options:
            if option.role is OptionRole.ACTION:  # confirmations only by their number
                continue
            key = normalize(self.text(option.label, language))
            if key:
                matchable[key] = None if key in matchable else option.id
        self._booking_words(screen, language, matchable)
        return Rendering(
            state=screen.state,
            seq=screen.seq,
            language=language,
            expects=screen.expects.value,
            pages=pages,
            labels={k: v for k, v in matchable.items() if v is not None},
            back=back,
            menu=menu,
            overflow=overflow,
        )

    def _booking_words(
        self, screen: Screen, language: str, matchable: dict[str, str | None]
    ) -> None:
        """Issue 15: a parent's menu says for whom booking is ("Жазылу: өзім", "Запись: Дана
        С."); the plain word for booking («жазылу», «запись», "book", or the single patient's
        label) still leads somewhere: to "for whom?" with everyone (dialogs/journeys/common.py).
        """
        booking = [o for o in screen.options if o.id == "book" or o.id.startswith("book.")]
        if len(booking) < 2:
            return
        words = {
            normalize(self.text(BOOK_LABEL, language)),
            normalize(self.translator.render(BOOK_LABEL, language)),
        }
        firsts = {
            normalize(self.text(o.label, language).split(":")[0].split(" ")[0]) for o in booking
        }
        if len(firsts) == 1:  # the word the booking options begin with
            words |= firsts
        for word in words:
            if word and word not in matchable:
                matchable[word] = f"{TYPED}{BOOK_ASK}"

    def _keep_options_on_page(
        self,
        screen: Screen,
        preface: Sequence[Text],
        *,
        current: tuple[list[Text | Verbatim], list[str], list[Page]],
        ids: list[str],
        labels: list[str],
        language: str,
    ) -> tuple[list[Text | Verbatim], list[str], list[Page]]:
        """Issue 15, the page trap: a hint (or a notice) must not push the options off the page
        the patient sees, or the numbers that were valid stop working. The first page keeps
        exactly the options the screen shows without the hint; the hint stands in for the
        screen's own words when both do not fit (then the notice goes, then the preface); a
        notice alone (what has happened) is never dropped; when not even a hint fits, the
        screen is shown as it was."""
        head_items, header, pages = current
        body = _kept(screen.body)
        plain_header = [
            line for line in (self.text(t, language) for t in [*preface, *body]) if line
        ]
        plain, _ = self._pages(plain_header, ids, labels, language)
        first = plain[0]
        if not first.numbers or pages[0].numbers == first.numbers:
            return head_items, header, pages
        label_of = dict(zip(ids, labels, strict=True))
        options = [f"{number} {label_of[oid]}" for number, oid in first.numbers.items()]
        if len(plain) > 1:
            options.append(f"{MORE_NUMBER} {self.text(texts.MORE, language)}")
        notice_error = [t for t in (screen.notice, screen.error) if t is not None]
        for hint_items in (
            head_items,
            [*preface, *notice_error],
            notice_error,
            notice_error[-1:],
        ):
            short = [line for line in (self.text(t, language) for t in hint_items) if line]
            text = "\n".join([*short, *options])
            if fits(text, self.budget):
                return list(hint_items), short, [Page(text, dict(first.numbers)), *plain[1:]]
        if screen.notice is not None and screen.error is None:
            # A notice says what has happened (a request taken, signed out, something failed):
            # a reply one segment over the budget is better than a patient never told. The
            # notices the dialogs use have SMS variants that fit (tests/sms/test_notices.py).
            short = [self.text(screen.notice, language)]
            text = "\n".join([*short, *options])
            if fits(text, self.budget + 1):
                return [screen.notice], short, [Page(text, dict(first.numbers)), *plain[1:]]
        return [*preface, *body], plain_header, plain

    def _actions_first(
        self, header: list[str], ids: list[str], labels: list[str], language: str
    ) -> list[Page] | None:
        """Issue 15: a card too long for one reply (an application's details) shows its
        actions (cancel, move, refresh) on the first reply, after as much of the card as fits;
        the rest of the card follows on "9 more". None when not even the first line fits."""
        more = f"{MORE_NUMBER} {self.text(texts.MORE, language)}"
        options = [f"{n} {label}" for n, label in enumerate(labels, 1)]
        shown: list[str] = []
        for line in header:
            if not fits("\n".join([*shown, line, *options, more]), self.budget):
                break
            shown.append(line)
        rest = header[len(shown) :]
        if not shown or not rest:
            return None
        numbers = {str(n): option_id for n, option_id in enumerate(ids, 1)}
        later, _ = self._pages(rest, [], [], language)
        return [Page("\n".join([*shown, *options, more]), numbers), *later]

    # --- layout --------------------------------------------------------------------------

    def _footer(self, back: bool, menu: bool, language: str) -> str | None:
        if back and menu:
            return self.text(texts.NAV_BACK_AND_MENU, language)
        if menu:
            return self.text(texts.NAV_MENU, language)
        if back:
            return self.text(texts.NAV_BACK, language)
        return None

    def _with_footer(
        self, text: str, footer: str, *, way_on: bool = False, language: str = ""
    ) -> str:
        """The footer only when it costs no extra segment (HELP explains 0 and 00 anyway), or,
        on a page that shows no other way on, whenever it fits the budget ("00 menu" at least).
        """
        if not text:
            return footer
        longer = f"{text}\n{footer}"
        cost = segments(gsm7_or_original(longer))
        free = cost <= max(segments(gsm7_or_original(text)), 1) and cost <= self.budget
        if free or (way_on and cost <= self.budget):
            return longer
        if way_on:
            menu_only = f"{text}\n{self.text(texts.NAV_MENU, language)}"
            if fits(menu_only, self.budget):
                return menu_only
        return text

    def _pages(
        self, header: list[str], ids: list[str], labels: list[str], language: str
    ) -> tuple[list[Page], bool]:
        lines = [*header, *(f"{n} {label}" for n, label in enumerate(labels, 1))]
        if len(ids) <= MAX_SINGLE_PAGE_OPTIONS and fits("\n".join(lines), self.budget):
            single = {str(n): option_id for n, option_id in enumerate(ids, 1)}
            return [Page("\n".join(lines), single)], False

        more = f"{MORE_NUMBER} {self.text(texts.MORE, language)}"
        pages: list[Page] = []
        current: list[str] = []
        numbers: dict[str, str] = {}

        def close(with_more: bool) -> None:
            nonlocal current, numbers
            pages.append(Page("\n".join([*current, more] if with_more else current), numbers))
            current, numbers = [], {}

        for block in header:
            chunks = [block]
            if not fits(f"{block}\n{more}", self.budget):
                chunks = _split_words(block, more, self.budget)
            for chunk in chunks:
                if current and not fits("\n".join([*current, chunk, more]), self.budget):
                    close(with_more=True)
                current.append(chunk)
        header_pages = len(pages) + (1 if current else 0)

        remaining = list(zip(ids, labels, strict=True))
        while remaining:
            take = self._page_capacity(current, remaining, more, self.budget)
            if take == 0 and current:  # the header filled this page: the options start on the next
                close(with_more=True)
                continue
            one = self._page_capacity(current, remaining, more, 1)
            if 0 < one < take < len(remaining) and 2 * one >= take:
                take = one  # a second segment would not even double what the first one shows
            take = max(take, 1)  # a label too long for any page still gets its own
            for option_id, label in remaining[:take]:
                current.append(f"{len(numbers) + 1} {label}")
                numbers[str(len(numbers) + 1)] = option_id
            remaining = remaining[take:]
            if remaining:
                close(with_more=True)
        if current or not pages:
            close(with_more=False)
        overflow = header_pages > 1 or (bool(ids) and not pages[0].numbers)
        return pages, overflow

    @staticmethod
    def _page_capacity(
        current: list[str], remaining: list[tuple[str, str]], more: str, budget: int
    ) -> int:
        """How many of the `remaining` options fit on the page begun with `current` lines
        (at most MAX_PAGED_OPTIONS), with the "9 more" line while others are left for later."""
        lines = list(current)
        count = 0
        for index, (_option_id, label) in enumerate(remaining[:MAX_PAGED_OPTIONS]):
            lines.append(f"{index + 1} {label}")
            tail = [more] if index + 1 < len(remaining) else []
            if not fits("\n".join([*lines, *tail]), budget):
                break
            count = index + 1
        return count
