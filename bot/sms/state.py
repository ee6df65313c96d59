"""What the SMS channel remembers per phone: the pages of the last screen and the page shown.

"2" means option 2 *of the page the patient last received*, and "9" the next page; so the
pages with their number → option-id maps are kept (Redis with a TTL, or in the process), next
to the dialog's own conversation record. Losing this record is harmless: the next message
starts at the main menu. The key carries a keyed hash of the phone, never the phone (issue 9 §3).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from bot.sms.render import Page, Rendering
from dialogs.engine.store import (
    DEFAULT_TTL_SECONDS,
    Documents,
    MemoryDocuments,
    RedisDocuments,
    identity_key,
    key_secret,
)

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


class SmsStateStore:
    """The state as one JSON document per phone at `sms:pages:{keyed hash of the phone}`."""

    def __init__(self, documents: Documents, secret: bytes | str | None = None) -> None:
        self.documents = documents
        self._secret = key_secret(secret)

    def _key(self, phone: str) -> str:
        return f"sms:pages:{identity_key(self._secret, 'sms-pages', phone)}"

    async def load(self, phone: str) -> SmsState | None:
        raw = await self.documents.get(self._key(phone))
        return None if raw is None else SmsState.from_json(raw)

    async def save(self, phone: str, state: SmsState) -> None:
        await self.documents.put(self._key(phone), state.to_json())

    async def delete(self, phone: str) -> None:
        await self.documents.delete(self._key(phone))


class MemorySmsStateStore(SmsStateStore):
    def __init__(
        self, ttl_seconds: int = DEFAULT_TTL_SECONDS, *, secret: bytes | str | None = None
    ) -> None:
        super().__init__(MemoryDocuments(ttl_seconds), secret)


class RedisSmsStateStore(SmsStateStore):
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "dariger:",
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        secret: bytes | str | None = None,
    ) -> None:
        super().__init__(RedisDocuments(redis, prefix=prefix, ttl_seconds=ttl_seconds), secret)
