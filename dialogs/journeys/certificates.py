"""Journey: certificates (filled in by its own change)."""

from __future__ import annotations

from dialogs.engine.step import Step

STEPS: tuple[Step, ...] = ()
