"""What a process keeps of the register's slowly changing tables (issue 16).

A times screen read the patient's clinic, the specialties and doctors there and the district
on every tap, and every booking read the holiday calendar, yet these rows change only at an
import or a clinic's edit. `REGISTER` keeps clinics, specialties, doctors and districts for
readers only (`UnitOfWork.reading()`, every dialog screen): a writer reads the rows
themselves, under its transaction, so a booking decides on what is stored. `CALENDAR` keeps
the holiday calendar for readers and writers alike (a booking's deadline counts working days).

Each keeps one snapshot per connection pool (one database), dropped:
- at once when this process writes one of its tables (any statement: the importer's, the
  clinic API's, a test's or a migration's), and again when that transaction ends;
- after its `ttl`, so that another process's write is seen within that time
  (docs/architecture.md, "Running several processes").

The objects kept are shared by every reader of the process: they are read, never changed or
added to a session (a reader that changes a row does it as a writer, on a row it reads itself).
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import Pool

T = TypeVar("T")


class _Snapshot:
    __slots__ = ("expires", "generation", "values")

    def __init__(self, expires: float, generation: int) -> None:
        self.expires = expires
        self.generation = generation
        self.values: dict[Hashable, Any] = {}


class Kept:
    """Values read from `tables`, kept per connection pool for `ttl` seconds (see above)."""

    def __init__(
        self, name: str, tables: tuple[str, ...], ttl: float, *, for_writers: bool
    ) -> None:
        self.name = name
        self.mark = f"dariger_wrote_{name}"  # on a connection that wrote, until it ends
        self.tables = tables
        self.ttl = ttl
        self.for_writers = for_writers
        names = "|".join(tables)
        # The table written must follow the verb (a statement that only reads it, in a
        # subquery, is not a write of it); TRUNCATE may list several tables.
        self._writes = re.compile(
            r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|ALTER\s+TABLE|DROP\s+TABLE"
            r"(?:\s+IF\s+EXISTS)?)\s+\"?(?:" + names + r")\b"
            r"|\bTRUNCATE\b[^;]*\b(?:" + names + r")\b",
            re.IGNORECASE,
        )
        self._snapshots: weakref.WeakKeyDictionary[Pool, _Snapshot] = weakref.WeakKeyDictionary()
        self._generation = 0
        _ALL.append(self)

    def _pool(self, session: AsyncSession) -> Pool | None:
        # The unit of work's session says whether it is writing (unit_of_work.RoutedSession);
        # a session that does not say is a writer.
        if not self.for_writers and getattr(session.sync_session, "writing", True) is not False:
            return None
        bind = session.sync_session.get_bind()
        return bind.pool if isinstance(bind, Engine) else None  # reads and writes share it

    async def get(
        self, session: AsyncSession, key: tuple[Hashable, ...], load: Callable[[], Awaitable[T]]
    ) -> T:
        """`load()`'s value, kept for the session's pool (when the session may use it)."""
        pool = self._pool(session)
        if pool is None:
            return await load()
        now = time.monotonic()
        snapshot = self._snapshots.get(pool)
        if snapshot is None or snapshot.expires <= now or snapshot.generation != self._generation:
            snapshot = self._snapshots[pool] = _Snapshot(now + self.ttl, self._generation)
        try:
            return snapshot.values[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        value = await load()
        # Not kept when a write of this process committed meanwhile (the rows may be older).
        if snapshot.generation == self._generation and self._snapshots.get(pool) is snapshot:
            snapshot.values[key] = value
        return value

    def forget(self) -> None:
        """Drop every snapshot (this process wrote one of the tables)."""
        self._generation += 1
        self._snapshots.clear()

    def written_by(self, statement: str) -> bool:
        # Most writes name none of the tables: a substring test first (a booking's statement
        # is long, and a search of it is not free).
        if not any(table in statement for table in self.tables):
            return False
        return self._writes.search(statement) is not None


_ALL: list[Kept] = []

REGISTER = Kept(
    "register", ("clinics", "specialties", "doctors", "districts"), 5.0, for_writers=False
)
CALENDAR = Kept("calendar", ("calendar_days",), 300.0, for_writers=True)


@event.listens_for(Engine, "before_cursor_execute")
def _write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.startswith("SELECT"):
        return
    for kept in _ALL:
        if kept.written_by(statement):
            conn.info[kept.mark] = True
            kept.forget()


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_end(conn: Connection) -> None:
    for kept in _ALL:
        if conn.info.pop(kept.mark, False):
            kept.forget()
