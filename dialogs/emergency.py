"""Emergency words: a home visit is never queued for an emergency (S12, R-38: call 103).

A small kk/ru/en list, matched on normalised text (case, «ё», punctuation and extra spaces do
not matter). Each keyword is a short phrase of word stems: every stem must begin one word of
the text, in order and with no word in between, so «кеудем ауырады» matches «кеуде ауыр» and
«потеряла сознание» matches «потерял сознан». It errs on the side of 103: a false alarm costs
the patient a rephrase, a missed one may cost a life.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_KAZAKH = (
    "кеуде ауыр", "кеуде қатты ауыр", "кеуде қыс", "жүрек ауыр", "жүрегі ауыр",
    "жүрегім ауыр", "инфаркт", "тыныс ала алмай", "тыныс алмай", "тыныс алуы қиын",
    "дем ала алмай", "демала алмай", "тұншығ", "есінен тан", "есін жоғалт", "есін білмей",
    "талып қал", "қан кетіп", "қан кету", "қан тоқтамай", "инсульт", "беті қисай",
    "бет қисай", "сөйлей алмай", "тілі күрмел", "қолы әлсіре", "талма", "тырысу",
    "ұстама", "анафилак", "аллергиялық шок", "тамағы ісі",
)  # fmt: skip
_RUSSIAN = (
    "боль в груд", "боли в груд", "болит груд", "грудь болит", "давит в груд",
    "сердечный приступ", "инфаркт", "не дыш", "не может дыш", "не могу дыш", "трудно дыш",
    "тяжело дыш", "задыха", "удушь", "без сознан", "потерял сознан", "потеряла сознан",
    "теряет сознан", "обморок", "сильное кровотеч", "сильно кровоточ",
    "кровотечение не останавл", "кровь не останавл", "истекает кровью", "инсульт",
    "перекосил", "онемел", "невнятн", "речь нарушен", "судорог", "припад", "анафилак",
    "отек квинке", "отек горла", "сильная аллерг", "передозир",
)  # fmt: skip
_ENGLISH = (
    "chest pain", "chest hurt", "pain in the chest", "pain in my chest", "heart attack",
    "not breathing", "cant breathe", "cannot breathe", "can not breathe", "unable to breathe",
    "trouble breathing", "difficulty breathing", "struggling to breathe", "choking",
    "unconscious", "unresponsive", "fainted", "passed out", "heavy bleeding",
    "severe bleeding", "bleeding heavily", "wont stop bleeding", "stroke", "face droop",
    "drooping face", "slurred speech", "speech is slurred", "arm weakness", "seizure",
    "convuls", "anaphyla", "severe allergic", "throat swelling", "swollen throat", "overdose",
)  # fmt: skip

_APOSTROPHES = str.maketrans("", "", "'’`ʼ")
_WORD = re.compile(r"[^\W_]+")


def normalize(text: str) -> tuple[str, ...]:
    """The words of the text: casefolded, «ё» as «е», apostrophes dropped (can't → cant)."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return tuple(_WORD.findall(folded.translate(_APOSTROPHES)))


KEYWORDS: tuple[tuple[str, ...], ...] = tuple(
    normalize(phrase) for phrase in (*_KAZAKH, *_RUSSIAN, *_ENGLISH)
)


def _occurs(words: Sequence[str], stems: Sequence[str]) -> bool:
    span = len(stems)
    return any(
        all(words[start + i].startswith(stem) for i, stem in enumerate(stems))
        for start in range(len(words) - span + 1)
    )


def looks_like_emergency(text: str) -> bool:
    """True when the text names an emergency sign (chest pain, not breathing, stroke …)."""
    words = normalize(text)
    return any(_occurs(words, stems) for stems in KEYWORDS)
