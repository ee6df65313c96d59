"""Prometheus metrics (issue 16): what an operator watches, served at `GET /metrics`.

Each app has a registry of its own (not prometheus-client's global one), so two apps in one
process (tests) never share counters. What is counted, and where:

- updates and SMS handled, by channel and outcome, with a handling-time histogram and a
  histogram of SQL statements per event: at the channel edges (`observe_event`), the SQL
  statements counted by a SQLAlchemy `before_cursor_execute` listener into a contextvar;
- bookings and home visits made: appointments and home visits inserted by a flush of the
  app's database (an ORM listener here in bot/: backend/ imports no prometheus), labelled with
  the channel of the event that made them;
- OTP events (sent, verified, locked, ...): the sign-in audit port gets a metrics sink;
- delivery failures: Twilio's delivery reports (the SMS status webhook);
- outbox depth, age of the oldest queued message and messages by status, per channel:
  computed on scrape from the database (both outboxes are shared by every process, so every
  process reports the same figures), with a short timeout.

The desk queue length is not exported yet: the 1414 desk is not part of this branch.

`/metrics` is off (404) unless METRICS_TOKEN is set; then it needs `Authorization: Bearer
<METRICS_TOKEN>` (compared in constant time), like the operator console. Prometheus sends it
with `authorization: {credentials: ...}` in its scrape config.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from backend.adapters.orm import notifications, sms_outbox
from backend.bootstrap import Backend
from backend.domain import model
from bot.logs import get_logger
from otp.audit import AuditEvent

log = get_logger("bot.metrics")

METRICS_PATH: Final = "/metrics"
# The outbox queries of a scrape: a slow database makes the scrape report what it has, soon.
SCRAPE_DB_TIMEOUT_SECONDS: Final = 2.0
_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SQL_BUCKETS: Final = (0, 1, 2, 4, 8, 16, 32, 64, 128)
# Outbox rows still to be sent.
_SMS_WAITING: Final = ("queued", "sending")
_NOTIFICATIONS_WAITING: Final = ("queued", "sending")


@dataclass
class EventScope:
    """One inbound event being handled: its channel and the SQL statements it ran."""

    channel: str
    statements: int = 0
    outcome: str = "handled"


_current: ContextVar[EventScope | None] = ContextVar("dariger_metrics_event", default=None)


def current_channel() -> str:
    scope = _current.get()
    return scope.channel if scope is not None else "other"


def set_outcome(outcome: str) -> None:
    """Name the outcome of the event being handled (`replied`, `duplicate`, ...)."""
    scope = _current.get()
    if scope is not None:
        scope.outcome = outcome


@dataclass
class Metrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        self._engine: Engine | None = None
        r = self.registry
        self.events = Counter(
            "dariger_events",
            "Inbound updates (Telegram) and messages (SMS) handled, by channel and outcome.",
            ["channel", "outcome"],
            registry=r,
        )
        self.event_seconds = Histogram(
            "dariger_event_seconds",
            "Time to handle one inbound update or SMS.",
            ["channel"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.event_sql = Histogram(
            "dariger_event_sql_statements",
            "SQL statements run while handling one inbound update or SMS.",
            ["channel"],
            buckets=_SQL_BUCKETS,
            registry=r,
        )
        self.bookings = Counter(
            "dariger_bookings",
            "Appointments booked (new or moved), by channel.",
            ["channel"],
            registry=r,
        )
        self.home_visits = Counter(
            "dariger_home_visits", "Home visits requested, by channel.", ["channel"], registry=r
        )
        self.otp = Counter(
            "dariger_otp_events",
            "Sign-in events: code_sent, code_verified, code_failed, locked, ...",
            ["event"],
            registry=r,
        )
        self.delivery_failures = Counter(
            "dariger_delivery_failures",
            "Messages the provider reported as not delivered, by channel.",
            ["channel"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "dariger_outbox_depth",
            "Messages waiting in the outbox (queued or being sent), by channel.",
            ["channel"],
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "dariger_outbox_oldest_age_seconds",
            "Age of the oldest message waiting in the outbox, by channel (0: none waiting).",
            ["channel"],
            registry=r,
        )
        self.outbox_messages = Gauge(
            "dariger_outbox_messages",
            "Outbox rows by channel and status (failed: gave up).",
            ["channel", "status"],
            registry=r,
        )
        self.scrape_errors = Counter(
            "dariger_metrics_scrape_errors",
            "Scrapes whose database figures could not be read in time.",
            registry=r,
        )

    # --- events at the channel edges ----------------------------------------------------

    @contextlib.contextmanager
    def observe_event(self, channel: str, request_id: str | None = None) -> Iterator[EventScope]:
        """Time one inbound event, count its SQL statements, record its outcome. An exception
        is counted as outcome `error` and propagates. `request_id` (the Telegram update id,
        Twilio's MessageSid) is bound to every log line of the event."""
        scope = EventScope(channel)
        token = _current.set(scope)
        started = time.perf_counter()
        try:
            if request_id is None:
                yield scope
            else:
                with structlog.contextvars.bound_contextvars(request_id=request_id):
                    yield scope
        except BaseException:
            scope.outcome = "error"
            raise
        finally:
            _current.reset(token)
            self.events.labels(channel, scope.outcome).inc()
            self.event_seconds.labels(channel).observe(time.perf_counter() - started)
            self.event_sql.labels(channel).observe(scope.statements)

    # --- the database: statements per event, bookings, home visits ---------------------

    def watch_database(self, backend: Backend) -> None:
        """Listen to `backend`'s engine and sessions (until `unwatch_database`)."""
        self._engine = backend.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", _count_statement)
        event.listen(Session, "after_flush", self._after_flush)

    def unwatch_database(self) -> None:
        engine = self._engine
        if engine is None:
            return
        if event.contains(engine, "before_cursor_execute", _count_statement):
            event.remove(engine, "before_cursor_execute", _count_statement)
        if event.contains(Session, "after_flush", self._after_flush):
            event.remove(Session, "after_flush", self._after_flush)
        self._engine = None

    def _after_flush(self, session: Session, _context: Any) -> None:
        if session.bind is not self._engine:
            return  # another app's database (tests run several)
        for obj in session.new:
            if isinstance(obj, model.Appointment):
                self.bookings.labels(current_channel()).inc()
            elif isinstance(obj, model.HomeVisit):
                self.home_visits.labels(current_channel()).inc()

    # --- the scrape ---------------------------------------------------------------------

    async def refresh_outboxes(self, backend: Backend) -> None:
        """Read the outboxes' figures from the database (a timeout is logged and counted)."""
        try:
            async with asyncio.timeout(SCRAPE_DB_TIMEOUT_SECONDS):
                await self._read_outboxes(backend)
        except Exception as exc:  # a scrape never fails: it says what it could not read
            self.scrape_errors.inc()
            log.warning("metrics: outbox figures unavailable", error=repr(exc)[:200])

    async def _read_outboxes(self, backend: Backend) -> None:
        now = backend.clock.now()
        waiting: dict[str, tuple[int, dt.datetime | None]] = {}
        by_status: dict[tuple[str, str], int] = {}
        async with backend.engine.connect() as conn:
            sms = await conn.execute(
                select(
                    sms_outbox.c.status, func.count(), func.min(sms_outbox.c.created_at)
                ).group_by(sms_outbox.c.status)
            )
            for status, count, oldest in sms:
                by_status["sms", status] = count
                if status in _SMS_WAITING:
                    _add_waiting(waiting, "sms", count, oldest)
            # SMS notifications are handed to sms_outbox (status "rerouted"): counted there.
            rows = await conn.execute(
                select(
                    notifications.c.channel,
                    notifications.c.status,
                    func.count(),
                    func.min(notifications.c.created_at),
                ).group_by(notifications.c.channel, notifications.c.status)
            )
            for channel, status, count, oldest in rows:
                name = "telegram" if channel == "telegram" else f"notify_{channel}"
                by_status[name, status] = by_status.get((name, status), 0) + count
                if status in _NOTIFICATIONS_WAITING and channel == "telegram":
                    _add_waiting(waiting, name, count, oldest)
        for channel in ("sms", "telegram"):
            count, oldest = waiting.get(channel, (0, None))
            self.outbox_depth.labels(channel).set(count)
            age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
            self.outbox_oldest.labels(channel).set(max(age, 0.0))
        for (channel, status), count in by_status.items():
            self.outbox_messages.labels(channel, status).set(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _add_waiting(
    waiting: dict[str, tuple[int, dt.datetime | None]],
    channel: str,
    count: int,
    oldest: dt.datetime | None,
) -> None:
    before, first = waiting.get(channel, (0, None))
    if oldest is not None and (first is None or _aware(oldest) < _aware(first)):
        first = oldest
    waiting[channel] = (before + count, first)


def _count_statement(*_args: Any, **_kwargs: Any) -> None:
    scope = _current.get()
    if scope is not None:
        scope.statements += 1


class MetricsAuditSink:
    """The sign-in audit port's metrics side: one counter per event name."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def record(self, event: AuditEvent) -> None:
        self.metrics.otp.labels(event.name).inc()


class TeeAuditSink:
    """Hands each audit event to several sinks (the log and the metrics)."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = sinks

    def record(self, event: AuditEvent) -> None:
        for sink in self.sinks:
            sink.record(event)


def update_metrics_middleware(metrics: Metrics) -> Any:
    """Telegram (an outer update middleware, webhook and polling alike): one update is one
    event; its id is the request id of its log lines (`tg-<update_id>`). Built on demand:
    aiogram is imported only when the Telegram channel is on (`dariger --help` stays quick)."""
    from aiogram.dispatcher.event.bases import UNHANDLED  # noqa: PLC0415
    from aiogram.dispatcher.middlewares.base import BaseMiddleware  # noqa: PLC0415
    from aiogram.types import TelegramObject, Update  # noqa: PLC0415

    class UpdateMetrics(BaseMiddleware):
        async def __call__(
            self,
            handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
            event: TelegramObject,
            data: dict[str, Any],
        ) -> Any:
            if not isinstance(event, Update):
                return await handler(event, data)
            with metrics.observe_event("telegram", f"tg-{event.update_id}") as scope:
                result = await handler(event, data)
                if result is UNHANDLED:
                    scope.outcome = "unhandled"
                return result

    return UpdateMetrics()


METRICS_KEY: Final = web.AppKey("metrics", Metrics)


def metrics_handler(token: str | None, backend: Backend, metrics: Metrics) -> Any:
    """`GET /metrics`: 404 without a token configured, 401 without the right bearer token."""
    expected = token.encode("utf-8") if token else None

    async def handler(request: web.Request) -> web.Response:
        if expected is None:
            raise web.HTTPNotFound
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode("utf-8"), expected
        ):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        await metrics.refresh_outboxes(backend)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return handler
