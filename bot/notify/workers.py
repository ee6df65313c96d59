"""The workers that send the notification outbox (issue 11).

`TelegramWorker` claims due Telegram notifications (a batch at a time; two workers never get
the same one), renders each in the patient's language, waits for the shared limiter
(1 message/s per chat, ~30/s overall; `RedisRateLimiter` when several processes share a Redis)
and sends it:
- 429 Too Many Requests: everything waits `retry_after`, the message is retried after it;
- 403 Forbidden (the patient blocked the bot): the chat is marked blocked and the message goes
  by SMS to the registered phone (failed, for the 1414 operators, when there is none);
- another permanent error (chat not found): failed, visible to operators;
- a network or server error: retried with back-off, failed after `max_attempts`.

`SmsNotificationWorker` renders the SMS notifications and hands them to the SMS outbox (one
transaction), whose worker sends them with its own pacing and retries.

Sent messages are marked in one statement per batch: if the process dies between sending and
marking, the lease runs out and they are sent again (at least once, never lost).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from backend.bootstrap import Backend
from backend.services import notifications
from backend.services.notifications import Notification
from bot.i18n import Translator
from bot.logs import get_logger
from bot.notify.limits import RateLimiter, SendLimiter
from bot.notify.render import RenderedNotification, render_sms, render_telegram
from bot.polling import PollingWorker

log = get_logger("bot.notify")


class Blocked(Exception):
    """Telegram 403: the patient blocked the bot (or deleted the account)."""


class RetryAfter(Exception):
    """Telegram 429: wait `seconds` before sending anything."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry_after_{seconds:g}")
        self.seconds = seconds


class PermanentFailure(Exception):
    """A message no retry can deliver (chat not found, a bad request)."""


class NotificationSender(Protocol):
    """Sends one rendered notification to a Telegram chat (raises the exceptions above;
    anything else is a temporary failure)."""

    async def send(
        self, chat_id: str, message: RenderedNotification, number: str | None
    ) -> None: ...


Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TelegramWorker(PollingWorker):
    drain_rounds = 1000
    started_event = "notify_worker_started"
    failed_event = "notify_round_failed"

    def __init__(
        self,
        backend: Backend,
        sender: NotificationSender,
        translator: Translator,
        *,
        limiter: SendLimiter | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        batch: int = 50,
        lease: dt.timedelta = dt.timedelta(seconds=120),
        max_attempts: int = 8,
        first_retry: dt.timedelta = dt.timedelta(seconds=5),
        max_retry: dt.timedelta = dt.timedelta(minutes=10),
        poll_seconds: float = 1.0,
        name: str = "telegram",
    ) -> None:
        if batch < 1 or max_attempts < 1:
            raise ValueError("batch and attempts must be positive")
        super().__init__(poll_seconds=poll_seconds, first_retry=first_retry, max_retry=max_retry)
        self.backend = backend
        self.sender = sender
        self.translator = translator
        self.limiter: SendLimiter = limiter or RateLimiter()
        self.monotonic = monotonic
        self.sleep = sleep
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.name = name

    async def run_once(self) -> int:
        """Send what is due now; how many notifications were tried."""
        claimed = await notifications.claim(
            self.backend.uow(),
            channel=notifications.TELEGRAM,
            now=self.backend.clock.now(),
            lease=self.lease,
            limit=self.batch,
        )
        sent: list[int] = []
        try:
            for notification in claimed:
                if await self._deliver(notification):
                    sent.append(notification.id)  # noqa: PERF401 - kept when one fails
        finally:
            if sent:
                await notifications.mark_sent(
                    self.backend.uow(), sent, now=self.backend.clock.now()
                )
        return len(claimed)

    async def _pace(self, chat: str) -> None:
        while (wait := await self.limiter.acquire(chat, self.monotonic())) > 0:
            await self.sleep(wait)

    async def _deliver(self, notification: Notification) -> bool:
        """Send one; True when Telegram took it (marked sent with its batch)."""
        uow = self.backend.uow
        rendered = render_telegram(notification, self.translator)
        await self._pace(notification.address)
        try:
            await self.sender.send(notification.address, rendered, notification.application_number)
        except RetryAfter as exc:
            await self.limiter.suspend(self.monotonic(), exc.seconds)
            now = self.backend.clock.now()
            retry_at = now + dt.timedelta(seconds=exc.seconds)
            await notifications.mark_retry(
                uow(), notification.id, now=now, error=str(exc), retry_at=retry_at
            )
            log.warning("notify_rate_limited", id=notification.id, retry_after=exc.seconds)
            return False
        except Blocked:
            sms_id = await notifications.reroute_blocked(
                uow(), notification, now=self.backend.clock.now()
            )
            log.warning("notify_blocked", id=notification.id, rerouted_to=sms_id)
            return False
        except PermanentFailure as exc:
            await notifications.mark_failed(
                uow(), notification.id, now=self.backend.clock.now(), error=str(exc)
            )
            log.error("notify_failed", id=notification.id, reason=str(exc))
            return False
        except Exception as exc:
            reason = f"error_{type(exc).__name__}"
            now = self.backend.clock.now()
            if notification.attempts >= self.max_attempts:
                await notifications.mark_failed(uow(), notification.id, now=now, error=reason)
                log.error("notify_failed", id=notification.id, reason=reason)
                return False
            retry_at = now + self.backoff(notification.attempts)
            await notifications.mark_retry(
                uow(), notification.id, now=now, error=reason, retry_at=retry_at
            )
            log.warning("notify_retry", id=notification.id, reason=reason)
            return False
        return True


class SmsNotificationWorker(PollingWorker):
    """SMS notifications: rendered in the patient's language and handed to the SMS outbox."""

    name = "sms"
    started_event = "notify_worker_started"
    failed_event = "notify_round_failed"

    def __init__(
        self,
        backend: Backend,
        translator: Translator,
        *,
        on_handed: Callable[[], None] | None = None,
        link_for: Callable[[Notification], str] | None = None,
        batch: int = 50,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(poll_seconds=poll_seconds)
        self.backend = backend
        self.translator = translator
        self.on_handed = on_handed
        self.link_for = link_for  # issue 13: the expiring download link of a document notice
        self.batch = batch
        self.lease = lease

    async def run_once(self) -> int:
        claimed = await notifications.claim(
            self.backend.uow(),
            channel=notifications.SMS,
            now=self.backend.clock.now(),
            lease=self.lease,
            limit=self.batch,
        )
        for claimed_one in claimed:
            notification = claimed_one
            if notification.kind is notifications.Kind.DOCUMENT and self.link_for is not None:
                # Made when sent: the link's 24 h run from the SMS, not from the queue.
                link = self.link_for(notification)
                notification = replace(notification, params={**notification.params, "link": link})
            body = render_sms(notification, self.translator)
            await notifications.hand_to_sms(
                self.backend.uow(), notification, body, now=self.backend.clock.now()
            )
        if claimed and self.on_handed is not None:
            self.on_handed()
        return len(claimed)
