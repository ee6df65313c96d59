"""Doctors' weekly schedule templates, kept so that slots are topped up every day

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=32), server_default="", nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_schedule_templates_weekday")),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_schedule_templates_period")),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 1 AND 240", name=op.f("ck_schedule_templates_slot_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_schedule_templates_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_templates")),
        sa.UniqueConstraint(
            "doctor_id",
            "weekday",
            "start_time",
            name="uq_schedule_templates_doctor_weekday_start",
        ),
    )


def downgrade() -> None:
    op.drop_table("schedule_templates")
