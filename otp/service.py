"""Sign-in by ИИН and a one-time code sent by SMS to the phone registered for that ИИН.

`start` takes the ИИН and sends a code; `verify` checks the typed code and binds the channel
identity to the patient (a `Session`); `resend` sends a new code for the same ИИН. Every reply
is a typed result with a message id and params; the channels translate it.

Rules (domain/anchors.md §3.5): codes from `secrets`, stored only as
HMAC-SHA256(pepper, code + request id) with a TTL, compared in constant time, single use, and
a new code kills the previous one. Wrong codes are counted per (ИИН, phone) across resends;
after `max_wrong_codes` the request dies and a lock with escalating waits starts. Sends are
rate-limited per ИИН and phone. Unknown ИИНs, ИИНs without a phone and phones that are not
Kazakhstan mobiles get the same reply as a real send (ASVS 6.3.8): the service stores a decoy
request that no code can match and sends nothing.
"""

from __future__ import annotations

import asyncio
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

# The decoy wait imitates a real send; it never exceeds this.
_MAX_DECOY_DELAY = 5.0
_MIN_PEPPER_BYTES = 16


class PatientDirectory(Protocol):
    async def phone_for(self, iin: str) -> tuple[int, str | None] | None:
        """(patient id, registered phone or None), or None when the ИИН is unknown."""
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


class VerifyStatus(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"  # expired, used, or replaced by a newer code
    NO_REQUEST = "no_request"
    LOCKED = "locked"


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
    request_id: str
    iin: str
    subject: str
    patient_id: int | None  # None: a decoy (unknown ИИН, no phone, not a KZ mobile)
    phone: str | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "rid": self.request_id,
                "iin": self.iin,
                "subject": self.subject,
                "patient_id": self.patient_id,
                "phone": self.phone,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> _Pending:
        data = json.loads(text)
        patient_id = data.get("patient_id")
        phone = data.get("phone")
        return cls(
            request_id=str(data["rid"]),
            iin=str(data["iin"]),
            subject=str(data["subject"]),
            patient_id=None if patient_id is None else int(patient_id),
            phone=None if phone is None else str(phone),
        )


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
    message = (
        messages.INVALID_IIN_LENGTH
        if reason is IinError.NOT_12_DIGITS
        else messages.INVALID_IIN_CHECK
    )
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
        """Take a typed ИИН; send a code to its registered phone (or pretend to)."""
        try:
            iin = parse_iin(iin_text).value
        except InvalidIin as exc:
            return _invalid_iin(exc.reason)
        return await self._issue(iin, channel, channel_user_id, locale)

    async def resend(
        self, channel: str, channel_user_id: str, *, locale: str | None = None
    ) -> StartResult:
        """A new code for the ИИН this identity gave last; the old code stops working."""
        pending = await self._pending(channel, channel_user_id)
        if pending is None:
            return StartResult(StartStatus.NO_REQUEST, messages.NO_REQUEST)
        return await self._issue(pending.iin, channel, channel_user_id, locale)

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
        typed = normalize_code(code_text, self.policy.code_digits)
        mac = self._mac((typed or "") + pending.request_id)
        matches = typed is not None and hmac.compare_digest(mac, str(stored["mac"]))
        patient_id, phone = pending.patient_id, pending.phone
        if matches and patient_id is not None and phone is not None:
            if not await self.store.delete(code_key):  # used by a parallel attempt just now
                return VerifyResult(VerifyStatus.EXPIRED, messages.CODE_EXPIRED)
            return await self._signed_in(
                pending, patient_id, phone, channel, channel_user_id, level=lock.level
            )

        self._record("code_failed", pending, channel, channel_user_id, attempt=attempt)
        if attempt == self.policy.max_wrong_codes:
            wait = await self._start_lock(subject, t, lock.level, code_key)
            self._record("locked", pending, channel, channel_user_id, wait_seconds=wait)
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
        self, iin: str, channel: str, channel_user_id: str, locale: str | None
    ) -> StartResult:
        now = self.clock.now()
        t = now.timestamp()
        patient_id, phone, withheld = await self._target(iin)
        subject = self._h("subject", iin, phone or "-")

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
                f"sends:phone:{self._h('phone', phone or 'iin:' + iin)}",
                self.policy.max_sends_per_phone,
                self.policy.phone_send_window,
            ),
            (
                f"sends:iin:{self._h('iin', iin)}",
                self.policy.max_sends_per_iin,
                self.policy.iin_send_window,
            ),
        )
        for key, cap, span in windows:
            times = await self.store.window(key, t, span)
            if len(times) >= cap:
                seconds = max(math.ceil(times[len(times) - cap] + span.total_seconds() - t), 1)
                message, params = messages.wait_message(
                    seconds, short=messages.SEND_LIMIT_SECONDS, long=messages.SEND_LIMIT_MINUTES
                )
                return StartResult(StartStatus.SEND_LIMIT, message, params, retry_after=seconds)

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
        pending = _Pending(request_id, iin, subject, patient_id, phone)
        await self.store.set(
            self._pending_key(channel, channel_user_id),
            pending.to_json(),
            self.policy.request_memory,
        )
        await self.store.set(f"last:{subject}", repr(t), self.policy.resend_cooldown)
        for key, _, span in windows:
            await self.store.window_add(key, t, span)

        minutes = max(math.ceil(lifetime.total_seconds() / 60), 1)
        generic = StartResult(StartStatus.SENT, messages.CODE_SENT, {"minutes": minutes})
        if patient_id is None or phone is None:
            self._record("code_withheld", pending, channel, channel_user_id, reason=withheld)
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
            self._record("send_failed", pending, channel, channel_user_id, reason=reason)
            return StartResult(StartStatus.SEND_FAILED, messages.SEND_FAILED)
        elapsed = time.monotonic() - started
        self._send_latency = (
            elapsed if not self._send_latency else (0.8 * self._send_latency + 0.2 * elapsed)
        )
        self._record("code_sent", pending, channel, channel_user_id, provider_id=sent.provider_id)
        return generic

    async def _target(self, iin: str) -> tuple[int | None, str | None, str]:
        """(patient id, E.164 phone, "") when a code can be sent; else (None, None, why not)."""
        found = await self.directory.phone_for(iin)
        if found is None:
            return None, None, "unknown_iin"
        patient_id, phone = found
        if not phone:
            return None, None, "no_phone"
        try:
            return patient_id, normalize_kz_mobile(phone), ""
        except InvalidPhone:
            return None, None, "not_kz_mobile"

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
            patient_id=patient_id,
            iin=pending.iin,
            phone=phone,
            channel=channel,
            channel_user_id=channel_user_id,
        )
        self._record("code_verified", pending, channel, channel_user_id)
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
        pending: _Pending,
        channel: str,
        channel_user_id: str,
        **details: str | int,
    ) -> None:
        self.audit.record(
            AuditEvent.create(
                name,
                at=self.clock.now(),
                iin=pending.iin,
                phone=pending.phone,
                channel=channel,
                channel_user_id=channel_user_id,
                **details,
            )
        )
