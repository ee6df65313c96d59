"""Simulated time and a recording Telegram for the notification workers (bench/notify.py
holds them, for the benchmark and the simulated 10,000-reminder test alike)."""

from __future__ import annotations

from bench.notify import FakeSender, SimClock

__all__ = ["FakeSender", "SimClock"]
