"""Emergencies recognised as patients write them (S12, R-38: call 103, never a queued home visit).

`looks_like_emergency` reads one typed message and says whether it names an emergency sign;
`assess` also says which kinds (chest pain, breathing, stroke …). The words are data the clinic
side can review, one file per language beside this module (`kk.txt`, `ru.txt`, `en.txt`); how
the words combine (a symptom with a site, a severity, an age) is `recogniser.py`.
"""

from __future__ import annotations

from dialogs.emergency.recogniser import (
    CATEGORIES,
    Assessment,
    Lexicon,
    LexiconError,
    assess,
    load_lexicon,
    looks_like_emergency,
    normalize,
)

__all__ = [
    "CATEGORIES",
    "Assessment",
    "Lexicon",
    "LexiconError",
    "assess",
    "load_lexicon",
    "looks_like_emergency",
    "normalize",
]
