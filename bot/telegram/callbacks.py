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


MAX_BYTES = 64  # Telegram's limit of callback data


def pack_pick(seq: int, option_id: str) -> str | None:
    """The callback data of one button (what `Pick(seq=…, opt=…).pack()` makes, without
    building a pydantic model per button: issue 16, a keyboard has up to 24); None (and an
    error log) when the id cannot travel."""
    data = f"{Pick.__prefix__}{Pick.__separator__}{seq}{Pick.__separator__}{option_id}"
    if Pick.__separator__ in option_id or len(data.encode()) > MAX_BYTES:
        # A ':' in the id, or over 64 bytes: a bug in a dialog, not the patient's.
        log.error("option id unfit for callback data", option_id=option_id)
        return None
    return data
