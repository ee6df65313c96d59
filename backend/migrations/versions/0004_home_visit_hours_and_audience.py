"""Home-visit hours with the weekly schedule (kind, capacity); who a specialty serves by age

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows are reception hours (one slot per period step) and specialties serve all.
    with op.batch_alter_table("schedule_templates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="reception", nullable=False)
        )
        batch_op.add_column(
            sa.Column("capacity", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.create_check_constraint("kind", "kind IN ('reception', 'home_visits')")
        batch_op.create_check_constraint("capacity", "capacity BETWEEN 1 AND 100")
    with op.batch_alter_table("specialties", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "audience",
                sa.Enum(
                    "children", "adults", "all", name="audience", native_enum=False, length=32
                ),
                server_default="all",
                nullable=False,
            )
        )
    # The defaults of docs/import.md for specialties already stored.
    specialties = sa.table("specialties", sa.column("code", sa.String), sa.column("audience"))
    op.execute(
        specialties.update()
        .where(specialties.c.code.in_(["pediatrician", "paediatrician"]))
        .values(audience="children")
    )
    op.execute(
        specialties.update().where(specialties.c.code == "therapist").values(audience="adults")
    )
    with op.batch_alter_table("home_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_home_visits_doctor_window", ["doctor_id", "window_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("home_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_home_visits_doctor_window")
    # Not a batch: rebuilding `specialties` on SQLite would drop a table doctors refer to.
    op.drop_column("specialties", "audience")
    with op.batch_alter_table("schedule_templates", schema=None) as batch_op:
        batch_op.drop_constraint("capacity", type_="check")
        batch_op.drop_constraint("kind", type_="check")
        batch_op.drop_column("capacity")
        batch_op.drop_column("kind")
