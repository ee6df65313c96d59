"""CHECK constraints pinning the stored values of every enum-like column (issue 17)

Enums are stored as VARCHAR (`native_enum=False`, see backend/adapters/orm.py `_enum`), so
nothing in the database stopped a renamed value from being written next to rows holding the
old one. Each column now lists its allowed values. The values are written out literally here
(not generated from the enums at migration time): renaming or removing a stored value needs a
new migration that rewrites the rows, and tests/backend/test_stored_values.py compares the
enums with these lists.

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-30 16:30:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# backend/domain/statuses.py ServiceType
SERVICE_TYPES = (
    "appointment", "home_visit", "certificate_027", "statement_tb", "statement_psychiatry",
    "statement_narcology",
)  # fmt: skip
# backend/domain/statuses.py ApplicationStatus
APPLICATION_STATUSES = (
    "submitted", "registered", "next_working_day", "in_progress", "completed", "refused",
    "cancelled", "no_show",
)  # fmt: skip
# backend/domain/refusals.py RefusalCode
REFUSAL_CODES = (
    "unreliable_data", "not_attached_here", "no_subject_consent", "slot_taken",
    "slot_unavailable", "too_many_appointments", "appointment_not_found",
    "appointment_not_active", "application_not_found", "patient_not_found",
    "no_doctor_assigned", "invalid_input", "home_visits_full", "home_visit_exists",
    "application_closed", "specialty_not_for_age", "not_represented",
)  # fmt: skip
ACTORS = ("patient", "clinic", "operator", "system")  # backend/domain/statuses.py Actor
SEXES = ("M", "F")  # backend/domain/iin.py Sex
LANGUAGES = ("kk", "ru", "en")  # backend/domain/model.py Language
AUDIENCES = ("children", "adults", "all")  # backend/domain/model.py Audience
CALENDAR_DAY_KINDS = ("day_off", "working")  # backend/services/importer.py _KINDS
# backend/services/outbox.py OutboxStatus
OUTBOX_STATUSES = ("queued", "sending", "accepted", "failed", "expired", "suppressed")
INBOUND_STATES = ("processing", "done")  # backend/services/outbox.py InboundState
# Channel names are not checked: the dialog engine is channel-neutral (any channel name signs
# in and is recorded in patient_channels; the test harness uses "test").
# backend/services/notifications.py Kind, NotificationStatus, ReminderKind, ReminderStatus
NOTIFICATION_KINDS = (
    "status",
    "booked",
    "moved",
    "cancelled",
    "reminder",
    "deadline",
    "visit",
    "document",
)
NOTIFICATION_STATUSES = ("queued", "sending", "sent", "failed", "rerouted")
REMINDER_KINDS = ("day_before", "two_hours")
REMINDER_STATUSES = ("pending", "queued", "dropped")

# table -> [(constraint name, column, allowed values)]
CHECKS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "specialties": [("audience", "audience", AUDIENCES)],
    "patients": [("sex", "sex", SEXES), ("language", "language", LANGUAGES)],
    "applications": [
        ("service", "service", SERVICE_TYPES),
        ("status", "status", APPLICATION_STATUSES),
        ("refusal", "refusal", REFUSAL_CODES),
    ],
    "application_status_history": [
        ("from_status", "from_status", APPLICATION_STATUSES),
        ("to_status", "to_status", APPLICATION_STATUSES),
        ("actor", "actor", ACTORS),
        ("reason", "reason", REFUSAL_CODES),
    ],
    "certificate_requests": [("kind", "kind", SERVICE_TYPES)],
    "calendar_days": [("kind", "kind", CALENDAR_DAY_KINDS)],
    "sms_outbox": [("status", "status", OUTBOX_STATUSES)],
    "sms_inbound": [("state", "state", INBOUND_STATES)],
    "notifications": [
        ("kind", "kind", NOTIFICATION_KINDS),
        ("status", "status", NOTIFICATION_STATUSES),
    ],
    "reminders": [("kind", "kind", REMINDER_KINDS), ("status", "status", REMINDER_STATUSES)],
}


def condition(column: str, values: tuple[str, ...]) -> str:
    """`column IN ('a', 'b')`; a NULL passes (nullable columns stay nullable)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """Batch mode on SQLite rebuilds each table (copy, DROP, rename). With foreign keys on, the
    DROP of a table that other rows refer to fails, or cascades and deletes those rows (the
    Alembic docs: turn foreign keys off for batch operations on referenced tables). The PRAGMA
    is a no-op inside a transaction, and the engine opens one at BEGIN (backend/adapters/db.py),
    so the transaction is committed around it; the rebuilt tables are checked before foreign
    keys are turned back on."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign keys broken by the table rebuild: {broken[:5]}")
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def _sqlite_triggers_kept(table: str) -> Iterator[None]:
    """SQLite drops a table's triggers with the table, and batch mode does not recreate them:
    `application_status_history` would lose the triggers that keep it append-only (0001).
    They are read before the rebuild and created again after it."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    rows = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
    ).fetchall()
    yield
    for (sql,) in rows:
        bind.exec_driver_sql(sql)


def upgrade() -> None:
    with _sqlite_foreign_keys_off():
        for table, checks in CHECKS.items():
            with _sqlite_triggers_kept(table), op.batch_alter_table(table) as batch_op:
                for name, column, values in checks:
                    batch_op.create_check_constraint(
                        op.f(f"ck_{table}_{name}"), condition(column, values)
                    )


def downgrade() -> None:
    with _sqlite_foreign_keys_off():
        for table, checks in CHECKS.items():
            with _sqlite_triggers_kept(table), op.batch_alter_table(table) as batch_op:
                for name, _column, _values in checks:
                    batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
