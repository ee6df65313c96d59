"""The labelled evaluation of the emergency recogniser (S12, R-38: 103, never a home visit).

`tests/data/emergency_eval.tsv` (tuned on) and `tests/data/emergency_holdout.tsv` (written
apart and not tuned on) hold kk/ru/en phrases labelled emergency or ordinary. The goals of
issue 10: recall ≥ 0.97 on emergencies, ≤ 5 % false positives on ordinary phrases. Run with
`-s` to see the figures per language and the misses.

`tests/data/emergency_blind.tsv` and `tests/data/emergency_blind2.tsv` were written blind (before
reading the word lists, and before measuring the changes made for the first one); each records
its first-run figures in its header, the honest measure on unseen phrases. The lists were
improved after those runs (general stems and rules only), so the goals are asserted on them as
seen sets, and the first-run figures are printed beside the current ones. `emergency_blind5.tsv`
(session 4) is one more such set.

`tests/data/emergency_blind6.tsv` was written blind too and measured once at the end of session 4
(recall 0.962); its three misses were then fixed by general rules, so it is a seen set now.
`emergency_blind7.tsv` (round 2) was written blind, measured once before any change (recall 0.987,
false positives 0.056) and tuned on.

`tests/data/emergency_blind8.tsv` was written together with set 7, before reading the lists, and
measured once after the last change of round 2; the lists were not tuned on it. It is the honest
estimate on unseen phrases: its figures are printed, and only the floor it honestly reached is
asserted (below the goals).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialogs.emergency import CATEGORIES, looks_like_emergency

DATA = Path(__file__).parent.parent / "data"
LANGUAGES = ("kk", "ru", "en")
LABELS = ("emergency", "ordinary")
RECALL_GOAL = 0.97
FALSE_POSITIVE_GOAL = 0.05


@dataclass(frozen=True)
class Row:
    phrase: str
    language: str
    label: str
    category: str


def _rows(name: str) -> list[Row]:
    rows = []
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        for fields in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not fields or fields[0].startswith("#"):
                continue
            assert len(fields) == 4, fields
            row = Row(*fields)
            assert row.language in LANGUAGES, row
            assert row.label in LABELS, row
            if row.label == "emergency":
                assert row.category in CATEGORIES, row
            rows.append(row)
    return rows


def _report(name: str) -> tuple[float, float]:
    rows = _rows(name)
    hits: Counter[tuple[str, str]] = Counter()
    totals: Counter[tuple[str, str]] = Counter()
    misses = []
    for row in rows:
        flagged = looks_like_emergency(row.phrase)
        for language in (row.language, "all"):
            totals[language, row.label] += 1
            hits[language, row.label] += flagged
        if flagged != (row.label == "emergency"):
            misses.append(row)
    lines = [f"{name}: {len(rows)} phrases"]
    for language in (*LANGUAGES, "all"):
        emergencies = totals[language, "emergency"]
        ordinary = totals[language, "ordinary"]
        recall = hits[language, "emergency"] / emergencies if emergencies else 1.0
        false_pos = hits[language, "ordinary"] / ordinary if ordinary else 0.0
        lines.append(
            f"  {language:>3}: recall {recall:.3f} ({emergencies} emergencies), "
            f"false positives {false_pos:.3f} ({ordinary} ordinary)"
        )
    for row in misses:
        kind = "missed" if row.label == "emergency" else "false alarm"
        lines.append(f"  {kind}: [{row.language}/{row.category}] {row.phrase}")
    print("\n" + "\n".join(lines))  # noqa: T201 - the figures are the point of this test
    recall = hits["all", "emergency"] / totals["all", "emergency"]
    false_pos = hits["all", "ordinary"] / totals["all", "ordinary"]
    return recall, false_pos


def test_the_evaluation_set_is_large_and_covers_every_kind_in_every_language() -> None:
    rows = _rows("emergency_eval.tsv")
    assert len(rows) >= 200
    emergencies = [r for r in rows if r.label == "emergency"]
    assert len(emergencies) >= 0.45 * len(rows)
    covered = {(r.category, r.language) for r in emergencies}
    missing = {(c, lang) for c in CATEGORIES if c != "general" for lang in LANGUAGES} - covered
    assert not missing
    assert len({r.phrase for r in rows}) == len(rows), "a phrase is listed twice"


SETS = (
    "emergency_eval.tsv",
    "emergency_holdout.tsv",
    "emergency_blind.tsv",
    "emergency_blind2.tsv",
    "emergency_blind5.tsv",
    "emergency_blind6.tsv",  # measured once at 0.962 (session 4), then its misses were fixed
    "emergency_blind7.tsv",
)
UNTUNED = "emergency_blind8.tsv"  # never tuned on: a floor, not the goals
UNTUNED_RECALL_FLOOR = 0.95  # measured once: 0.975 (kk 0.951, ru 1.0, en 1.0), FP 0.038
BLIND = {  # the least phrases of each
    "emergency_blind.tsv": 240,
    "emergency_blind2.tsv": 120,
    "emergency_blind5.tsv": 240,
    "emergency_blind6.tsv": 100,
    "emergency_blind7.tsv": 240,
    UNTUNED: 120,
}


@pytest.mark.parametrize("name", SETS)
def test_recall_and_false_positives_meet_the_goals(name: str) -> None:
    recall, false_pos = _report(name)
    assert recall >= RECALL_GOAL
    assert false_pos <= FALSE_POSITIVE_GOAL


def test_the_untuned_blind_set_stays_above_its_honest_floor() -> None:
    recall, false_pos = _report(UNTUNED)
    assert recall >= UNTUNED_RECALL_FLOOR
    assert false_pos <= FALSE_POSITIVE_GOAL


def test_false_positives_over_every_negative_set_stay_within_the_goal() -> None:
    ordinary = [r for name in SETS for r in _rows(name) if r.label == "ordinary"]
    alarms = [r.phrase for r in ordinary if looks_like_emergency(r.phrase)]
    assert len(alarms) <= FALSE_POSITIVE_GOAL * len(ordinary), alarms


def _first_run(name: str) -> list[str]:
    """The header lines that record the set's first, blind run (written when it was measured)."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    at = next(
        i for i, line in enumerate(lines) if line.startswith(("# First run", "# Measured once"))
    )
    return [line.lstrip("# ").rstrip() for line in lines[at : at + 5]]


@pytest.mark.parametrize("name", sorted(BLIND))
def test_a_blind_set_is_balanced_covers_every_kind_and_keeps_its_first_run(name: str) -> None:
    rows = _rows(name)
    assert len(rows) >= BLIND[name]
    emergencies = [r for r in rows if r.label == "emergency"]
    assert 0.5 <= len(emergencies) / len(rows) <= 0.7
    kinds = {r.category for r in emergencies}
    assert kinds >= set(CATEGORIES) - {"general"}
    assert Counter(r.language for r in rows)["kk"] >= len(rows) / 3  # much Kazakh
    first = _first_run(name)
    assert any(line.strip().startswith("all: recall") for line in first), first
    print(f"\n{name}: first run (blind)\n  " + "\n  ".join(first))  # noqa: T201 - the honest figures


# Kazakh as phones type it: on a Russian keyboard (ә→а, қ→к …) or in Latin letters the way
# people spell by ear (ғ→gh, ң→n, ы→y, ж→zh, і→i). Same phrases, same labels.
_RUSSIAN_KEYBOARD = str.maketrans("әөүұқғңһіӘӨҮҰҚҒҢҺІ", "аоуукгнхиАОУУКГНХИ")
_PHONE_LATIN = {
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
    **{"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ю": "yu", "я": "ya"},
    **{"ё": "yo", "ъ": "", "ь": "", "ә": "a", "ө": "o", "ү": "u", "ұ": "u", "қ": "q", "ғ": "gh"},
    **{"ң": "n", "һ": "h", "і": "i"},
}


def _phone_latin(text: str) -> str:
    return "".join(_PHONE_LATIN.get(ch, _PHONE_LATIN.get(ch.lower(), ch)) for ch in text)


@pytest.mark.parametrize(
    "typed",
    [lambda text: text.translate(_RUSSIAN_KEYBOARD), _phone_latin],
    ids=["russian-keyboard", "latin"],
)
def test_kazakh_typed_on_a_russian_keyboard_or_in_latin_meets_the_goals(
    typed: Callable[[str], str],
) -> None:
    rows = [r for name in SETS for r in _rows(name) if r.language == "kk"]
    emergencies = [typed(r.phrase) for r in rows if r.label == "emergency"]
    ordinary = [typed(r.phrase) for r in rows if r.label == "ordinary"]
    missed = [text for text in emergencies if not looks_like_emergency(text)]
    alarms = [text for text in ordinary if looks_like_emergency(text)]
    assert len(missed) <= (1 - RECALL_GOAL) * len(emergencies), missed
    assert len(alarms) <= FALSE_POSITIVE_GOAL * len(ordinary), alarms
