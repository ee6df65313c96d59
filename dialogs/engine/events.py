"""Inbound events, normalised by each channel from its own updates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Start:
    """/start, or the first message of a new conversation."""


@dataclass(frozen=True, slots=True)
class Chose:
    option_id: str
    seq: int | None = None  # the screen the button came from (Telegram); None: the last one


@dataclass(frozen=True, slots=True)
class Typed:
    text: str


@dataclass(frozen=True, slots=True)
class SharedContact:
    phone: str
    contact_user_id: str | None
    sender_user_id: str


@dataclass(frozen=True, slots=True)
class Command:
    """A command word: /menu, /help, /language, /operator, /stop, or an unknown one."""

    name: str


Event = Start | Chose | Typed | SharedContact | Command
