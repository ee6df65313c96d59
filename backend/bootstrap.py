"""The backend's composition root: engine, sessions, unit of work, clock and policy.

Channels build one `Backend` at start-up (bot/ builds it from the settings) and hand its
`uow` factory and `clock` to the services; tests build it the same way with their own clock.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.adapters.db import make_engine, ping, read_engine
from backend.adapters.orm import start_mappers
from backend.ports import Clock, SystemClock
from backend.services.unit_of_work import EventScope, RoutedSession, UnitOfWork, event_scope


@dataclass(frozen=True)
class BookingPolicy:
    # Issue 2: a cap on concurrent future appointments per patient (configurable, default 3).
    max_future_appointments: int = 3
    # How far ahead the booking journey offers days (the demo schedule has 14 days of slots).
    horizon_days: int = 14


@dataclass
class Backend:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    reader: AsyncEngine | None = None  # the same pool for reads only (no write lock on SQLite)

    def uow(self) -> UnitOfWork:
        """A unit of work; inside an `event()` it borrows the event's one session."""
        return UnitOfWork(self.sessions, self.reader)

    def event(self) -> AbstractAsyncContextManager[EventScope]:
        """Issue 16: one unit of work for one inbound event (a Telegram update, an SMS): every
        `uow()` entered inside, in this task, shares its session."""
        return event_scope(self.sessions, self._read_bind())

    def _read_bind(self) -> Any:
        return self.reader.sync_engine if self.reader is not None else None

    async def ping(self) -> None:
        await ping(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(
    database_url: str,
    *,
    clock: Clock | None = None,
    policy: BookingPolicy | None = None,
    **engine_kwargs: Any,
) -> Backend:
    start_mappers()
    engine = make_engine(database_url, **engine_kwargs)
    return Backend(
        engine=engine,
        sessions=async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=RoutedSession
        ),
        clock=clock or SystemClock(),
        policy=policy or BookingPolicy(),
        reader=read_engine(engine),
    )
