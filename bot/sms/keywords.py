"""SMS keywords in Kazakh, Russian and English, matched case- and layout-insensitively.

A keyword is the whole message (trimmed, trailing punctuation ignored). The same word is found
when it was typed

- in any case (``stop``, ``Stop``);
- on the other keyboard layout (``СТОП`` typed on a Latin layout is ``CNJG``; ``STOP`` typed on
  a Cyrillic one is ``ЫЕЩЗ``; Kazakh letters sit on the digit row: ``ТОҚТА`` is ``nj0nf``);
- without Kazakh letters (``ТОКТА``, ``КОМЕК``, ``МАЗИР``) or with look-alike letters of the
  other alphabet mixed in (``MЕНЮ`` with a Latin M).

The bare word CANCEL is a keyword of its own: it never reaches the dialogs, so it can never
cancel an appointment (that needs the numbered confirmation), and it is also a carrier opt-out
word (domain/anchors.md §4.3).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    MENU = "menu"
    OPERATOR = "operator"
    CANCEL = "cancel"
    CONFIRM = "confirm"  # the answer to an appointment reminder (issue 11)
    KK = "kk"
    RU = "ru"
    EN = "en"


LANGUAGE_KEYWORDS = {Keyword.KK: "kk", Keyword.RU: "ru", Keyword.EN: "en"}

_SPELLINGS: dict[Keyword, tuple[str, ...]] = {
    # Twilio's own opt-out words too (STOPALL, UNSUBSCRIBE, END, QUIT, REVOKE, OPTOUT).
    Keyword.STOP: (
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "OPTOUT",
        "END",
        "QUIT",
        "REVOKE",
        "СТОП",
        "ТОҚТА",
        "ТОҚТАТУ",
    ),
    Keyword.START: ("START", "UNSTOP", "СТАРТ", "БАСТАУ"),
    Keyword.HELP: ("HELP", "INFO", "КӨМЕК", "ПОМОЩЬ", "ПОМОГИТЕ", "СПРАВКА"),
    Keyword.MENU: ("MENU", "МӘЗІР", "МЕНЮ"),
    Keyword.OPERATOR: ("OPERATOR", "ОПЕРАТОР", "1414"),
    Keyword.CANCEL: ("CANCEL", "ОТМЕНА", "ОТМЕНИТЬ", "БОЛДЫРМАУ", "БАС ТАРТУ"),
    # Not a button label in any language (a typed label never acts: "Растау" is one).
    Keyword.CONFIRM: ("OK", "ОК", "OKAY"),
    Keyword.KK: ("KZ", "KK", "KAZ", "ҚАЗ", "ҚАЗАҚША", "КАЗАХСКИЙ"),
    Keyword.RU: ("RU", "RUS", "РУ", "РУС", "РУССКИЙ", "ОРЫСША"),
    Keyword.EN: ("EN", "ENG", "ENGLISH", "АНГЛ", "АҒЫЛШЫНША", "АНГЛИЙСКИЙ"),
}

_LATIN = "`qwertyuiop[]asdfghjkl;'zxcvbnm,."
_CYRILLIC = "ёйцукенгшщзхъфывапролджэячсмитьбю"
# The Kazakh layout puts its own letters on the digit row (KZ standard layout).
_KAZAKH_DIGITS = {
    "2": "ә",
    "3": "і",
    "4": "ң",
    "5": "ғ",
    "8": "ү",
    "9": "ұ",
    "0": "қ",
    "-": "ө",
    "=": "һ",
}
_LAT_TO_CYR = dict(zip(_LATIN, _CYRILLIC, strict=True))
_CYR_TO_LAT = dict(zip(_CYRILLIC, _LATIN, strict=True))
_CYR_TO_LAT.update({v: k for k, v in _KAZAKH_DIGITS.items()})
# Kazakh letters typed with their Russian neighbours (a phone without the Kazakh keyboard).
_KAZAKH_PLAIN = str.maketrans("әғқңөұүһіё", "агкноууиие")
# Letters that look alike in Latin and Cyrillic, folded to one skeleton.
_LOOKALIKE = str.maketrans("авекмнорстухіѕ", "abekmhopctyxis")
_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = " .,!?;:\"'«»()-"


def normalize(text: str) -> str:
    """Trimmed, case-folded, single-spaced, without surrounding punctuation."""
    return _SPACES.sub(" ", text.strip().casefold()).strip(_EDGE_PUNCTUATION)


def _skeleton(text: str) -> str:
    return text.translate(_KAZAKH_PLAIN).translate(_LOOKALIKE)


def _lat_to_cyr(text: str) -> str:
    has_letters = any(ch.isascii() and ch.isalpha() for ch in text)
    out = []
    for ch in text:
        if has_letters and ch in _KAZAKH_DIGITS:
            out.append(_KAZAKH_DIGITS[ch])
        else:
            out.append(_LAT_TO_CYR.get(ch, ch))
    return "".join(out)


def _cyr_to_lat(text: str) -> str:
    return "".join(_CYR_TO_LAT.get(ch, ch) for ch in text)


def _forms(text: str) -> set[str]:
    # The layouts are swapped before punctuation is trimmed: on the other layout ".,;'[]`"
    # are letters (МЕНЮ typed on a Latin layout is "vty.").
    raw = _SPACES.sub(" ", text.strip().casefold())
    forms = (raw, _lat_to_cyr(raw), _cyr_to_lat(raw))
    return {_skeleton(normalize(form)) for form in forms if normalize(form)}


_INDEX: dict[str, Keyword] = {}
for _keyword, _words in _SPELLINGS.items():
    for _word in _words:
        _key = _skeleton(normalize(_word))
        if _INDEX.setdefault(_key, _keyword) is not _keyword:  # pragma: no cover - a typo here
            raise ValueError(f"keyword spelling {_word!r} is ambiguous")


def match_keyword(text: str) -> Keyword | None:
    """The keyword the whole message is, or None."""
    if len(text) > 40:
        return None
    word = normalize(text)
    if not word:
        return None
    direct = _INDEX.get(_skeleton(word))
    if direct is not None:  # the message as typed wins over a layout reading of it
        return direct
    for form in _forms(text):
        found = _INDEX.get(form)
        if found is not None:
            return found
    return None


# Issue 15: a greeting in a recognisable language is answered in that language (the first
# word, Cyrillic or Latin, however it is typed; Kazakh letters may be plain Russian ones).
_GREETINGS: dict[str, tuple[str, ...]] = {
    "kk": (
        "сәлем",
        "салем",
        "сәлеметсіз",
        "салеметсиз",
        "салеметсіз",
        "сәлеметсіз бе",
        "салем",
        "salem",
        "salemetsiz",
        "ассалаумағалейкум",
        "ассалаумагалейкум",
    ),
    "ru": (
        "привет",
        "здравствуйте",
        "здравствуй",
        "здрасте",
        "добрый день",
        "доброе утро",
        "добрый вечер",
        "privet",
        "zdravstvuyte",
        "zdravstvuite",
    ),
    "en": ("hello", "hi", "hey", "good morning", "good afternoon", "good evening"),
}
_GREETING_INDEX = {
    _skeleton(normalize(word)): code for code, words in _GREETINGS.items() for word in words
}


def greeting_language(text: str) -> str | None:
    """The language of a message that is only a greeting ("Привет!", "Hello", "Salem"), or None."""
    if len(text) > 40:
        return None
    word = normalize(text)
    if not word:
        return None
    return _GREETING_INDEX.get(_skeleton(word))


def spellings(keyword: Keyword) -> tuple[str, ...]:
    return _SPELLINGS[keyword]


# Issue 13: «CHECK <code>» / «ТЕКСЕРУ <code>» / «ПРОВЕРКА <code>» verifies a document from any
# phone, without sign-in. The keyword starts the message; the rest is the code as typed.
_CHECK = re.compile(r"^\s*(check|verify|тексеру|проверка|проверить)\b[\s:#.,-]*(.*)$", re.I | re.S)
_CHECK_PLAIN = {"check", "verify", "тексеру", "проверка", "проверить"}


def match_check(text: str) -> str | None:
    """The code part of a CHECK message ('' when the code is missing), or None."""
    if len(text) > 60:
        return None
    found = _CHECK.match(text.casefold().translate(_KAZAKH_PLAIN))
    if found is None or found.group(1) not in _CHECK_PLAIN:
        return None
    return found.group(2).strip()
