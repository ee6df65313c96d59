"""10,000 reminders due at once are delivered within Telegram's limits, none twice, by two
concurrent workers on PostgreSQL, in simulated time (issue 11, must show).

The clock is simulated (the workers' sleeps move it), so the ~6 minutes that 10,000 messages
take at 30/s run in seconds; the fake Telegram records (chat, simulated time) of every message.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.adapters.orm import notifications as table
from backend.bootstrap import bootstrap
from backend.services import notifications
from backend.services.notifications import NotificationStatus
from bench.notify import check_limits, deliver, seed_clinic, seed_due_reminders
from bot.notify.limits import RateLimiter
from bot.notify.scheduler import Scheduler
from tests.notify.sim import FakeSender, SimClock

CHATS = 5_000
PER_CHAT = 2  # so that one chat's spacing is exercised too
TOTAL = CHATS * PER_CHAT
NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=ZoneInfo("Asia/Almaty"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_ten_thousand_reminders_within_the_limits_none_twice(database_url: str) -> None:
    clock = SimClock(NOW)
    backend = bootstrap(database_url, clock=clock)
    try:
        clinic_id, doctor_id = await seed_clinic(backend)
        await seed_due_reminders(
            backend,
            clinic_id=clinic_id,
            doctor_id=doctor_id,
            chats=CHATS,
            per_chat=PER_CHAT,
            due=NOW,
        )
        done = await Scheduler(backend).run_once()
        assert done.reminders == TOTAL

        sender = FakeSender(clock)
        tried = await deliver(
            backend, sender, workers=2, limiter=RateLimiter(per_second=30), clock=clock
        )

        assert tried == TOTAL
        numbers = Counter(number for *_, number in sender.sent)
        assert len(numbers) == TOTAL  # every reminder delivered ...
        assert set(numbers.values()) == {1}  # ... exactly once
        check_limits(sender.sent)  # ≥ 1 s between two to one chat, ≤ 30 in any second
        # At the ceiling, not far below it: 10,000 at 30/s take a little over 333 s.
        assert TOTAL // 30 - 1 <= clock.monotonic() <= TOTAL / 30 * 1.1
        async with backend.uow() as uow:
            counted = await uow.session.execute(
                select(table.c.status, func.count()).group_by(table.c.status)
            )
            statuses = {str(status): int(count) for status, count in counted}
        assert statuses == {NotificationStatus.SENT.value: TOTAL}
        assert await notifications.next_due_at(backend.uow(), channel="telegram") is None
    finally:
        await backend.close()
