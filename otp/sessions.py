"""Sessions: a channel identity (channel, channel user id) bound to a signed-in patient.

A session ends after `session_idle` without use, `session_absolute` after sign-in, on sign-out,
on "sign out everywhere", and when the patient's registered phone changes: the session keeps
the phone it was opened with (as a keyed hash) and `current()` drops every session of the
patient as soon as the register shows another number (checked when the patient's card in
the store does not vouch for the session; see below) (NIST SP 800-63B §5.1.3.3: a new number
is a new authenticator, so it needs a new sign-in).

Stored: no ИИН, no phone, no channel user id (on SMS that is the phone; issue 9 §3). Key
names carry a keyed hash of (channel, channel user id); the value the patient id, the phone's
keyed hash, the times and the token of the patient's card it was last checked against.

Issue 16: checking the register at every event cost a SQL statement per tap. The phone check
and the patient's language are kept in a per-patient *card* in the store (`{prefix}patient:
<id>:card` in Redis: a token `t` and the language `l`, for `CARD_TTL`). A session whose
`card` equals the card's token has been checked against the register during this card's life,
so it is trusted without asking again. Whoever changes a patient's phone or language
announces it after the commit (backend/services/patients.py `announce`, wired to
`SessionService.patient_changed`): a new phone removes the card (a new card gets a new token,
so every session checked against the old one is checked again, and ends if the register
shows another number); a new language is written into the card. Every process on the same
Redis sees it at its next event. A change nobody announced (a hand-edited row) is seen when
the card expires: within `CARD_TTL`. Readers create a card's token *before* they read the
register and only add a language the card lacks (HSETNX), so a reader that read the register
just before a change cannot overwrite what the change announced.
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


CARD_TTL = dt.timedelta(minutes=15)  # a change nobody announced is seen within this
TOUCH_EVERY = dt.timedelta(minutes=1)  # the stored last use lags the real one by at most this


@dataclass(frozen=True, slots=True)
class Card:
    """What the store keeps of a patient (issue 16): the token of the card's life (None: no
    card) and the language ("" none chosen; None: not known)."""

    token: str | None = None
    language: str | None = None


NO_CARD = Card()


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    patient_id: int
    phone_key: str  # keyed hash of the E.164 registered phone the code went to
    channel: str
    channel_user_id: str  # not stored: the store is looked up by it
    created_at: dt.datetime
    last_seen_at: dt.datetime
    card: str = ""  # the token of the patient's card this session was last checked against
    language: str | None = None  # not stored: the patient's language, filled by `current()`

    def to_json(self) -> str:
        data = asdict(self)
        del data["channel"], data["channel_user_id"], data["language"]
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
                card=str(data.get("card", "")),
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
        """Remove every session of the patient, and the patient's card; how many there were."""
        ...

    async def load(self, channel: str, channel_user_id: str) -> tuple[Session | None, Card]:
        """The session of this identity and its patient's card, in one round trip."""
        ...

    async def touch(self, session: Session, ttl: dt.timedelta) -> None:
        """Rewrite a session that still exists (one removed meanwhile stays removed)."""
        ...

    async def open_card(self, patient_id: int) -> str:
        """The token of the patient's card, creating the card if there is none."""
        ...

    async def card_language(self, patient_id: int, language: str, *, known: bool) -> None:
        """Put the language in the card: `known` (announced by a change) replaces it, else
        (read from the register by a reader) it is added only where the card has none."""
        ...

    async def drop_card(self, patient_id: int) -> None:
        """Forget the patient's card: every session of the patient is checked again."""
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
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        secret: bytes | str | None = None,
        card_ttl: dt.timedelta = CARD_TTL,
    ) -> None:
        super().__init__(secret)
        self._clock = clock or SystemClock()
        self._sessions: dict[str, tuple[Session, dt.datetime]] = {}
        self._cards: dict[int, tuple[Card, dt.datetime]] = {}
        self.card_ttl = card_ttl

    def _card(self, patient_id: int) -> Card:
        item = self._cards.get(patient_id)
        if item is None or item[1] <= self._clock.now():
            self._cards.pop(patient_id, None)
            return NO_CARD
        return item[0]

    async def load(self, channel: str, channel_user_id: str) -> tuple[Session | None, Card]:
        session = await self.get(channel, channel_user_id)
        return session, NO_CARD if session is None else self._card(session.patient_id)

    async def touch(self, session: Session, ttl: dt.timedelta) -> None:
        key = self._identity(session.channel, session.channel_user_id)
        if key in self._sessions:
            self._sessions[key] = (session, self._clock.now() + ttl)

    async def open_card(self, patient_id: int) -> str:
        card = self._card(patient_id)
        if card.token is None:
            card = replace(card, token=secrets.token_urlsafe(9))
            self._cards[patient_id] = (card, self._clock.now() + self.card_ttl)
        return card.token or ""

    async def card_language(self, patient_id: int, language: str, *, known: bool) -> None:
        card = self._card(patient_id)
        if card.language is not None and not known:
            return
        expires = self._cards[patient_id][1] if card is not NO_CARD else None
        self._cards[patient_id] = (
            replace(card, language=language),
            expires or self._clock.now() + self.card_ttl,
        )

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

    async def drop_card(self, patient_id: int) -> None:
        self._cards.pop(patient_id, None)

    async def delete_patient(self, patient_id: int) -> int:
        keys = [k for k, (s, _) in self._sessions.items() if s.patient_id == patient_id]
        for key in keys:
            del self._sessions[key]
        self._cards.pop(patient_id, None)
        return len(keys)


def _ms(ttl: dt.timedelta) -> int:
    return max(math.ceil(ttl.total_seconds() * 1000), 1)


# The session and its patient's card in one round trip: the card's key is named by the
# session's patient id (a single Redis, not a cluster: the second key is not declared).
_LOAD = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local ok, data = pcall(cjson.decode, raw)
if not ok or type(data) ~= 'table' or type(data['patient_id']) ~= 'number' then
  return {raw}
end
local card = ARGV[1] .. string.format('%d', data['patient_id']) .. ':card'
local got = redis.call('HMGET', card, 't', 'l')
return {raw, got[1], got[2]}
"""
# The card's token, the card created (with its TTL) when there is none.
_OPEN_CARD = """
if redis.call('HSETNX', KEYS[1], 't', ARGV[1]) == 1 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HGET', KEYS[1], 't')
"""
# The language: replaced (ARGV[3] = '1', an announced change) or added where none is.
_CARD_LANGUAGE = """
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'l', ARGV[1])
elseif redis.call('HSETNX', KEYS[1], 'l', ARGV[1]) == 0 then
  return 0
end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisSessionStore(_Identities):
    """Sessions in Redis: `{prefix}id:<identity hash>` plus a per-patient index set and the
    patient's card (`{prefix}patient:<id>:card`)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "dariger:session:",
        index_ttl: dt.timedelta = dt.timedelta(days=31),
        *,
        secret: bytes | str | None = None,
        card_ttl: dt.timedelta = CARD_TTL,
    ) -> None:
        super().__init__(secret)
        self.redis = redis
        self.prefix = prefix
        self.index_ttl = index_ttl
        self.card_ttl = card_ttl
        self._load = redis.register_script(_LOAD)
        self._open_card = redis.register_script(_OPEN_CARD)
        self._card_language = redis.register_script(_CARD_LANGUAGE)

    def _id(self, identity: str) -> str:
        return f"{self.prefix}id:{identity}"

    def _patient(self, patient_id: int) -> str:
        return f"{self.prefix}patient:{patient_id}"

    def _card(self, patient_id: int) -> str:
        return f"{self.prefix}patient:{patient_id}:card"

    async def load(self, channel: str, channel_user_id: str) -> tuple[Session | None, Card]:
        key = self._id(self._identity(channel, channel_user_id))
        got = await self._load(keys=[key], args=[f"{self.prefix}patient:"])
        if not got:
            return None, NO_CARD
        session = Session.from_json(_text(got[0]) or "", channel, channel_user_id)
        if session is None or len(got) < 3:
            return session, NO_CARD
        return session, Card(token=_text(got[1]), language=_text(got[2]))

    async def touch(self, session: Session, ttl: dt.timedelta) -> None:
        key = self._id(self._identity(session.channel, session.channel_user_id))
        await self.redis.set(key, session.to_json(), px=_ms(ttl), xx=True)

    async def open_card(self, patient_id: int) -> str:
        token = secrets.token_urlsafe(9)
        got = await self._open_card(
            keys=[self._card(patient_id)], args=[token, _ms(self.card_ttl)]
        )
        return _text(got) or token

    async def card_language(self, patient_id: int, language: str, *, known: bool) -> None:
        await self._card_language(
            keys=[self._card(patient_id)],
            args=[language, _ms(self.card_ttl), "1" if known else "0"],
        )

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

    async def drop_card(self, patient_id: int) -> None:
        await self.redis.delete(self._card(patient_id))

    async def delete_patient(self, patient_id: int) -> int:
        members = await self.redis.smembers(self._patient(patient_id))
        keys = [self._id(m.decode() if isinstance(m, bytes) else m) for m in members]
        removed = 0
        if keys:
            removed = int(await self.redis.delete(*keys))
        await self.redis.delete(self._patient(patient_id), self._card(patient_id))
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
        # The card vouches for this session only if the register still shows that phone.
        token = await self.store.open_card(patient_id)
        profile = await self.directory.profile_of(patient_id)
        if profile is not None:
            await self.store.card_language(patient_id, profile[1] or "", known=False)
        session = Session(
            session_id=secrets.token_urlsafe(16),
            patient_id=patient_id,
            phone_key=self.phone_key(phone),
            channel=channel,
            channel_user_id=channel_user_id,
            created_at=now,
            last_seen_at=now,
        )
        if profile is not None and self._phone_matches(profile[0], session):
            session = replace(session, card=token)
        await self.store.put(session, self._ttl(session, now))
        return session

    async def current(self, channel: str, channel_user_id: str) -> Session | None:
        """The live session of this identity (and mark it used), with the patient's language
        (None when none chosen), or None. The register is read only when the patient's card
        does not vouch for the session (see the module's docstring)."""
        session, card = await self.store.load(channel, channel_user_id)
        if session is None:
            return None
        now = self.clock.now()
        if (
            now - session.last_seen_at >= self.policy.session_idle
            or now - session.created_at >= self.policy.session_absolute
        ):
            await self.store.delete(channel, channel_user_id)
            return None
        token, language = card.token, card.language
        if token is None or token != session.card or language is None:
            if token is None:  # before the register is read: a change after it is seen
                token = await self.store.open_card(session.patient_id)
            profile = await self.directory.profile_of(session.patient_id)
            if profile is None or not self._phone_matches(profile[0], session):
                await self._end_for_phone(session, now)
                return None
            language = profile[1] or ""
            if card.language is None:
                await self.store.card_language(session.patient_id, language, known=False)
        touched = replace(session, last_seen_at=now, card=token)
        if token != session.card or now - session.last_seen_at >= self._touch_every():
            await self.store.touch(touched, self._ttl(touched, now))
        return replace(touched, language=language or None)

    def _touch_every(self) -> dt.timedelta:
        return min(TOUCH_EVERY, self.policy.session_idle / 100)

    async def _end_for_phone(self, session: Session, now: dt.datetime) -> None:
        await self.store.delete_patient(session.patient_id)
        await self.store.delete(session.channel, session.channel_user_id)
        self.audit.record(
            AuditEvent.create(
                "sessions_ended_phone_changed",
                at=now,
                channel=session.channel,
                channel_user_id=session.channel_user_id,
                patient_id=session.patient_id,
            )
        )

    def _phone_matches(self, phone: str | None, session: Session) -> bool:
        if phone is None:
            return False
        try:
            current = self.phone_key(normalize_kz_mobile(phone))
            return hmac.compare_digest(current, session.phone_key)
        except InvalidPhone:
            return False

    async def patient_changed(
        self, patient_id: int, *, phone: bool = False, language: str | None = None
    ) -> None:
        """A committed change of the patient's registered phone (`phone`) or language (the
        new code, "" for none), announced by whoever wrote it, on any process: a new phone
        ends every session of the patient (NIST SP 800-63B §5.1.3.3: a new number is a new
        authenticator; the same number written differently is no change), a new language
        shows at the patient's next event on every channel."""
        if phone:
            # The card goes: every session of the patient is checked against the register at
            # its next use, and ends there if the register shows another number.
            await self.store.drop_card(patient_id)
        elif language is not None:
            await self.store.card_language(patient_id, language, known=True)

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
