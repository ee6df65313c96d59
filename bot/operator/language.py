"""The console's language and words: kk, ru or en, from the gettext domain `console`.

Console strings are marked with `C_` (and only with it): `make update-locales` extracts them
into `locales/console.pot`, never into the patient catalog `messages`. The language is
`?lang=` when it names one of ours, else the best of `Accept-Language`, else Russian.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter

from bot.i18n import LANGUAGES, Translator
from bot.logs import get_logger

log = get_logger("bot.operator")

DEFAULT_LANGUAGE = "ru"


def C_(message: str) -> str:
    """Mark a console string for extraction (domain `console`); it is translated when shown."""
    return message


def weights(header: str | None) -> list[tuple[str, float]]:
    """The items of an `Accept` or `Accept-Language` header with their q-values, in order."""
    items: list[tuple[str, float]] = []
    for part in (header or "").split(",")[:32]:
        name, *params = (piece.strip() for piece in part.split(";"))
        if not name:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        items.append((name.lower(), quality))
    return items


def choose_language(asked: str | None, accept_language: str | None) -> str:
    """`?lang=` when it is one of ours, else the preferred of ours in `Accept-Language`."""
    if asked is not None and asked.strip().lower() in LANGUAGES:
        return asked.strip().lower()
    best, best_quality = DEFAULT_LANGUAGE, 0.0
    for tag, quality in weights(accept_language):
        language = tag.split("-", 1)[0]
        if language in LANGUAGES and quality > best_quality:
            best, best_quality = language, quality
    return best


class _Keep(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Words:
    """The console's strings in one language: `words("Found: {count}", count=3)`."""

    translator: Translator
    language: str

    def __call__(self, msgid: str, **params: object) -> str:
        template = self.translator.gettext(self.language, msgid)
        if not params:
            return template
        try:
            return Formatter().vformat(template, (), _Keep(params))
        except (ValueError, IndexError, AttributeError):  # a broken translation: the source
            log.error("bad console translation", msgid=msgid, language=self.language)
            return Formatter().vformat(msgid, (), _Keep(params))
