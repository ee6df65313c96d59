"""The console's language and words: kk, ru or en, from the gettext domain `console`.

Console strings are marked with `C_` (and only with it): `make update-locales` extracts them
into `locales/console.pot`, never into the patient catalog `messages`. The language is
`?lang=` when it names one of ours, else the best of `Accept-Language`, else Russian.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import LANGUAGES, Translator
from dialogs.engine.text import T

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


@dataclass(frozen=True)
class Words:
    """The console's strings in one language: `words("Found: {count}", count=3)`."""

    translator: Translator
    language: str

    def __call__(self, msgid: str, **params: str | int) -> str:
        # The translator's own formatting: an unknown or broken placeholder in a translation
        # falls back to the source text, as for the patients' messages.
        return self.translator.render(T(msgid, **params), self.language)
