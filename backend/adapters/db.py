"""Engines and migrations."""

from __future__ import annotations

from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The execution option of the read engine (`read_engine`): a connection that only reads.
READ_ONLY_OPTION = "dariger_read_only"


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
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


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
