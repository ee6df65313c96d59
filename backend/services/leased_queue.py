"""One shape for the database queues that workers claim with a lease (the SMS outbox, the
notification outbox): which rows are claimable, what a claim writes, a retry, a final state.

A row is claimable when it is queued and due, or when it is being sent under a lease that ran
out (the worker died between claiming and marking: it is sent again, at least once, never
lost). A claim sets the lease and counts one attempt more; a retry puts the row back in the
queue for `retry_at`; a final state ends the lease for good.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, or_, update
from sqlalchemy.sql.elements import ColumnElement

from backend.services.unit_of_work import UnitOfWork

ERROR_LENGTH = 200  # the stored error text is cut to this


@dataclass(frozen=True)
class LeasedQueue:
    """A table with `status`, `next_attempt_at`, `lease_until`, `attempts`, `error` and
    `updated_at` columns, and the stored values of its queued and sending statuses."""

    table: Table
    queued: str
    sending: str

    def claimable(self, now: dt.datetime) -> ColumnElement[bool]:
        c = self.table.c
        return or_(
            and_(c.status == self.queued, c.next_attempt_at <= now),
            and_(c.status == self.sending, c.lease_until < now),
        )

    def leased(self, now: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
        """The values a claim writes: sending, under a lease, one attempt more."""
        return {
            "status": self.sending,
            "lease_until": now + lease,
            "attempts": self.table.c.attempts + 1,
            "updated_at": now,
        }

    async def retry(
        self,
        uow: UnitOfWork,
        row_id: int,
        *,
        now: dt.datetime,
        error: str,
        retry_at: dt.datetime,
    ) -> None:
        """Back in the queue, due at `retry_at`, with why the last attempt failed."""
        await self._set(
            uow,
            row_id,
            status=self.queued,
            next_attempt_at=retry_at,
            lease_until=None,
            error=error[:ERROR_LENGTH],
            updated_at=now,
        )

    async def finish(
        self,
        uow: UnitOfWork,
        row_id: int,
        *,
        now: dt.datetime,
        status: str,
        error: str,
        **more: Any,
    ) -> None:
        """A final `status` (failed, suppressed, …) with its reason; `more`: other columns."""
        await self._set(
            uow,
            row_id,
            status=status,
            lease_until=None,
            error=error[:ERROR_LENGTH],
            updated_at=now,
            **more,
        )

    async def _set(self, uow: UnitOfWork, row_id: int, **values: Any) -> None:
        async with uow:
            await uow.session.execute(
                update(self.table).where(self.table.c.id == row_id).values(**values)
            )
            await uow.commit()
