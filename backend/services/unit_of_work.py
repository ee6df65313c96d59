"""The unit of work: one transaction; rolled back unless committed (cosmicpython).

Issue 16: one unit of work per inbound event. A channel (or the dialog engine) opens an
`event_scope`; every `UnitOfWork` entered inside it, in the same task, borrows the event's one
session instead of opening its own, so what one service loaded the next one finds in the
session (the patient is read once per event, not once per service call). Outside a scope
each unit of work has a session of its own, as before.

A unit of work is entered for writing (`async with uow:`, the default: the transaction takes
SQLite's write lock at BEGIN, as before) or only for reading (`async with uow.reading():`):
reads go through the read engine, which on SQLite sends no `BEGIN IMMEDIATE` and takes no write
lock (each read is its own snapshot). When a writer enters an event's session that has only
been read, the read transaction ends (nothing to lose), the session forgets what it loaded
(the writer reads afresh, under its lock) and a write transaction begins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Executable, Row, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from backend.adapters.repository import ATTACHMENT_OF, AloneReads, SqlApplications, SqlRegister


class RoutedSession(Session):
    """A session that reads through the read engine until it is told to write.

    `writing` defaults to True: a session made straight from the factory behaves as before."""

    writing: bool = True
    read_bind: Engine | None = None

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        if not self.writing and self.read_bind is not None:
            return self.read_bind
        return super().get_bind(mapper, **kw)


@event.listens_for(RoutedSession, "loaded_as_persistent")
@event.listens_for(RoutedSession, "pending_to_persistent")
@event.listens_for(RoutedSession, "detached_to_persistent")  # stored by a repository's own SQL
def _hold(session: Session, instance: object) -> None:
    # The identity map holds objects weakly: a row loaded by one service and dropped would be
    # loaded again by the next. Holding them for the unit of work's life makes `get` find them.
    session.info.setdefault("held", []).append(instance)


def _forget(session: AsyncSession) -> None:
    """Detach everything loaded: it stays readable (not expired) for whoever holds it."""
    session.expunge_all()
    session.info.pop("held", None)
    session.info.pop(ATTACHMENT_OF, None)


class _Shared:
    """The session of one unit of work (or of one event), its nesting and its mode."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], read_bind: Engine | None):
        self.factory = factory
        self.read_bind = read_bind
        self.session: AsyncSession | None = None
        self.depth = 0
        self.writing = False

    def _mode(self, session: AsyncSession, writing: bool) -> None:
        sync = session.sync_session
        if isinstance(sync, RoutedSession):
            sync.writing = writing
            sync.read_bind = self.read_bind
        self.writing = writing

    async def enter(self, *, write: bool) -> AsyncSession:
        session = self.session
        if session is None:
            session = self.session = self.factory()
            self._mode(session, write)
        elif write and not self.writing:
            # Upgrade: end the read transaction (it holds no changes), forget what was read
            # (the writer reads afresh, under its lock) and write from here on.
            if session.in_transaction():
                await session.commit()
            _forget(session)
            self._mode(session, True)
        self.depth += 1
        return session

    async def exit(self, failed: bool) -> None:
        self.depth -= 1
        session = self.session
        if self.depth > 0 or session is None:
            return  # the outermost block decides
        if failed or (self.writing and session.in_transaction()):
            # A failure, or writes never committed: rolled back, as closing did before.
            _forget(session)
            await session.rollback()
        elif session.in_transaction():
            # Reads done: end the read transaction so that the connection goes back to the
            # pool while the event does other things (what was loaded stays held).
            await session.commit()
        self._mode(session, False)

    async def close(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            _forget(session)
            await session.close()


class EventScope(_Shared):
    """The unit of work of one inbound event (issue 16), shared by the services it calls."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], read_bind: Engine | None):
        super().__init__(factory, read_bind)
        self.task = asyncio.current_task()
        self.closed = False


_event: ContextVar[EventScope | None] = ContextVar("dariger_event_scope", default=None)


def _current_scope(factory: async_sessionmaker[AsyncSession]) -> EventScope | None:
    scope = _event.get()
    if (
        scope is None
        or scope.closed
        or scope.factory is not factory
        or scope.task is not asyncio.current_task()  # a task started inside is on its own
    ):
        return None
    return scope


@asynccontextmanager
async def event_scope(
    factory: async_sessionmaker[AsyncSession], read_bind: Engine | None = None
) -> AsyncIterator[EventScope]:
    """One unit of work for everything handled inside (re-entrant: an inner scope of the same
    database is the outer one)."""
    outer = _current_scope(factory)
    if outer is not None:
        yield outer
        return
    scope = EventScope(factory, read_bind)
    token = _event.set(scope)
    try:
        yield scope
    finally:
        scope.closed = True
        _event.reset(token)
        await scope.close()


class _Reading:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def __aenter__(self) -> UnitOfWork:
        return await self.uow.enter(write=False)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.uow.exit(exc_type is not None)


async def _release(conn: AsyncConnection) -> None:
    """Close an autocommit connection at once, in this task (issue 16). `async with` closes it
    in a task of its own (asyncio.shield): a task waiting for a connection then takes it
    before this event's next statement can, and the booking after the read of the free slots
    queued behind 900 others in bench.booking. In autocommit the close does no I/O: there is
    nothing for a cancellation to interrupt."""
    await conn.close()


class UnitOfWork:
    register: SqlRegister
    applications: SqlApplications
    session: AsyncSession

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        reader: AsyncEngine | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._reader = reader
        self._read_bind = None if reader is None else reader.sync_engine
        self._shared: _Shared | None = None
        self._own = False
        self.alone = AloneReads(self.read_alone)

    def reading(self) -> _Reading:
        """`async with uow.reading():` a unit of work that only reads (no write lock)."""
        return _Reading(self)

    @property
    def dialect_name(self) -> str:
        """The database's dialect ("postgresql", "sqlite")."""
        return str(self._session_factory.kw["bind"].dialect.name)

    async def run_alone(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> list[Row[Any]]:
        """Issue 16: one statement committed on its own, apart from any event's session, and
        its rows. On PostgreSQL it runs in autocommit: one round trip (no BEGIN, no COMMIT), its
        effect visible to every other connection when it returns. Elsewhere (SQLite) in a
        transaction of its own, as `async with uow: ...; await uow.commit()` would."""
        engine = self._session_factory.kw["bind"]
        if not isinstance(engine, AsyncEngine):  # pragma: no cover - bootstrap binds an engine
            raise TypeError("the session factory is not bound to an engine")
        if engine.dialect.name == "postgresql":
            conn = await engine.connect()
            try:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                result = await auto.execute(statement, parameters)
                return list(result.all()) if result.returns_rows else []
            finally:
                await _release(conn)
        async with engine.begin() as conn:
            result = await conn.execute(statement, parameters)
            return list(result.all()) if result.returns_rows else []

    async def read_alone(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> list[Row[Any]]:
        """Issue 16: one read statement on a connection of its own, apart from any session
        (the event's included), and its rows: through the read engine, so on PostgreSQL in
        autocommit and on SQLite without BEGIN, each read its own snapshot as every read of a
        reading unit of work already is. `self.alone` names the reads that run this way."""
        engine = self._reader or self._session_factory.kw["bind"]
        if not isinstance(engine, AsyncEngine):  # pragma: no cover - bootstrap binds an engine
            raise TypeError("the session factory is not bound to an engine")
        if engine.dialect.name != "postgresql":
            # SQLite: closing ends the connection's transaction (a hop to aiosqlite's thread),
            # so it is closed as `async with` closes, shielded from a cancellation.
            async with engine.connect() as conn:
                return list((await conn.execute(statement, parameters)).all())
        conn = await engine.connect()
        try:
            return list((await conn.execute(statement, parameters)).all())
        finally:
            await _release(conn)

    async def enter(self, *, write: bool) -> Self:
        shared = self._shared
        if shared is None:
            shared = _current_scope(self._session_factory)
            self._own = shared is None
            if shared is None:
                shared = _Shared(self._session_factory, self._read_bind)
            self._shared = shared
        session = await shared.enter(write=write)
        if getattr(self, "session", None) is not session:
            self.session = session
            self.register = SqlRegister(session)
            self.applications = SqlApplications(session)
        return self

    async def exit(self, failed: bool) -> None:
        shared = self._shared
        if shared is None:  # pragma: no cover - exit without enter
            return
        try:
            await shared.exit(failed)
        finally:
            if shared.depth == 0:
                self._shared = None
                if self._own:
                    await shared.close()

    async def __aenter__(self) -> Self:
        return await self.enter(write=True)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing rolls back whatever was not committed. Objects are detached, not expired, so
        # the views a service returns stay readable after the unit of work ends.
        await self.exit(exc_type is not None)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        _forget(self.session)
        await self.session.rollback()
