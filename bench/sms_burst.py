"""500 SMS arriving at once (issue 16): p50/p99 and messages/s, on PostgreSQL + Redis.

    .venv/bin/python -m bench.sms_burst [--db postgresql|sqlite] [--messages 500] [--split]

500 phones each send their first message (a language keyword) in the same instant, as signed
Twilio webhooks to the production app on a real HTTP server (bench/capacity.py has the set-up).
The baseline is the embedded default's figure from the issue: 1.7 s p50 / 2.9 s p99, 160/s.
The CPU per message is this whole process's (the 500 senders included); `--split` runs the app
in a process of its own and prints its CPU apart (bench/capacity.py).
"""

from __future__ import annotations

import argparse
import asyncio

from bench.capacity import Figures, drive, phones, serving, serving_apart
from bot.logs import configure_logging

BASELINE = {"p50": 1.7, "p99": 2.9, "rate": 160.0}  # SQLite, in-process state (issue 16)


def report(db: str, figures: Figures) -> None:
    p50, p99 = figures.p50, figures.pct(0.99)
    print(
        f"[{db}] {figures.messages} SMS at once: p50 {p50:.2f} s (baseline "
        f"{BASELINE['p50']} s, {p50 / BASELINE['p50']:.2f}×), p99 {p99:.2f} s (baseline "
        f"{BASELINE['p99']} s, {p99 / BASELINE['p99']:.2f}×), {figures.rate:.0f}/s (baseline "
        f"{BASELINE['rate']:.0f}/s, {figures.rate / BASELINE['rate']:.2f}×), "
        f"CPU {figures.cpu_ms:.1f} ms/message"
        + (
            " (the bench process and the app together)"
            if figures.app_cpu_seconds is None
            else f" (the app's process; the senders': {figures.generator_cpu_ms:.1f} ms)"
        )
        + figures.failures
    )


async def run(db: str, messages: int, *, split: bool = False) -> Figures:
    if split:
        async with serving_apart(db) as (poster, app_cpu):
            await drive(poster, phones(4, start=9_000_000), ["EN"])  # warm-up
            figures = await drive(poster, phones(messages), ["KZ"], app_cpu)
    else:
        async with serving(db) as poster:
            await drive(poster, phones(4, start=9_000_000), ["EN"])  # warm-up
            figures = await drive(poster, phones(messages), ["KZ"])
    report(db, figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument(
        "--split", action="store_true", help="the app in a process of its own (its CPU apart)"
    )
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    asyncio.run(run(args.db, args.messages, split=args.split))


if __name__ == "__main__":
    main()
