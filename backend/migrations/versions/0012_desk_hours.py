"""The 1414 desk's hours as data: weekly hours and dated exceptions, set by a supervisor

Until now the desk's hours were a constant equal to the PHC hours (backend.services.desk
DEFAULT_DESK_HOURS). With no rows stored the desk still uses that default.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.adapters.orm

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PERIOD = (
    "(opens IS NULL AND closes IS NULL) OR (opens IS NOT NULL AND closes IS NOT NULL "
    "AND opens < closes)"
)


def upgrade() -> None:
    utc = backend.adapters.orm.UtcDateTime(timezone=True)
    op.create_table(
        "desk_hours",
        sa.Column("weekday", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_desk_hours_weekday")),
        sa.CheckConstraint(_PERIOD, name=op.f("ck_desk_hours_period")),
        sa.PrimaryKeyConstraint("weekday", name=op.f("pk_desk_hours")),
    )
    op.create_table(
        "desk_hours_exceptions",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=100), server_default="", nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(_PERIOD, name=op.f("ck_desk_hours_exceptions_period")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_desk_hours_exceptions")),
    )


def downgrade() -> None:
    op.drop_table("desk_hours_exceptions")
    op.drop_table("desk_hours")
