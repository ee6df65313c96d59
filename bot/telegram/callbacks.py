"""Inline-button payloads: the option id and the screen it was shown on, never a label.

`p:<seq>:<option id>` stays far below Telegram's 64 bytes for the engine's short ASCII ids.
The screen counter lets the engine recognise a tap on an old message (a stale button).
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.logs import get_logger

log = get_logger("bot.telegram")


class Pick(CallbackData, prefix="p"):
    seq: int
    opt: str


def pack_pick(seq: int, option_id: str) -> str | None:
    """The callback data of one button; None (and an error log) when the id cannot travel."""
    try:
        return Pick(seq=seq, opt=option_id).pack()
    except ValueError:  # a ':' in the id, or over 64 bytes: a bug in a dialog, not the patient's
        log.error("option id unfit for callback data", option_id=option_id)
        return None
