"""What reads keep of the register's slowly changing part: clinics, specialties, doctors and
districts (issue 16).

A times screen read the patient's clinic, the specialties and doctors there and the district
on every tap, yet these rows change only at an import or a clinic's edit. A read-only unit of
work (`UnitOfWork.reading()`, every dialog screen) takes them from here; a writer always reads
the rows themselves, under its transaction, so a booking decides on what is stored.

What is kept is one snapshot per connection pool (one database), dropped:
- at once when this process writes one of the tables (any statement, the importer's, the
  clinic API's, a test's or a migration's), and again when that transaction ends;
- after `REGISTER_TTL` seconds, so that another process's write is seen within that time
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

REGISTER_TTL = 5.0
TABLES = ("clinics", "specialties", "doctors", "districts")
_WRITES = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE|ALTER\s+TABLE|DROP\s+TABLE)\b[^;]*?"
    r"\b(?:" + "|".join(TABLES) + r")\b",
    re.IGNORECASE,
)
_WROTE = "dariger_wrote_register"


class _Snapshot:
    __slots__ = ("expires", "generation", "values")

    def __init__(self, expires: float, generation: int) -> None:
        self.expires = expires
        self.generation = generation
        self.values: dict[Hashable, Any] = {}


_SNAPSHOTS: weakref.WeakKeyDictionary[Pool, _Snapshot] = weakref.WeakKeyDictionary()
_generation = [0]


def _reads_only(session: AsyncSession) -> bool:
    # The unit of work's session says whether it is writing (backend/services/unit_of_work.py);
    # a session that does not say is treated as a writer.
    return getattr(session.sync_session, "writing", True) is False


def _pool(session: AsyncSession) -> Pool | None:
    bind = session.sync_session.get_bind()
    return bind.pool if isinstance(bind, Engine) else None


async def remembered(
    session: AsyncSession, key: tuple[Hashable, ...], load: Callable[[], Awaitable[T]]
) -> T:
    """`load()`'s value, kept for the session's pool when the session only reads."""
    pool = _pool(session) if _reads_only(session) else None
    if pool is None:
        return await load()
    now = time.monotonic()
    snapshot = _SNAPSHOTS.get(pool)
    if snapshot is None or snapshot.expires <= now or snapshot.generation != _generation[0]:
        snapshot = _SNAPSHOTS[pool] = _Snapshot(now + REGISTER_TTL, _generation[0])
    try:
        return snapshot.values[key]  # type: ignore[no-any-return]
    except KeyError:
        pass
    value = await load()
    # Not kept when a write of this process committed meanwhile (the rows may be older).
    if snapshot.generation == _generation[0] and _SNAPSHOTS.get(pool) is snapshot:
        snapshot.values[key] = value
    return value


def forget() -> None:
    """Drop every snapshot (this process wrote the register)."""
    _generation[0] += 1
    _SNAPSHOTS.clear()


@event.listens_for(Engine, "before_cursor_execute")
def _register_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.startswith("SELECT") and _WRITES.search(statement):
        conn.info[_WROTE] = True
        forget()


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _register_transaction_end(conn: Connection) -> None:
    if conn.info.pop(_WROTE, False):
        forget()
