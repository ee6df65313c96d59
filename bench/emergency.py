"""Messages per second through the emergency recogniser (it reads every typed message).

    .venv/bin/python -m bench.emergency [--rounds 5]

Reads the phrases of every labelled set in tests/data/emergency_*.tsv (and a long home-visit
reason) over and over and prints the median time per message, first pass (nothing cached) and
later passes, beside a baseline measured in the same run: `normalize` alone (tokenising and
folding the same messages, no word lists). The ratio is what the word lists and the rules cost;
the absolute figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dialogs.emergency import looks_like_emergency, normalize
from dialogs.emergency.recogniser import Recogniser, load_lexicon

DATA = Path(__file__).parent.parent / "tests" / "data"
LONG = "Қатты жөтел, дене қызуы 38,5, екі күннен бері басым ауырады, әлсіздік. " * 7


def _phrases() -> list[str]:
    phrases = []
    for path in sorted(DATA.glob("emergency_*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        phrases += [line.split("\t")[0] for line in lines if line and not line.startswith("#")]
    return phrases


def _per_message(
    read: Callable[[str], object], phrases: Sequence[str], rounds: int
) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for phrase in phrases:
            read(phrase)
        times.append((time.perf_counter() - start) / len(phrases))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    phrases = [*_phrases(), LONG]

    start = time.perf_counter()
    Recogniser(load_lexicon())
    print(f"compile the word lists: {(time.perf_counter() - start) * 1000:.1f} ms")

    recogniser = _per_message(looks_like_emergency, phrases, args.rounds)
    baseline = _per_message(normalize, phrases, args.rounds)
    ratio = statistics.median(recogniser) / statistics.median(baseline)
    print(f"{len(phrases)} messages; first pass: {recogniser[0] * 1000:.3f} ms per message")
    print(
        f"median of {args.rounds}: {statistics.median(recogniser) * 1000:.3f} ms per message, "
        f"baseline (normalize alone) {statistics.median(baseline) * 1000:.3f} ms: "
        f"ratio {ratio:.1f}x"
    )
    long_times = []
    for i in range(21):
        start = time.perf_counter()
        looks_like_emergency(f"{LONG} {i}")
        long_times.append(time.perf_counter() - start)
    base_long = []
    for i in range(21):
        start = time.perf_counter()
        normalize(f"{LONG} {i}")
        base_long.append(time.perf_counter() - start)
    print(
        f"long reason ({len(LONG)} chars), median of 21: "
        f"{statistics.median(long_times) * 1000:.3f} ms, baseline "
        f"{statistics.median(base_long) * 1000:.3f} ms: "
        f"ratio {statistics.median(long_times) / statistics.median(base_long):.1f}x"
    )


if __name__ == "__main__":
    main()
