"""Electronic documents: issued documents with short codes, dispensary registers (issue 13)

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-30 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.adapters.orm

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = backend.adapters.orm.UtcDateTime(timezone=True)
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("on_register", sa.Boolean(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("revoked_at", utc, nullable=True),
        sa.Column("revoke_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_issued_documents_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["application_documents.id"],
            name=op.f("fk_issued_documents_document_id_application_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_issued_documents_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint("code", name=op.f("uq_issued_documents_code")),
    )
    op.create_index(
        op.f("ix_issued_documents_application_id"),
        "issued_documents",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "dispensary_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("register", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispensary_registrations")),
        sa.UniqueConstraint("iin", "register", name="uq_dispensary_registrations_iin_register"),
    )
    op.create_index(
        op.f("ix_dispensary_registrations_iin"), "dispensary_registrations", ["iin"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dispensary_registrations_iin"), table_name="dispensary_registrations")
    op.drop_table("dispensary_registrations")
    op.drop_index(op.f("ix_issued_documents_application_id"), table_name="issued_documents")
    op.drop_table("issued_documents")
