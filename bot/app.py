"""The one aiohttp application: health checks now; webhooks and consoles are added to it later.

Later issues extend `create_app` (the Telegram webhook, Twilio's SMS webhooks, the operator
console, certificate verification) and read what they need through the typed keys below.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Final

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis

from backend.bootstrap import Backend
from backend.services.schedules import ScheduleTemplate, materialise_from_today, stored_templates
from bot.config import Settings
from bot.logs import get_logger
from bot.metrics import (
    METRICS_KEY,
    METRICS_PATH,
    Metrics,
    MetricsAuditSink,
    TeeAuditSink,
    metrics_handler,
    update_metrics_middleware,
)
from bot.polling import first_round_delay
from bot.runtime import Runtime, build_redis, build_runtime
from otp import SmsSender

SETTINGS_KEY: Final = web.AppKey("settings", Settings)
BACKEND_KEY: Final = web.AppKey("backend", Backend)
# None when REDIS_URL is empty: state then lives in the process.
REDIS_KEY: Final[web.AppKey[Redis | None]] = web.AppKey("redis")
RUNTIME_KEY: Final = web.AppKey("runtime", Runtime)
_READY_TIMEOUT_KEY: Final = web.AppKey("ready_timeout", float)
# Set to False before the app starts to keep the slot top-up from running (tests).
SLOT_TOP_UP_KEY: Final = web.AppKey("slot_top_up_enabled", bool)

READY_TIMEOUT_SECONDS: Final = 2.0
# The stored weekly schedules are materialised at start-up and then this often, so that the
# booking horizon always has slots (S3 row 5: appointment times come from the schedule).
SLOT_TOP_UP_INTERVAL_SECONDS: Final = 6 * 60 * 60
SLOT_TOP_UP_STOP_SECONDS: Final = 5.0
REQUEST_ID_HEADER: Final = "X-Request-ID"
# Slow clients (issue 9 §4). A connection that has not sent a whole request line and headers
# within KEEPALIVE_TIMEOUT_SECONDS of opening (or of its previous response) is closed: aiohttp
# arms its keep-alive timer when a connection opens and closes it if no complete request has
# arrived when it fires (aiohttp's default is an hour). A request body must arrive within
# BODY_TIMEOUT_SECONDS of the headers, else 408. What aiohttp cannot bound (the number of
# connections per client, total request time) is the reverse proxy's job: README, Production
# notes.
KEEPALIVE_TIMEOUT_SECONDS: Final = 15.0
BODY_TIMEOUT_SECONDS: Final = 15.0
_BODY_TIMEOUT_KEY: Final = web.AppKey("body_timeout", float)
# A sub-application that reads (and limits) its own request bodies as a stream, within
# `body_deadline(request)`, sets this to True: the middleware then leaves its bodies alone.
READS_OWN_BODY: Final = web.AppKey("reads_own_body", bool)
# Probes call these every few seconds: their request lines are logged at DEBUG only.
_PROBE_PATHS: Final = frozenset({"/healthz", "/readyz"})
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

log = get_logger("bot.http")


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if _GOOD_REQUEST_ID.fullmatch(given):
        return given
    return secrets.token_urlsafe(9)


@web.middleware
async def body_timeout_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read a request's body within the app's body timeout (408 otherwise), before a handler
    sees it; the handlers then read it from memory (aiohttp keeps what was read)."""
    own = any(app.get(READS_OWN_BODY, False) for app in request.match_info.apps)
    if request.can_read_body and not own:
        try:
            async with asyncio.timeout(request.app[_BODY_TIMEOUT_KEY]):
                await request.read()
        except TimeoutError:
            log.warning("request body too slow", method=request.method, path=request.path)
            raise web.HTTPRequestTimeout(
                text="request body too slow", headers={"Connection": "close"}
            ) from None
    return await handler(request)


def body_deadline(request: web.Request) -> float:
    """Seconds a handler that reads its own body may take to receive it."""
    return request.config_dict.get(_BODY_TIMEOUT_KEY, BODY_TIMEOUT_SECONDS)


def make_runner(
    app: web.Application, *, keepalive_timeout: float = KEEPALIVE_TIMEOUT_SECONDS
) -> web.AppRunner:
    """The runner `dariger serve` uses: our request log instead of aiohttp's access log (which
    would print query strings), signals handled by the CLI, and the slow-client limit."""
    return web.AppRunner(
        app, access_log=None, handle_signals=False, keepalive_timeout=keepalive_timeout
    )


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id to every log line of the request; log method, path, status, time.

    Bodies and query strings are never logged (they may carry an ИИН or a phone number).
    """
    request_id = _request_id(request)
    started = time.perf_counter()
    status = 500
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            status = exc.status
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away (nginx's code for it)
            raise
        except Exception:
            log.exception("request failed", method=request.method, path=request.path)
            raise
        else:
            status = response.status
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            level = "debug" if request.path in _PROBE_PATHS and status < 500 else "info"
            getattr(log, level)(
                "request",
                method=request.method,
                path=request.path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )


async def healthz(_request: web.Request) -> web.Response:
    """The process is up and serving. Touches nothing else."""
    return web.json_response({"status": "ok"})


async def _answers(component: str, check: Awaitable[object], seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await check
    except TimeoutError:
        log.warning("readiness check timed out", component=component, timeout_s=seconds)
        return False
    except Exception as exc:
        log.warning("readiness check failed", component=component, error=repr(exc))
        return False
    return True


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database (and Redis, when configured) answer within a short timeout."""
    timeout = request.app[_READY_TIMEOUT_KEY]
    backend = request.app[BACKEND_KEY]
    redis = request.app[REDIS_KEY]

    checks = [_answers("database", backend.ping(), timeout)]
    if redis is not None:
        checks.append(_answers("redis", redis.ping(), timeout))
    results = await asyncio.gather(*checks)

    database_ok = results[0]
    body = {
        "status": "ready",
        "database": "ok" if database_ok else "unavailable",
        "redis": "not configured",
    }
    ready = database_ok
    if redis is not None:
        body["redis"] = "ok" if results[1] else "unavailable"
        ready = ready and results[1]
    if not ready:
        body["status"] = "unavailable"
    return web.json_response(body, status=200 if ready else 503)


def create_app(
    settings: Settings,
    backend: Backend,
    redis: Redis | None = None,
    *,
    ready_timeout: float = READY_TIMEOUT_SECONDS,
    sender: SmsSender | None = None,
    body_timeout: float = BODY_TIMEOUT_SECONDS,
) -> web.Application:
    """The HTTP application. It owns `backend` and the Redis client: both close on cleanup.

    `redis` is built from REDIS_URL when not given (and stays None when REDIS_URL is empty).
    """
    if redis is None and settings.redis_url:
        redis = build_redis(settings.redis_url, connect_timeout=ready_timeout)

    app = web.Application(middlewares=[request_log_middleware, body_timeout_middleware])
    app[_BODY_TIMEOUT_KEY] = body_timeout
    app[SETTINGS_KEY] = settings
    app[BACKEND_KEY] = backend
    app[REDIS_KEY] = redis
    app[_READY_TIMEOUT_KEY] = ready_timeout
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.on_cleanup.append(_close_resources)
    app[SLOT_TOP_UP_KEY] = True
    app.cleanup_ctx.append(_run_slot_top_up)
    runtime = build_runtime(settings, backend, redis, sender=sender)
    app[RUNTIME_KEY] = runtime
    metrics = _install_metrics(app, settings, backend, runtime)
    from bot.channels import CHANNELS  # noqa: PLC0415 - channels import this module's keys

    for install in CHANNELS:
        install(app, runtime)
    from bot.telegram import DISPATCHER_KEY  # noqa: PLC0415 - the channels import this module

    if DISPATCHER_KEY in app:
        # Inside the dedupe middleware: a dropped duplicate is not counted as handled.
        app[DISPATCHER_KEY].update.outer_middleware(update_metrics_middleware(metrics))
    return app


def _install_metrics(
    app: web.Application, settings: Settings, backend: Backend, runtime: Runtime
) -> Metrics:
    """`GET /metrics` (bot/metrics.py), the database listeners and the OTP audit counters."""
    metrics = Metrics()
    app[METRICS_KEY] = metrics
    metrics.watch_database(backend)

    async def unwatch(_app: web.Application) -> None:
        metrics.unwatch_database()

    app.on_cleanup.append(unwatch)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app.router.add_get(METRICS_PATH, metrics_handler(token, backend, metrics))
    sink = MetricsAuditSink(metrics)
    for service in (runtime.services.otp, runtime.services.sessions):
        service.audit = TeeAuditSink(service.audit, sink)
    return metrics


async def _close_resources(app: web.Application) -> None:
    redis = app[REDIS_KEY]
    try:
        if redis is not None:
            await redis.aclose()
    finally:
        await app[BACKEND_KEY].close()


# --- slots: the daily top-up from the stored schedules -------------------------------------


TOP_UP_DOCTORS_PER_BATCH: Final = 4


async def top_up_once(backend: Backend) -> int | None:
    """Materialise the stored schedules for the booking horizon; the number of slots created,
    or None when it failed (logged as a warning: the next run tries again).

    A few doctors per transaction, yielding between them: on a cold start (the whole horizon
    to create, every statement compiled for the first time) one transaction for every doctor
    held the event loop for about half a second, with requests waiting (issue 16). A batch
    that another process tops up at the same time is skipped slot by slot, not an error."""
    days = backend.policy.horizon_days
    now = backend.clock.now()
    created = 0
    try:
        async with backend.uow() as uow:
            templates = await stored_templates(uow)
        by_doctor: dict[str, list[ScheduleTemplate]] = {}
        for template in templates:
            by_doctor.setdefault(template.doctor_code, []).append(template)
        codes = sorted(by_doctor)
        for first in range(0, len(codes), TOP_UP_DOCTORS_PER_BATCH):
            batch = [t for code in codes[first : first + TOP_UP_DOCTORS_PER_BATCH]
                     for t in by_doctor[code]]  # fmt: skip
            async with backend.uow() as uow:
                created += await materialise_from_today(uow, batch, now=now, days=days)
                await uow.commit()
            await asyncio.sleep(0)  # requests in between
    except Exception as exc:
        log.warning("slot top-up failed", error=repr(exc), created=created)
        return None
    log.info("slots topped up", created=created, days=days)
    return created


async def _top_up_forever(backend: Backend, stopping: asyncio.Event) -> None:
    await first_round_delay()  # the loops of a starting process do not all start at once
    while not stopping.is_set():
        await top_up_once(backend)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), SLOT_TOP_UP_INTERVAL_SECONDS)


async def _run_slot_top_up(app: web.Application) -> AsyncIterator[None]:
    if not app[SLOT_TOP_UP_KEY]:
        yield
        return
    stopping = asyncio.Event()
    task = asyncio.create_task(_top_up_forever(app[BACKEND_KEY], stopping), name="slot-top-up")
    try:
        yield
    finally:
        # Let a top-up in progress finish its transaction (it is short); cancel one that hangs.
        stopping.set()
        done, _ = await asyncio.wait({task}, timeout=SLOT_TOP_UP_STOP_SECONDS)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
