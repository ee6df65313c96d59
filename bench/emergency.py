"""Messages per second through the emergency recogniser (it reads every typed message).

    .venv/bin/python -m bench.emergency [--rounds 5]

Reads the phrases of tests/data/emergency_eval.tsv (and a long home-visit reason) over and
over and prints the median time per message, first pass (nothing cached) and later passes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from dialogs.emergency import looks_like_emergency
from dialogs.emergency.recogniser import Recogniser, load_lexicon

EVAL = Path(__file__).parent.parent / "tests" / "data" / "emergency_eval.tsv"
LONG = "Қатты жөтел, дене қызуы 38,5, екі күннен бері басым ауырады, әлсіздік. " * 7


def _phrases() -> list[str]:
    lines = EVAL.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line and not line.startswith("#")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    phrases = [*_phrases(), LONG]

    start = time.perf_counter()
    Recogniser(load_lexicon())
    print(f"compile the word lists: {(time.perf_counter() - start) * 1000:.1f} ms")

    per_message = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for phrase in phrases:
            looks_like_emergency(phrase)
        per_message.append((time.perf_counter() - start) / len(phrases))
    print(f"first pass: {per_message[0] * 1000:.3f} ms per message")
    print(f"median of {args.rounds}: {statistics.median(per_message) * 1000:.3f} ms per message")
    print(f"long reason ({len(LONG)} chars): ", end="")
    start = time.perf_counter()
    looks_like_emergency(LONG + " ")
    print(f"{(time.perf_counter() - start) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
