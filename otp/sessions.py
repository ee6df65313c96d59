"""Sessions: a channel identity (channel, channel user id) bound to a signed-in patient.

A session ends after `session_idle` without use, `session_absolute` after sign-in, on sign-out,
on "sign out everywhere", and when the patient's registered phone changes: the session keeps
the phone it was opened with (as a keyed hash) and `current()` drops every session of the
patient as soon as the register shows another number (NIST SP 800-63B §5.1.3.3: a new number
is a new authenticator, so it needs a new sign-in).

Stored: no ИИН, no phone, no channel user id (on SMS that is the phone; issue 9 §3). Key
names carry a keyed hash of (channel, channel user id); the value the patient id, the phone's
keyed hash and the times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Protocol

from redis.asyncio import Redis

from backend.domain.phone import InvalidPhone, normalize_kz_mobile
from otp.audit import AuditEvent, AuditSink, NullAuditSink
from otp.policy import Clock, OtpPolicy, SystemClock

if TYPE_CHECKING:
    from otp.service import PatientDirectory


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    patient_id: int
    phone_key: str  # keyed hash of the E.164 registered phone the code went to
    channel: str
    channel_user_id: str  # not stored: the store is looked up by it
    created_at: dt.datetime
    last_seen_at: dt.datetime

    def to_json(self) -> str:
        data = asdict(self)
        del data["channel"], data["channel_user_id"]
        data["created_at"] = self.created_at.isoformat()
        data["last_seen_at"] = self.last_seen_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str, channel: str, channel_user_id: str) -> Session | None:
        """None for a record this release cannot read (the patient signs in again)."""
        try:
            data = json.loads(text)
            return cls(
                session_id=str(data["session_id"]),
                patient_id=int(data["patient_id"]),
                phone_key=str(data["phone_key"]),
                channel=channel,
                channel_user_id=channel_user_id,
                created_at=dt.datetime.fromisoformat(data["created_at"]),
                last_seen_at=dt.datetime.fromisoformat(data["last_seen_at"]),
            )
        except (ValueError, TypeError, KeyError):
            return None


class SessionStore(Protocol):
    async def get(self, channel: str, channel_user_id: str) -> Session | None: ...

    async def put(self, session: Session, ttl: dt.timedelta) -> None:
        """Store (or replace) the session of its channel identity, expiring after `ttl`."""
        ...

    async def delete(self, channel: str, channel_user_id: str) -> Session | None:
        """Remove the session of this identity; the removed session, or None."""
        ...

    async def delete_patient(self, patient_id: int) -> int:
        """Remove every session of the patient; how many there were."""
        ...


def _secret(secret: bytes | str | None) -> bytes:
    if secret is None:  # one process's store: any secret will do
        return secrets.token_bytes(32)
    return secret.encode() if isinstance(secret, str) else secret


def keyed_hash(secret: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the parts: names and values with no ИИН or phone that a list of every
    Kazakhstan number cannot reverse without the secret."""
    message = "\x1f".join(parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


class _Identities:
    def __init__(self, secret: bytes | str | None) -> None:
        self._key = _secret(secret)

    def _identity(self, channel: str, channel_user_id: str) -> str:
        # Keyed, so that SMS identities (phone numbers) do not appear in key names.
        return keyed_hash(self._key, "session", channel, channel_user_id)


class InMemorySessionStore(_Identities):
    def __init__(self, clock: Clock | None = None, *, secret: bytes | str | None = None) -> None:
        super().__init__(secret)
        self._clock = clock or SystemClock()
        self._sessions: dict[str, tuple[Session, dt.datetime]] = {}

    async def get(self, channel: str, channel_user_id: str) -> Session | None:
        key = self._identity(channel, channel_user_id)
        item = self._sessions.get(key)
        if item is None:
            return None
        if item[1] <= self._clock.now():
            del self._sessions[key]
            return None
        return item[0]

    async def put(self, session: Session, ttl: dt.timedelta) -> None:
        key = self._identity(session.channel, session.channel_user_id)
        self._sessions[key] = (session, self._clock.now() + ttl)

    async def delete(self, channel: str, channel_user_id: str) -> Session | None:
        session = await self.get(channel, channel_user_id)
        self._sessions.pop(self._identity(channel, channel_user_id), None)
        return session

    async def delete_patient(self, patient_id: int) -> int:
        keys = [k for k, (s, _) in self._sessions.items() if s.patient_id == patient_id]
        for key in keys:
            del self._sessions[key]
        return len(keys)


def _ms(ttl: dt.timedelta) -> int:
    return max(math.ceil(ttl.total_seconds() * 1000), 1)


class RedisSessionStore(_Identities):
    """Sessions in Redis: `{prefix}id:<identity hash>` plus a per-patient index set."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "dariger:session:",
        index_ttl: dt.timedelta = dt.timedelta(days=31),
        *,
        secret: bytes | str | None = None,
    ) -> None:
        super().__init__(secret)
        self.redis = redis
        self.prefix = prefix
        self.index_ttl = index_ttl

    def _id(self, identity: str) -> str:
        return f"{self.prefix}id:{identity}"

    def _patient(self, patient_id: int) -> str:
        return f"{self.prefix}patient:{patient_id}"

    async def get(self, channel: str, channel_user_id: str) -> Session | None:
        raw = await self.redis.get(self._id(self._identity(channel, channel_user_id)))
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        return Session.from_json(text, channel, channel_user_id)

    async def put(self, session: Session, ttl: dt.timedelta) -> None:
        identity = self._identity(session.channel, session.channel_user_id)
        index_ttl = max(self.index_ttl, ttl)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._id(identity), session.to_json(), px=_ms(ttl))
            pipe.sadd(self._patient(session.patient_id), identity)
            pipe.pexpire(self._patient(session.patient_id), _ms(index_ttl))
            await pipe.execute()

    async def delete(self, channel: str, channel_user_id: str) -> Session | None:
        identity = self._identity(channel, channel_user_id)
        session = await self.get(channel, channel_user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._id(identity))
            if session is not None:
                pipe.srem(self._patient(session.patient_id), identity)
            await pipe.execute()
        return session

    async def delete_patient(self, patient_id: int) -> int:
        members = await self.redis.smembers(self._patient(patient_id))
        keys = [self._id(m.decode() if isinstance(m, bytes) else m) for m in members]
        removed = 0
        if keys:
            removed = int(await self.redis.delete(*keys))
        await self.redis.delete(self._patient(patient_id))
        return removed


class SessionService:
    def __init__(
        self,
        store: SessionStore,
        directory: PatientDirectory,
        *,
        policy: OtpPolicy | None = None,
        clock: Clock | None = None,
        audit: AuditSink | None = None,
        secret: bytes | str | None = None,
    ) -> None:
        self._key = _secret(secret)  # for the phone's keyed hash; shared by all processes
        self.store = store
        self.directory = directory
        self.policy = policy or OtpPolicy()
        self.clock = clock or SystemClock()
        self.audit = audit or NullAuditSink()

    def _ttl(self, session: Session, now: dt.datetime) -> dt.timedelta:
        absolute_left = session.created_at + self.policy.session_absolute - now
        return min(self.policy.session_idle, absolute_left)

    def phone_key(self, phone: str) -> str:
        return keyed_hash(self._key, "phone", phone)

    async def open(
        self, *, patient_id: int, phone: str, channel: str, channel_user_id: str
    ) -> Session:
        """Bind this channel identity to the patient (replacing any earlier binding);
        `phone` is the E.164 phone the code went to."""
        now = self.clock.now()
        await self.store.delete(channel, channel_user_id)
        session = Session(
            session_id=secrets.token_urlsafe(16),
            patient_id=patient_id,
            phone_key=self.phone_key(phone),
            channel=channel,
            channel_user_id=channel_user_id,
            created_at=now,
            last_seen_at=now,
        )
        await self.store.put(session, self._ttl(session, now))
        return session

    async def current(self, channel: str, channel_user_id: str) -> Session | None:
        """The live session of this identity (and mark it used), or None."""
        session = await self.store.get(channel, channel_user_id)
        if session is None:
            return None
        now = self.clock.now()
        if (
            now - session.last_seen_at >= self.policy.session_idle
            or now - session.created_at >= self.policy.session_absolute
        ):
            await self.store.delete(channel, channel_user_id)
            return None
        if not await self._phone_unchanged(session):
            await self.store.delete_patient(session.patient_id)
            await self.store.delete(channel, channel_user_id)
            self.audit.record(
                AuditEvent.create(
                    "sessions_ended_phone_changed",
                    at=now,
                    channel=channel,
                    channel_user_id=channel_user_id,
                    patient_id=session.patient_id,
                )
            )
            return None
        touched = replace(session, last_seen_at=now)
        await self.store.put(touched, self._ttl(touched, now))
        return touched

    async def _phone_unchanged(self, session: Session) -> bool:
        phone = await self.directory.phone_of(session.patient_id)
        if phone is None:
            return False
        try:
            current = self.phone_key(normalize_kz_mobile(phone))
            return hmac.compare_digest(current, session.phone_key)
        except InvalidPhone:
            return False

    async def sign_out(self, channel: str, channel_user_id: str) -> bool:
        session = await self.store.delete(channel, channel_user_id)
        if session is None:
            return False
        self.audit.record(
            AuditEvent.create(
                "signed_out",
                at=self.clock.now(),
                channel=channel,
                channel_user_id=channel_user_id,
                patient_id=session.patient_id,
            )
        )
        return True

    async def sign_out_everywhere(self, patient_id: int) -> int:
        count = await self.store.delete_patient(patient_id)
        self.audit.record(
            AuditEvent.create(
                "signed_out_everywhere", at=self.clock.now(), patient_id=patient_id, sessions=count
            )
        )
        return count
