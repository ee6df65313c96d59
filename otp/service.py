"""Sign-in by ИИН and a one-time code sent by SMS to the phone registered for that ИИН.

`start` takes the ИИН and sends a code; `verify` checks the typed code and binds the channel
identity to the patient (a `Session`); `resend` sends a new code for the same ИИН. Every reply
is a typed result with a message id and params; the channels translate it.

Rules (domain/anchors.md §3.5): codes from `secrets`, stored only as
HMAC-SHA256(pepper, code + request id) with a TTL, compared in constant time, single use, and
a new code kills the previous one. Wrong codes are counted per (ИИН, phone) across resends;
after `max_wrong_codes` the request dies and a lock with escalating waits starts. Sends are
rate-limited per ИИН, per phone and per requester (channel identity). Unknown ИИНs, ИИНs
without a phone and phones that are not Kazakhstan mobiles get the same reply as a real send
(ASVS 6.3.8): the service stores a decoy request that no code can match and sends nothing.

On SMS the channel identity is the sender's phone, and it is the identity itself (issue 9 §1):
a code is started only when the ИИН's registered phone is the sender. Otherwise (someone else's
phone, an unknown ИИН, no phone) nothing is sent or stored and the reply is one and the same
(`NOT_THIS_PHONE`), so a stranger learns nothing. The rule lives here, so no dialog path (the
sign-in step, the menu taking an ИИН, SMS shortcuts) can miss it.

Nothing stored holds a clear ИИН or phone (issue 9 §3): key names are keyed hashes, the pending
request holds the patient id and keyed hashes; resend looks the phone up by the patient id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from backend.domain.iin import IinError, InvalidIin, parse_iin
from backend.domain.phone import InvalidPhone, mask_phone, normalize_kz_mobile
from otp import messages
from otp.audit import AuditEvent, AuditSink, NullAuditSink
from otp.codes import format_code, generate, normalize_code
from otp.messages import ParamValue
from otp.policy import Clock, OtpPolicy, SystemClock
from otp.sender import SmsSender, SmsSendError
from otp.sessions import Session, SessionService
from otp.storage import OtpStore

# The channel whose user id is the sender's phone: sign-in is bound to it (issue 9 §1).
SMS_CHANNEL = "sms"
# "Today" for the birth date in an ИИН (Kazakhstan is on one time zone, UTC+5).
_KZ = ZoneInfo("Asia/Almaty")
# The decoy wait imitates a real send; it never exceeds this.
_MAX_DECOY_DELAY = 5.0
_MIN_PEPPER_BYTES = 16


class PatientDirectory(Protocol):
    async def phone_for(self, iin: str) -> tuple[int, str | None] | None:
        """(patient id, registered phone or None), or None when the ИИН is unknown."""
        ...

    async def phone_of(self, patient_id: int) -> str | None:
        """The patient's registered phone (as the register holds it), or None."""
        ...

    async def profile_of(self, patient_id: int) -> tuple[str | None, str | None] | None:
        """(registered phone or None, chosen language code or None) in one read, or None when
        there is no such patient: what a session checks and shows (issue 16)."""
        ...


class SmsText(Protocol):
    def __call__(
        self, message_id: str, params: Mapping[str, ParamValue], locale: str | None
    ) -> str:
        """The SMS body for this message id in this locale (None: the default language)."""
        ...


def english_sms_text(message_id: str, params: Mapping[str, ParamValue], locale: str | None) -> str:
    return message_id.format(**params)


class StartStatus(StrEnum):
    SENT = "sent"  # the generic reply: known and unknown ИИНs alike
    INVALID_IIN = "invalid_iin"
    NO_REQUEST = "no_request"  # resend without an earlier ИИН
    TOO_EARLY = "too_early"
    SEND_LIMIT = "send_limit"
    LOCKED = "locked"
    SEND_FAILED = "send_failed"
    # SMS only: the ИИН is not registered to the sender's phone (or unknown, or has no phone;
    # one reply for all three). Nothing was sent or stored.
    NOT_THIS_PHONE = "not_this_phone"


class VerifyStatus(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"  # expired, used, or replaced by a newer code
    NO_REQUEST = "no_request"
    LOCKED = "locked"
    NOT_A_CODE = "not_a_code"  # text that cannot be a code: a hint, no attempt counted


@dataclass(frozen=True, slots=True)
class StartResult:
    status: StartStatus
    message: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    retry_after: int | None = None  # seconds, for TOO_EARLY, SEND_LIMIT and LOCKED
    # Showing "+7 701 *** ** 45" after the ИИН would tell anyone who types an ИИН whether it
    # is registered, and the issue requires the same reply for unknown ИИНs (ASVS 6.3.8,
    # anchors §3.5 "Enumeration"). So `start` never fills this: it stays None on every reply,
    # and a channel may fill it only where the user has already proven ownership (after
    # `verify`, see VerifyResult.masked_phone).
    masked_phone: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    status: VerifyStatus
    message: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    attempts_left: int | None = None
    retry_after: int | None = None
    session: Session | None = None
    masked_phone: str | None = None  # only on SIGNED_IN: the code proved the phone

    @property
    def signed_in(self) -> bool:
        return self.status is VerifyStatus.SIGNED_IN


@dataclass(frozen=True, slots=True)
class _Pending:
    """What an identity's pending sign-in keeps for `request_memory` (1 h): no ИИН, no phone.

    `iin_key` (a keyed hash of the ИИН) keys the per-ИИН limits of a resend; `phone_key` (of
    the phone the code went to) makes a code die when the register's phone changes; resend
    finds the phone again by `patient_id`.
    """

    request_id: str
    subject: str
    iin_key: str
    patient_id: int | None  # None: a decoy (unknown ИИН, no phone, not a KZ mobile)
    phone_key: str | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "rid": self.request_id,
                "subject": self.subject,
                "iin_key": self.iin_key,
                "patient_id": self.patient_id,
                "phone_key": self.phone_key,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> _Pending | None:
        try:
            data = json.loads(text)
            patient_id = data.get("patient_id")
            phone_key = data.get("phone_key")
            return cls(
                request_id=str(data["rid"]),
                subject=str(data["subject"]),
                iin_key=str(data["iin_key"]),
                patient_id=None if patient_id is None else int(patient_id),
                phone_key=None if phone_key is None else str(phone_key),
            )
        except (ValueError, TypeError, KeyError):
            return None  # a record of an older release: ask for the ИИН again


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a code would go, in memory only (never stored as such)."""

    iin_key: str
    patient_id: int | None
    phone: str | None  # E.164
    withheld: str  # why no code can be sent ("" when one can)
    iin: str | None = None  # for the (masked) audit; unknown on a resend


@dataclass(frozen=True, slots=True)
class _Lock:
    wait: int  # seconds left of the current lock; 0 when not locked
    level: int  # locks so far (the next lock waits policy.lock_wait(level))


def contact_matches(
    patient_phone: str | None,
    contact_phone: str | None,
    contact_user_id: int | str | None,
    sender_user_id: int | str | None,
) -> bool:
    """Telegram's shared contact as an extra check (never instead of the code).

    True only when the contact is the sender's own (`Contact.user_id` equals the sender's id,
    otherwise it may be someone else's forwarded contact) and its phone is the patient's
    registered Kazakhstan mobile.
    """
    if contact_user_id is None or sender_user_id is None:
        return False
    if str(contact_user_id) != str(sender_user_id):
        return False
    if not patient_phone or not contact_phone:
        return False
    try:
        return normalize_kz_mobile(patient_phone) == normalize_kz_mobile(contact_phone)
    except InvalidPhone:
        return False


def _invalid_iin(reason: IinError) -> StartResult:
    if reason is IinError.NOT_12_DIGITS:
        message = messages.INVALID_IIN_LENGTH
    elif reason is IinError.FUTURE_DATE:
        message = messages.INVALID_IIN_FUTURE
    else:
        message = messages.INVALID_IIN_CHECK
    return StartResult(StartStatus.INVALID_IIN, message, {"reason": reason.value})


class OtpService:
    def __init__(
        self,
        *,
        directory: PatientDirectory,
        store: OtpStore,
        sender: SmsSender,
        sessions: SessionService,
        pepper: bytes | str,
        policy: OtpPolicy | None = None,
        clock: Clock | None = None,
        audit: AuditSink | None = None,
        sms_text: SmsText = english_sms_text,
        generate_code: Callable[[int], str] = generate,
    ) -> None:
        key = pepper.encode() if isinstance(pepper, str) else pepper
        if len(key) < _MIN_PEPPER_BYTES:
            raise ValueError(f"the OTP pepper needs at least {_MIN_PEPPER_BYTES} bytes")
        self._pepper = key
        self.directory = directory
        self.store = store
        self.sender = sender
        self.sessions = sessions
        self.policy = policy or OtpPolicy()
        self.clock = clock or SystemClock()
        self.audit = audit or NullAuditSink()
        self.sms_text = sms_text
        self._generate_code = generate_code
        self._send_latency = 0.0  # moving average of real sends, imitated for decoys

    # ---- public API -------------------------------------------------------------------------

    async def start(
        self, iin_text: str, channel: str, channel_user_id: str, *, locale: str | None = None
    ) -> StartResult:
        """Take a typed ИИН; send a code to its registered phone (or pretend to).

        On SMS `channel_user_id` is the sender's phone: no code unless it is the registered one.
        """
        today = self.clock.now().astimezone(_KZ).date()
        try:
            iin = parse_iin(iin_text, today=today).value
        except InvalidIin as exc:
            return _invalid_iin(exc.reason)
        return await self._issue(await self._target(iin), channel, channel_user_id, locale)

    async def resend(
        self, channel: str, channel_user_id: str, *, locale: str | None = None
    ) -> StartResult:
        """A new code for the ИИН this identity gave last; the old code stops working."""
        pending = await self._pending(channel, channel_user_id)
        if pending is None:
            return StartResult(StartStatus.NO_REQUEST, messages.NO_REQUEST)
        return await self._issue(await self._retarget(pending), channel, channel_user_id, locale)

    async def verify(self, channel: str, channel_user_id: str, code_text: str) -> VerifyResult:
        """Check a typed code; on success open a session for this channel identity."""
        pending = await self._pending(channel, channel_user_id)
        if pending is None:
            return VerifyResult(VerifyStatus.NO_REQUEST, messages.NO_REQUEST)
        now = self.clock.now()
        t = now.timestamp()
        subject = pending.subject
        lock = await self._lock(subject, t)
        if lock.wait:
            return self._locked_verify(lock.wait)
        code_key = f"code:{pending.request_id}"
        record = await self.store.get(code_key)
        active = await self.store.get(f"active:{subject}")
        if record is None or active != pending.request_id:
            return VerifyResult(VerifyStatus.EXPIRED, messages.CODE_EXPIRED)
        stored = json.loads(record)
        if float(stored["exp"]) <= t:
            return VerifyResult(VerifyStatus.EXPIRED, messages.CODE_EXPIRED)
        typed = normalize_code(code_text, self.policy.code_digits)
        if typed is None:
            # Words, "hello", a 12-digit ИИН: not a guess at the code, so it costs no attempt
            # (issue 9 §1, issue 15): a hint that a code has 6 digits.
            digits = self.policy.code_digits
            return VerifyResult(VerifyStatus.NOT_A_CODE, messages.NOT_A_CODE, {"digits": digits})

        # Count the attempt before comparing, atomically, so parallel guesses cannot exceed the
        # limit. Each lock starts a fresh counter (the key carries the lock level), so guesses
        # racing the lock land on the old counter, past the limit, and are refused unchecked.
        attempt = await self.store.incr(
            f"fails:{subject}:{lock.level}", self.policy.failure_memory
        )
        if attempt > self.policy.max_wrong_codes:
            return self._locked_verify(
                math.ceil(self.policy.lock_wait(lock.level).total_seconds())
            )
        mac = self._mac(typed + pending.request_id)
        matches = hmac.compare_digest(mac, str(stored["mac"]))
        patient_id = pending.patient_id
        if matches and patient_id is not None:
            if not await self.store.delete(code_key):  # used by a parallel attempt just now
                return VerifyResult(VerifyStatus.EXPIRED, messages.CODE_EXPIRED)
            phone = await self._phone_of(patient_id)
            if (
                phone is None
                or self._h("phone", phone) != pending.phone_key
                or (channel == SMS_CHANNEL and not _same_phone(phone, channel_user_id))
            ):  # the register's phone changed since the code was sent: that code is void
                await self.store.delete(f"active:{subject}")
                return VerifyResult(VerifyStatus.EXPIRED, messages.CODE_EXPIRED)
            return await self._signed_in(
                pending, patient_id, phone, channel, channel_user_id, level=lock.level
            )

        self._record("code_failed", channel, channel_user_id, pending, attempt=attempt)
        if attempt == self.policy.max_wrong_codes:
            wait = await self._start_lock(subject, t, lock.level, code_key)
            self._record("locked", channel, channel_user_id, pending, wait_seconds=wait)
            return self._locked_verify(wait)
        left = self.policy.max_wrong_codes - attempt
        return VerifyResult(
            VerifyStatus.WRONG_CODE,
            messages.CODE_WRONG,
            {"attempts_left": left},
            attempts_left=left,
        )

    async def forget(self, channel: str, channel_user_id: str) -> None:
        """Drop this identity's pending sign-in (the patient cancelled it)."""
        await self.store.delete(self._pending_key(channel, channel_user_id))

    # ---- issuing codes ----------------------------------------------------------------------

    async def _issue(
        self, target: _Target, channel: str, channel_user_id: str, locale: str | None
    ) -> StartResult:
        t = self.clock.now().timestamp()
        requester = (
            f"sends:requester:{self._h('requester', channel, channel_user_id)}",
            self.policy.max_sends_per_requester,
            self.policy.requester_send_window,
        )
        refused = await self._refused(target, channel, channel_user_id, requester, t)
        if refused is not None:
            return refused

        patient_id, phone = target.patient_id, target.phone
        subject = self._h("subject", target.iin_key, phone or "-")

        lock = await self._lock(subject, t)
        if lock.wait:
            message, params = messages.wait_message(
                lock.wait, short=messages.LOCKED_SECONDS, long=messages.LOCKED_MINUTES
            )
            return StartResult(StartStatus.LOCKED, message, params, retry_after=lock.wait)
        last = await self.store.get(f"last:{subject}")
        if last is not None:
            left = float(last) + self.policy.resend_cooldown.total_seconds() - t
            if left > 0:
                seconds = math.ceil(left)
                return StartResult(
                    StartStatus.TOO_EARLY,
                    messages.RESEND_TOO_EARLY,
                    messages.wait_params(seconds),
                    retry_after=seconds,
                )
        # Per phone (for a decoy: per ИИН, so one ИИН behaves the same either way) and per ИИН.
        windows = (
            (
                f"sends:phone:{self._h('phone', phone or 'iin:' + target.iin_key)}",
                self.policy.max_sends_per_phone,
                self.policy.phone_send_window,
            ),
            (
                f"sends:iin:{target.iin_key}",
                self.policy.max_sends_per_iin,
                self.policy.iin_send_window,
            ),
        )
        for key, cap, span in windows:
            limited = await self._over_limit(key, cap, span, t)
            if limited is not None:
                return limited

        request_id = secrets.token_urlsafe(16)
        code = self._generate_code(self.policy.code_digits)
        # A decoy hashes a random token instead: no typed code can ever match it.
        secret = code if patient_id is not None else secrets.token_hex(16)
        mac = self._mac(secret + request_id)
        lifetime = self.policy.code_lifetime
        previous = await self.store.get(f"active:{subject}")
        if previous is not None:
            await self.store.delete(f"code:{previous}")
        await self.store.set(
            f"code:{request_id}",
            json.dumps({"mac": mac, "exp": t + lifetime.total_seconds()}),
            lifetime,
        )
        await self.store.set(f"active:{subject}", request_id, lifetime)
        pending = _Pending(
            request_id,
            subject,
            target.iin_key,
            patient_id,
            None if phone is None else self._h("phone", phone),
        )
        await self.store.set(
            self._pending_key(channel, channel_user_id),
            pending.to_json(),
            self.policy.request_memory,
        )
        await self.store.set(f"last:{subject}", repr(t), self.policy.resend_cooldown)
        for key, _, span in (requester, *windows):
            await self.store.window_add(key, t, span)

        minutes = max(math.ceil(lifetime.total_seconds() / 60), 1)
        generic = StartResult(StartStatus.SENT, messages.CODE_SENT, {"minutes": minutes})
        if patient_id is None or phone is None:
            self._record(
                "code_withheld", channel, channel_user_id, target=target, reason=target.withheld
            )
            await asyncio.sleep(min(self._send_latency, _MAX_DECOY_DELAY))
            return generic

        body = self.sms_text(
            messages.SMS_CODE, {"code": format_code(code), "minutes": minutes}, locale
        )
        started = time.monotonic()
        try:
            sent = await self.sender.send(phone, body)
        # A failing gateway must not crash the dialog. Telling the patient (the issue's "Could
        # not send the code … call 1414") can reveal, while the gateway fails, that this ИИН
        # has a phone: a decoy never fails. Accepted: the patient must know to retry or call.
        except Exception as exc:
            reason = exc.reason if isinstance(exc, SmsSendError) else type(exc).__name__
            await self.store.delete(f"code:{request_id}")
            await self.store.delete(f"active:{subject}")
            self._record("send_failed", channel, channel_user_id, target=target, reason=reason)
            return StartResult(StartStatus.SEND_FAILED, messages.SEND_FAILED)
        elapsed = time.monotonic() - started
        self._send_latency = (
            elapsed if not self._send_latency else (0.8 * self._send_latency + 0.2 * elapsed)
        )
        self._record(
            "code_sent", channel, channel_user_id, target=target, provider_id=sent.provider_id
        )
        return generic

    async def _refused(
        self,
        target: _Target,
        channel: str,
        channel_user_id: str,
        requester: tuple[str, int, dt.timedelta],
        t: float,
    ) -> StartResult | None:
        """The checks made before anything about the ИИН is read or written."""
        # Per requester first (issue 9 §1): one phone or Telegram account cannot make the
        # service text codes to many patients. It depends on the requester only: it tells
        # nothing about the ИИН.
        limited = await self._over_limit(*requester, t)
        if limited is not None:
            return limited
        # SMS: the sender's phone is the identity, so a code goes only to the sender itself
        # (issue 9 §1). Refused before any per-ИИН state is read (a lock or a cooldown would
        # tell a stranger the ИИН is in use), with one reply for every reason, and nothing
        # stored: a code typed next from this phone finds no request.
        if channel == SMS_CHANNEL and (
            target.phone is None or not _same_phone(target.phone, channel_user_id)
        ):
            self._record(
                "code_refused",
                channel,
                channel_user_id,
                target=target,
                reason=target.withheld or "not_this_phone",
            )
            return StartResult(StartStatus.NOT_THIS_PHONE, messages.NOT_THIS_PHONE)
        return None

    async def _over_limit(
        self, key: str, cap: int, span: dt.timedelta, t: float
    ) -> StartResult | None:
        """SEND_LIMIT when this log already holds `cap` sends within `span`, else None."""
        times = await self.store.window(key, t, span)
        if len(times) < cap:
            return None
        seconds = max(math.ceil(times[len(times) - cap] + span.total_seconds() - t), 1)
        message, params = messages.wait_message(
            seconds, short=messages.SEND_LIMIT_SECONDS, long=messages.SEND_LIMIT_MINUTES
        )
        return StartResult(StartStatus.SEND_LIMIT, message, params, retry_after=seconds)

    async def _target(self, iin: str) -> _Target:
        """Where a code for this ИИН goes: the patient and E.164 phone, or why nowhere."""
        iin_key = self._h("iin", iin)
        found = await self.directory.phone_for(iin)
        if found is None:
            return _Target(iin_key, None, None, "unknown_iin", iin)
        patient_id, phone = found
        if not phone:
            return _Target(iin_key, None, None, "no_phone", iin)
        try:
            return _Target(iin_key, patient_id, normalize_kz_mobile(phone), "", iin)
        except InvalidPhone:
            return _Target(iin_key, None, None, "not_kz_mobile", iin)

    async def _retarget(self, pending: _Pending) -> _Target:
        """The target of a resend: the phone found again by the patient id (none is stored)."""
        if pending.patient_id is None:
            return _Target(pending.iin_key, None, None, "decoy")
        phone = await self._phone_of(pending.patient_id)
        if phone is None:
            return _Target(pending.iin_key, None, None, "no_phone")
        return _Target(pending.iin_key, pending.patient_id, phone, "")

    async def _phone_of(self, patient_id: int) -> str | None:
        """The patient's registered phone as E.164, or None (none, or not a KZ mobile)."""
        phone = await self.directory.phone_of(patient_id)
        if not phone:
            return None
        try:
            return normalize_kz_mobile(phone)
        except InvalidPhone:
            return None

    # ---- verifying --------------------------------------------------------------------------

    async def _signed_in(
        self,
        pending: _Pending,
        patient_id: int,
        phone: str,
        channel: str,
        channel_user_id: str,
        *,
        level: int,
    ) -> VerifyResult:
        subject = pending.subject
        # A success clears the wrong-code counts and the lock escalation.
        for n in range(level + 1):
            await self.store.delete(f"fails:{subject}:{n}")
        for key in (f"lock:{subject}", f"active:{subject}"):
            await self.store.delete(key)
        await self.store.delete(self._pending_key(channel, channel_user_id))
        session = await self.sessions.open(
            patient_id=patient_id, phone=phone, channel=channel, channel_user_id=channel_user_id
        )
        self._record("code_verified", channel, channel_user_id, pending, phone=phone)
        return VerifyResult(
            VerifyStatus.SIGNED_IN,
            messages.SIGNED_IN,
            session=session,
            masked_phone=mask_phone(phone),
        )

    async def _lock(self, subject: str, t: float) -> _Lock:
        raw = await self.store.get(f"lock:{subject}")
        if raw is None:
            return _Lock(wait=0, level=0)
        data = json.loads(raw)
        left = float(data["until"]) - t
        return _Lock(wait=math.ceil(left) if left > 0 else 0, level=int(data["level"]))

    async def _start_lock(self, subject: str, t: float, level: int, code_key: str) -> int:
        wait = self.policy.lock_wait(level)
        # Kept longer than any counter of its levels, so the escalation is never forgotten
        # while a counter still runs.
        await self.store.set(
            f"lock:{subject}",
            json.dumps({"level": level + 1, "until": t + wait.total_seconds()}),
            wait + self.policy.failure_memory,
        )
        # The request dies with the lock (as Twilio Verify's 5 checks): a new code is needed.
        await self.store.delete(code_key)
        await self.store.delete(f"active:{subject}")
        return math.ceil(wait.total_seconds())

    @staticmethod
    def _locked_verify(wait: int) -> VerifyResult:
        message, params = messages.wait_message(
            wait, short=messages.LOCKED_SECONDS, long=messages.LOCKED_MINUTES
        )
        return VerifyResult(VerifyStatus.LOCKED, message, params, retry_after=wait)

    # ---- helpers ----------------------------------------------------------------------------

    async def _pending(self, channel: str, channel_user_id: str) -> _Pending | None:
        raw = await self.store.get(self._pending_key(channel, channel_user_id))
        return None if raw is None else _Pending.from_json(raw)

    def _pending_key(self, channel: str, channel_user_id: str) -> str:
        return f"pending:{self._h('pending', channel, channel_user_id)}"

    def _mac(self, message: str) -> str:
        return hmac.new(self._pepper, message.encode(), hashlib.sha256).hexdigest()

    def _h(self, *parts: str) -> str:
        """A keyed hash for key names, so no ИИН or phone appears in them."""
        return self._mac("\x1f".join(parts))[:32]

    def _record(
        self,
        name: str,
        channel: str,
        channel_user_id: str,
        pending: _Pending | None = None,
        *,
        target: _Target | None = None,
        phone: str | None = None,
        **details: str | int,
    ) -> None:
        patient_id = target.patient_id if target else pending.patient_id if pending else None
        if patient_id is not None:
            details["patient_id"] = patient_id
        self.audit.record(
            AuditEvent.create(
                name,
                at=self.clock.now(),
                iin=target.iin if target else None,
                phone=phone or (target.phone if target else None),
                channel=channel,
                channel_user_id=channel_user_id,
                **details,
            )
        )


def _same_phone(registered: str, sender: str) -> bool:
    """True when the sender's number is the registered phone (both normalised)."""
    try:
        return normalize_kz_mobile(registered) == normalize_kz_mobile(sender)
    except InvalidPhone:
        return False
