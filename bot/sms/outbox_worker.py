"""The durable SMS outbox: a sender that queues, and the worker that sends (issue 5).

`OutboxSmsSender` is the `otp.SmsSender` port for everything that is not an immediate reply
(OTP codes, notifications): `send` writes the message to the database outbox and returns at
once. `OutboxWorker` sends what is due through the real gateway sender (Twilio, or the console
sender in development), rate-limited, retrying temporary failures with exponential back-off.
Nothing is lost while the gateway or this process is down: the rows wait in the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Callable

from backend.bootstrap import Backend
from backend.domain.phone import mask_phone
from backend.services import outbox
from backend.services.outbox import OutboxMessage, OutboxStatus
from bot.logs import get_logger
from bot.polling import PollingWorker
from otp import OtpPolicy, SentSms, SmsSender, SmsSendError

log = get_logger("bot.sms.outbox")

# Twilio's REST errors that no retry can fix (bad number, unreachable destination, …): an
# HTTP 4xx other than 429 (rate limited). 21610: the recipient has replied STOP to Twilio.
_HTTP_ERROR = re.compile(r"twilio_http_(\d{3})_code_(\w+)")
TWILIO_UNSUBSCRIBED = "21610"
CODE_LIFETIME = OtpPolicy().code_lifetime  # a code is not worth sending after it expired
INBOUND_MEMORY = dt.timedelta(days=2)  # inbound message ids (and replies) kept for retries
CLEANUP_EVERY_SECONDS = 3600.0


class OutboxSmsSender:
    """`SmsSender` that queues the message in the database outbox (the worker sends it)."""

    def __init__(
        self,
        backend: Backend,
        *,
        kind: str = "otp",
        sensitive: bool = True,
        lifetime: dt.timedelta | None = CODE_LIFETIME,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        """
        :param kind: what the messages are ("otp", "notification"), for operators.
        :param sensitive: the body is erased once the message is final (codes).
        :param lifetime: not sent at all after this (a code nobody can use; by default the
            OTP policy's code lifetime); None: no limit.
        :param on_enqueue: called after each message is queued (wakes the worker).
        """
        self.backend = backend
        self.kind = kind
        self.sensitive = sensitive
        self.lifetime = lifetime
        self.on_enqueue = on_enqueue

    async def send(self, to: str, body: str) -> SentSms:
        now = self.backend.clock.now()
        try:
            message_id = await outbox.enqueue(
                self.backend.uow(),
                to=to,
                body=body,
                kind=self.kind,
                now=now,
                sensitive=self.sensitive,
                expires_at=now + self.lifetime if self.lifetime is not None else None,
            )
        except outbox.OptedOut:
            raise SmsSendError("opted_out") from None
        if self.on_enqueue is not None:
            self.on_enqueue()
        return SentSms(provider_id=f"outbox-{message_id}", status=OutboxStatus.QUEUED.value)


def is_permanent(reason: str) -> bool:
    match = _HTTP_ERROR.fullmatch(reason)
    if match is None:
        return reason == "opted_out"
    status = int(match.group(1))
    return 400 <= status < 500 and status != 429


class OutboxWorker(PollingWorker):
    name = "sms_outbox"
    drain_rounds = 10
    started_event = "sms_outbox_worker_started"
    failed_event = "sms_outbox_round_failed"

    def __init__(
        self,
        backend: Backend,
        sender: SmsSender,
        *,
        rate_per_second: float = 5.0,
        batch: int = 20,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        max_attempts: int = 8,
        first_retry: dt.timedelta = dt.timedelta(seconds=5),
        max_retry: dt.timedelta = dt.timedelta(minutes=10),
        poll_seconds: float = 1.0,
    ) -> None:
        if isinstance(sender, OutboxSmsSender):
            raise TypeError("the worker needs the gateway sender, not the outbox itself")
        if rate_per_second <= 0 or max_attempts < 1 or batch < 1:
            raise ValueError("rate, attempts and batch must be positive")
        super().__init__(poll_seconds=poll_seconds, first_retry=first_retry, max_retry=max_retry)
        self.backend = backend
        self.sender = sender
        self.interval = 1.0 / rate_per_second
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self._last_send = 0.0
        self._last_cleanup = -CLEANUP_EVERY_SECONDS

    async def run_once(self) -> int:
        """Send what is due now; how many messages were tried."""
        now = self.backend.clock.now()
        if time.monotonic() - self._last_cleanup >= CLEANUP_EVERY_SECONDS:
            self._last_cleanup = time.monotonic()
            await outbox.forget_inbound(self.backend.uow(), before=now - INBOUND_MEMORY)
        tried = 0
        for candidate in await outbox.due(self.backend.uow(), now=now, limit=self.batch):
            message = await outbox.claim(
                self.backend.uow(), candidate.id, now=self.backend.clock.now(), lease=self.lease
            )
            if message is None:  # another worker has it, or it expired or was stopped
                continue
            await self._pace()
            await self._send(message)
            tried += 1
        return tried

    async def _pace(self) -> None:
        wait = self._last_send + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_send = time.monotonic()

    async def _send(self, message: OutboxMessage) -> None:
        uow = self.backend.uow
        to = mask_phone(message.to_phone)
        try:
            sent = await self.sender.send(message.to_phone, message.body or "")
        except Exception as exc:
            reason = exc.reason if isinstance(exc, SmsSendError) else f"error_{type(exc).__name__}"
            now = self.backend.clock.now()
            if reason.endswith(f"_code_{TWILIO_UNSUBSCRIBED}"):
                await outbox.opt_out(uow(), message.to_phone, now=now, source="carrier")
                await outbox.mark_final(
                    uow(), message.id, now=now, status=OutboxStatus.SUPPRESSED, error=reason
                )
                log.warning("sms_outbox_suppressed", id=message.id, to=to, reason=reason)
                return
            if is_permanent(reason) or message.attempts >= self.max_attempts:
                await outbox.mark_final(
                    uow(), message.id, now=now, status=OutboxStatus.FAILED, error=reason
                )
                log.error(
                    "sms_outbox_failed",
                    id=message.id,
                    kind=message.kind,
                    to=to,
                    attempts=message.attempts,
                    reason=reason,
                )
                return
            retry_at = now + self.backoff(message.attempts)
            await outbox.mark_retry(uow(), message.id, now=now, error=reason, retry_at=retry_at)
            log.warning(
                "sms_outbox_retry",
                id=message.id,
                to=to,
                attempts=message.attempts,
                reason=reason,
                retry_in_s=int((retry_at - now).total_seconds()),
            )
            return
        await outbox.mark_accepted(
            uow(),
            message.id,
            now=self.backend.clock.now(),
            provider_id=sent.provider_id,
            provider_status=sent.status,
        )
        log.info("sms_outbox_sent", id=message.id, kind=message.kind, to=to)
