"""Shared fixtures: a migrated database on SQLite *and* PostgreSQL, a controllable clock.

The schema is migrated once per run (which also tests the migrations): SQLite tests get a copy
of a migrated template file; PostgreSQL tests share one database per run, emptied before each
test with TRUNCATE (which, unlike DELETE, the append-only history trigger allows: it is the
test harness resetting the world, not a change of history).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.adapters.db import migrate
from backend.adapters.orm import metadata
from backend.bootstrap import Backend, BookingPolicy, bootstrap
from backend.ports import FixedClock

ALMATY = ZoneInfo("Asia/Almaty")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _in_thread(fn: Callable[[], object]) -> None:
    """Run blocking set-up that uses its own event loop, even when a test loop is running
    (the first PostgreSQL test asks for this session fixture from inside its loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(fn).result()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    name = f"dariger_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _in_thread(lambda: asyncio.run(_admin(f'CREATE DATABASE "{name}"')))
    url = _with_database(PG_URL, name)
    try:
        _in_thread(lambda: migrate(url))
        yield url
    finally:
        _in_thread(lambda: asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _in_thread(lambda: migrate(f"sqlite+aiosqlite:///{path}"))
    return path


async def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> str:
    if request.param == "sqlite":
        target = tmp_path / "dariger.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_database_url")
    await _truncate(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    """Monday 2026-11-23 10:00 in Almaty (UTC+5): a working day, before every cut-off."""
    return FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY))


@pytest.fixture
async def backend(database_url: str, clock: FixedClock) -> AsyncIterator[Backend]:
    b = bootstrap(database_url, clock=clock, policy=BookingPolicy(max_future_appointments=3))
    try:
        yield b
    finally:
        await b.close()


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    """The real Redis server (database 15 by default)."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        await client.aclose()
        # The suite runs against the real server (`make test` starts it): a missing Redis is
        # a broken environment, never a reason to pass quietly.
        pytest.fail(f"no Redis at {REDIS_URL}: run `make test`, which starts it")
    yield client
    await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=prefix + "*")]
    if keys:
        await redis_client.delete(*keys)
