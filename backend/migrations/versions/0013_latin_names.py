"""Latin names for English screens: doctors.name_latin, clinics.address_latin (issue 15)

A doctor's name and a clinic's address in Latin letters, by the table of Kazakhstan's passports
(ICAO Doc 9303, backend/domain/latin.py), computed once: here for the rows already stored, by
the importer and the demo for new ones (the importer takes a register's official Latin form
when the file has one, docs/import.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.domain.latin import to_latin

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("doctors") as batch:
        batch.add_column(
            sa.Column("name_latin", sa.String(length=300), nullable=False, server_default="")
        )
    with op.batch_alter_table("clinics") as batch:
        batch.add_column(
            sa.Column("address_latin", sa.String(length=500), nullable=False, server_default="")
        )
    bind = op.get_bind()
    doctors = sa.table(
        "doctors",
        sa.column("id", sa.Integer),
        sa.column("surname", sa.String),
        sa.column("given_name", sa.String),
        sa.column("patronymic", sa.String),
        sa.column("name_latin", sa.String),
    )
    for row in bind.execute(sa.select(doctors)).mappings().all():
        parts = (row["surname"], row["given_name"], row["patronymic"] or "")
        latin = " ".join(to_latin(p) for p in parts if p)
        bind.execute(doctors.update().where(doctors.c.id == row["id"]).values(name_latin=latin))
    clinics = sa.table(
        "clinics",
        sa.column("id", sa.Integer),
        sa.column("address", sa.String),
        sa.column("address_latin", sa.String),
    )
    for row in bind.execute(sa.select(clinics)).mappings().all():
        bind.execute(
            clinics.update()
            .where(clinics.c.id == row["id"])
            .values(address_latin=to_latin(row["address"]))
        )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of clinics or doctors would drop
    # a table other tables refer to.
    op.execute("ALTER TABLE clinics DROP COLUMN address_latin")
    op.execute("ALTER TABLE doctors DROP COLUMN name_latin")
