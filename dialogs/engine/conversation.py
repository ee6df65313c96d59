"""The conversation record: one small JSON document per (channel, channel user)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


@dataclass
class Conversation:
    channel: str
    user_id: str
    state: str = ""
    stack: list[str] = field(default_factory=list)  # states to go back to
    data: dict[str, JsonValue] = field(default_factory=dict)  # what the patient entered
    seq: int = 0  # screens shown: a button from an older screen is stale
    shown: list[str] = field(default_factory=list)  # option ids of the last screen, in order
    strikes: int = 0  # bad inputs in a row
    locale: str | None = None  # explicit choice before sign-in (after: stored in backend)
    pending: str | None = None  # where to go once signed in
    v: int = SCHEMA_VERSION

    def to_json(self) -> str:
        """The stored record: without the channel user id (on SMS the phone; issue 9 §3)."""
        # The fields by hand, in their order: `asdict` deep-copies `data` first (issue 16: a
        # tenth of a navigation step's own time); json.dumps copies nothing.
        doc = {
            "channel": self.channel,
            "state": self.state,
            "stack": self.stack,
            "data": self.data,
            "seq": self.seq,
            "shown": self.shown,
            "strikes": self.strikes,
            "locale": self.locale,
            "pending": self.pending,
            "v": self.v,
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes, channel: str, user_id: str) -> Conversation | None:
        """None for a record this release cannot read: the conversation restarts politely."""
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("v") != SCHEMA_VERSION:
                return None
            doc.pop("user_id", None)  # a record written before issue 9 §3
            doc["channel"] = channel
            return cls(user_id=user_id, **doc)
        except (ValueError, TypeError):
            return None
