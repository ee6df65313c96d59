"""Engines and migrations."""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The execution option of the read engine (`read_engine`): a connection that only reads.
READ_ONLY_OPTION = "dariger_read_only"
# Issue 16: a pooled connection is pinged at checkout only when it has been idle this long; a
# busy pool's connections go out and back within milliseconds and are not pinged.
PING_IDLE_AFTER_SECONDS = 10.0
# Connections older than this are replaced at checkout (a server or proxy may drop idle ones).
POOL_RECYCLE_SECONDS = 1800
_CHECKED_IN_AT = "dariger_checked_in_at"


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads only: on SQLite no `BEGIN IMMEDIATE`, no write lock; on
    PostgreSQL autocommit (issue 16): each read its own snapshot, as on SQLite, without the
    round trips of BEGIN and COMMIT."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(**{READ_ONLY_OPTION: True}, isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys on and a busy timeout for its one writer."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions (SQLAlchemy's SQLite recipe).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # SQLite has one writer: take the write lock at BEGIN so that two transactions never
            # both read and then fail to upgrade (SQLITE_BUSY), and a booking's check-then-insert
            # is serialised. The embedded default trades concurrency for correctness here.
            # A read-only unit of work (issue 16) sends no BEGIN at all: each read is its own
            # snapshot, and no reader waits for, or holds up, a writer.
            if conn.get_execution_options().get(READ_ONLY_OPTION):
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    ping_idle_after = float(kwargs.pop("ping_idle_after", PING_IDLE_AFTER_SECONDS))
    # Issue 16: 20 kept open (was 10) and at most 30 in all, as before: with 50 patients at
    # once the pool went past 10 at every burst, and each connection opened over 10 was closed
    # again on its return (a new connection, its TLS attempt and its prepared statements, about
    # 12 % of the app's CPU in bench.capacity).
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_idle_after)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_after: float) -> None:
    """Issue 16: instead of `pool_pre_ping` (a `SELECT 1` round trip at every checkout, four per
    SMS), a connection is pinged only when it comes out of the pool after `idle_after` seconds
    unused: what a database restart while the service was quiet left behind is found and
    replaced before a patient's message uses it (SQLAlchemy's pessimistic disconnect handling,
    applied to idle connections only). A restart under load is handled optimistically: the
    statement that meets a dead connection fails (the SMS gets the apology naming 1414 and is
    released for Twilio's retry) and the pool drops every connection older than that error."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN_AT)
        if since is None or time.monotonic() - since < idle_after:
            return  # new, or back from a checkout moments ago
        try:
            dbapi_conn.ping()
        except Exception as error:
            # The pool discards this connection and checks out another (a new one if needed).
            raise exc.DisconnectionError("idle pooled connection is dead") from error


async def ping(engine: AsyncEngine) -> None:
    """Raise when the database does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("backend") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database to `revision` (blocking: call it outside a running event loop,
    or through `asyncio.to_thread`)."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def ensure_sqlite_dir(url: str) -> None:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        from pathlib import Path  # noqa: PLC0415 - only the embedded default needs it

        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
