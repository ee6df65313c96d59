"""What the SMS channel remembers per phone: the pages of the last screen and the page shown.

"2" means option 2 *of the page the patient last received*, and "9" the next page; so the
pages with their number → option-id maps are kept (Redis with a TTL, or in the process), next
to the dialog's own conversation record. Losing this record is harmless: the next message
starts at the main menu.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Protocol

from redis.asyncio import Redis

from bot.sms.render import Page, Rendering
from dialogs.engine.store import DEFAULT_TTL_SECONDS

SCHEMA_VERSION = 1


@dataclass
class SmsState:
    rendering: Rendering
    page: int = 0
    v: int = SCHEMA_VERSION

    @property
    def current(self) -> Page:
        return self.rendering.pages[min(self.page, len(self.rendering.pages) - 1)]

    @property
    def has_next(self) -> bool:
        return len(self.rendering.pages) > 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> SmsState | None:
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("v") != SCHEMA_VERSION:
                return None
            r = doc["rendering"]
            rendering = Rendering(
                **{**r, "pages": [Page(p["text"], dict(p["numbers"])) for p in r["pages"]]}
            )
            if not rendering.pages:
                return None
            return cls(rendering=rendering, page=int(doc["page"]))
        except (ValueError, TypeError, KeyError):
            return None


class SmsStateStore(Protocol):
    async def load(self, phone: str) -> SmsState | None: ...
    async def save(self, phone: str, state: SmsState) -> None: ...
    async def delete(self, phone: str) -> None: ...


class MemorySmsStateStore:
    def __init__(self, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.ttl = ttl_seconds
        self._docs: dict[str, tuple[float, str]] = {}

    async def load(self, phone: str) -> SmsState | None:
        item = self._docs.get(phone)
        if item is None or item[0] < time.monotonic():
            return None
        return SmsState.from_json(item[1])

    async def save(self, phone: str, state: SmsState) -> None:
        self._docs[phone] = (time.monotonic() + self.ttl, state.to_json())

    async def delete(self, phone: str) -> None:
        self._docs.pop(phone, None)


class RedisSmsStateStore:
    def __init__(
        self, redis: Redis, *, prefix: str = "dariger:", ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds

    def _key(self, phone: str) -> str:
        return f"{self.prefix}sms:pages:{phone}"

    async def load(self, phone: str) -> SmsState | None:
        raw = await self.redis.get(self._key(phone))
        return None if raw is None else SmsState.from_json(raw)

    async def save(self, phone: str, state: SmsState) -> None:
        await self.redis.set(self._key(phone), state.to_json(), ex=self.ttl)

    async def delete(self, phone: str) -> None:
        await self.redis.delete(self._key(phone))
