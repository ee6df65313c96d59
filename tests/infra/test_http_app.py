"""The aiohttp application: liveness, readiness (database and Redis), request logging."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from sqlalchemy import func, select

from backend.adapters import orm
from backend.adapters.db import migrate
from backend.bootstrap import Backend, bootstrap
from backend.ports import FixedClock
from backend.services.demo import load_demo_data
from bot import app as app_module
from bot.app import BACKEND_KEY, REDIS_KEY, SETTINGS_KEY, SLOT_TOP_UP_KEY, create_app
from bot.config import Settings
from bot.desk.channel import DESK_LOOP_KEY
from bot.logs import configure_logging
from bot.notify.channel import NOTIFY_ENABLED_KEY
from bot.sms.channel import SMS_WORKER_KEY
from bot.verify import STATEMENTS_ENABLED_KEY

# Readiness must answer within its timeout even when a server does not; allow for slow CI.
READY_BOUND_SECONDS = 5.0


pytestmark = pytest.mark.usefixtures("clean_env")


def _settings(database_url: str = "sqlite+aiosqlite:///:memory:", redis_url: str = "") -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url)


class _RecordingRedis(Redis):
    closed = False

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        self.closed = True
        await super().aclose(close_connection_pool)


@pytest.fixture
async def sqlite_backend(sqlite_url: str) -> Backend:
    await asyncio.to_thread(migrate, sqlite_url)
    return bootstrap(sqlite_url)  # the app closes it on cleanup


def _closed_postgres(port: int) -> Backend:
    return bootstrap(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres")


async def test_healthz_is_ok_without_touching_anything(
    aiohttp_client: AiohttpClient, free_port: int
) -> None:
    # Even with a database that cannot be reached, the process is alive.
    client = await aiohttp_client(create_app(_settings(), _closed_postgres(free_port)))

    response = await client.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_app_exposes_its_parts_through_typed_keys(
    aiohttp_client: AiohttpClient, sqlite_backend: Backend
) -> None:
    settings = _settings()
    app = create_app(settings, sqlite_backend)

    assert app[SETTINGS_KEY] is settings
    assert app[BACKEND_KEY] is sqlite_backend
    assert app[REDIS_KEY] is None
    await aiohttp_client(app)  # starts and cleans up (closing the backend)


async def test_readyz_on_sqlite_without_redis(
    aiohttp_client: AiohttpClient, sqlite_backend: Backend
) -> None:
    client = await aiohttp_client(create_app(_settings(), sqlite_backend))

    response = await client.get("/readyz")

    assert response.status == 200
    assert await response.json() == {
        "status": "ready",
        "database": "ok",
        "redis": "not configured",
    }


def _loops_on(app: web.Application) -> None:
    """Every background loop runs alongside the probe (their cold first rounds included)."""
    for key in (SLOT_TOP_UP_KEY, SMS_WORKER_KEY, NOTIFY_ENABLED_KEY, DESK_LOOP_KEY):
        assert app[key] is True
    assert app[STATEMENTS_ENABLED_KEY] is True


@pytest.mark.postgres
@pytest.mark.redis
async def test_readyz_on_real_postgres_and_redis(
    aiohttp_client: AiohttpClient, real_postgres_url: str, real_redis_url: str
) -> None:
    settings = _settings(database_url=real_postgres_url, redis_url=real_redis_url)
    app = create_app(settings, bootstrap(settings.database_url))
    _loops_on(app)
    client = await aiohttp_client(app)

    response = await client.get("/readyz")

    assert response.status == 200
    assert await response.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(
    aiohttp_client: AiohttpClient, free_port: int
) -> None:
    app = create_app(_settings(), _closed_postgres(free_port))
    _loops_on(app)  # each of them failing and backing off meanwhile
    client = await aiohttp_client(app)

    started = time.monotonic()
    response = await client.get("/readyz")

    assert time.monotonic() - started < READY_BOUND_SECONDS
    assert response.status == 503
    body = await response.json()
    assert body["database"] == "unavailable"
    assert body["status"] == "unavailable"


async def test_readyz_does_not_hang_on_a_silent_database(aiohttp_client: AiohttpClient) -> None:
    # A server that accepts the connection and then says nothing: only the timeout ends it.
    writers: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backend = bootstrap(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres")
    app = create_app(_settings(), backend, ready_timeout=0.5)
    app[SLOT_TOP_UP_KEY] = False  # its connection would wait for the silent server too
    client = await aiohttp_client(app)
    try:
        started = time.monotonic()
        response = await client.get("/readyz")

        assert time.monotonic() - started < READY_BOUND_SECONDS
        assert response.status == 503
        assert (await response.json())["database"] == "unavailable"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@pytest.mark.redis
async def test_readyz_with_real_redis(
    aiohttp_client: AiohttpClient, sqlite_backend: Backend, real_redis_url: str
) -> None:
    settings = _settings(redis_url=real_redis_url)
    client = await aiohttp_client(create_app(settings, sqlite_backend))

    response = await client.get("/readyz")

    assert response.status == 200
    assert await response.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_readyz_is_503_when_redis_is_unreachable(
    aiohttp_client: AiohttpClient, sqlite_backend: Backend, free_port: int
) -> None:
    settings = _settings(redis_url=f"redis://127.0.0.1:{free_port}/0")
    client = await aiohttp_client(create_app(settings, sqlite_backend))

    started = time.monotonic()
    response = await client.get("/readyz")

    assert time.monotonic() - started < READY_BOUND_SECONDS
    assert response.status == 503
    assert await response.json() == {
        "status": "unavailable",
        "database": "ok",
        "redis": "unavailable",
    }


@pytest.mark.redis
async def test_a_given_redis_client_is_used_and_closed(
    aiohttp_client: AiohttpClient, sqlite_backend: Backend, real_redis_url: str
) -> None:
    redis = _RecordingRedis.from_url(real_redis_url)
    assert isinstance(redis, _RecordingRedis)
    app = create_app(_settings(), sqlite_backend, redis)
    client = await aiohttp_client(app)

    response = await client.get("/readyz")

    assert (await response.json())["redis"] == "ok"
    assert app[REDIS_KEY] is redis
    await client.close()
    assert redis.closed  # the app owns the client: closed on cleanup


async def test_requests_are_logged_with_an_id_and_without_query_strings(
    aiohttp_client: AiohttpClient,
    sqlite_backend: Backend,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("console", "INFO")
    client = await aiohttp_client(create_app(_settings(), sqlite_backend))

    response = await client.get(
        "/no-such-page?iin=900101300126&phone=%2B77011234567",
        headers={"X-Request-ID": "req-42"},
    )

    assert response.status == 404
    assert response.headers["X-Request-ID"] == "req-42"
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "request" in line and "404" in line)
    assert "request_id=req-42" in line
    assert "path=/no-such-page" in line
    assert "method=GET" in line
    assert "duration_ms=" in line
    assert "iin=" not in line
    assert "7011234567" not in err


async def test_a_request_id_is_made_when_none_or_a_bad_one_is_given(
    aiohttp_client: AiohttpClient, sqlite_backend: Backend
) -> None:
    client = await aiohttp_client(create_app(_settings(), sqlite_backend))

    plain = await client.get("/healthz")
    bad = await client.get("/healthz", headers={"X-Request-ID": "x" * 200})

    assert plain.headers["X-Request-ID"]
    assert bad.headers["X-Request-ID"] != "x" * 200
    assert plain.headers["X-Request-ID"] != bad.headers["X-Request-ID"]


# --- the slot top-up that runs with the app ---------------------------------------------------

ALMATY = ZoneInfo("Asia/Almaty")
WAIT_SECONDS = 10.0


async def _slots(backend: Backend) -> int:
    async with backend.uow() as uow:
        stmt = select(func.count()).select_from(orm.slots)
        return int((await uow.session.execute(stmt)).scalar_one())


async def _more_slots_than(backend: Backend, count: int) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while (now := await _slots(backend)) <= count and time.monotonic() < deadline:  # noqa: ASYNC110 - polling the database
        await asyncio.sleep(0.02)
    return now


@pytest.fixture
async def demo_backend(database_url: str) -> Backend:
    """The demo city loaded on Monday 23 November 2026 (slots to 6 December); the app closes
    the backend on cleanup."""
    clock = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY))
    backend = bootstrap(database_url, clock=clock)
    await load_demo_data(backend)
    return backend


async def test_the_app_tops_up_slots_at_start_and_every_interval(
    aiohttp_client: AiohttpClient,
    demo_backend: Backend,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "SLOT_TOP_UP_INTERVAL_SECONDS", 0.05)
    clock = demo_backend.clock
    assert isinstance(clock, FixedClock)
    loaded = await _slots(demo_backend)
    clock.advance(dt.timedelta(days=7))  # 7 to 13 December come into the 14-day horizon

    client = await aiohttp_client(create_app(_settings(database_url), demo_backend))
    at_start = await _more_slots_than(demo_backend, loaded)
    clock.advance(dt.timedelta(days=1))  # and, one interval later, Monday 14 December
    next_time = await _more_slots_than(demo_backend, at_start)

    assert loaded < at_start < next_time
    assert (await client.get("/healthz")).status == 200


@pytest.mark.redis
async def test_readyz_answers_while_every_loop_does_its_cold_first_round(
    aiohttp_client: AiohttpClient, demo_backend: Backend, database_url: str, real_redis_url: str
) -> None:
    # A fresh process with a week of slots to create, reminders and deadlines to look at, the
    # outboxes, the desk and the statements: the probe still answers at once, every time.
    clock = demo_backend.clock
    assert isinstance(clock, FixedClock)
    loaded = await _slots(demo_backend)
    clock.advance(dt.timedelta(days=7))
    app = create_app(_settings(database_url, real_redis_url), demo_backend)
    _loops_on(app)
    client = await aiohttp_client(app)

    answers = []
    for _ in range(10):
        answers.append((await client.get("/readyz")).status)
        await asyncio.sleep(0.1)

    assert answers == [200] * 10
    assert await _more_slots_than(demo_backend, loaded) > loaded  # the top-up did run


async def test_the_top_up_can_be_turned_off(
    aiohttp_client: AiohttpClient, demo_backend: Backend, database_url: str
) -> None:
    clock = demo_backend.clock
    assert isinstance(clock, FixedClock)
    loaded = await _slots(demo_backend)
    clock.advance(dt.timedelta(days=7))
    app = create_app(_settings(database_url), demo_backend)
    app[SLOT_TOP_UP_KEY] = False

    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    # A barrier instead of a fixed sleep: stopping the app waits for a top-up round in progress
    # (bot/app.py `_run_slot_top_up`), and a round would start as soon as the app is up.
    await client.close()

    assert await _slots(demo_backend) == loaded


async def test_a_failed_top_up_is_a_warning_and_the_app_keeps_serving(
    aiohttp_client: AiohttpClient, free_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("console", "INFO")
    client = await aiohttp_client(create_app(_settings(), _closed_postgres(free_port)))

    err = ""
    deadline = time.monotonic() + WAIT_SECONDS
    while "slot top-up failed" not in err and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        err += capsys.readouterr().err

    line = next(line for line in err.splitlines() if "slot top-up failed" in line)
    assert "warning" in line
    assert (await client.get("/healthz")).status == 200
