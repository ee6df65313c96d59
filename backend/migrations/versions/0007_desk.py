"""The 1414 desk: chats, transcript, events, access log, call-back requests, quality answers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.adapters.orm

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "state IN ('waiting', 'taken')"


def upgrade() -> None:
    utc = backend.adapters.orm.UtcDateTime(timezone=True)
    op.create_table(
        "desk_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("operator_name", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("queued_at", utc, nullable=False),
        sa.Column("claimed_at", utc, nullable=True),
        sa.Column("first_response_at", utc, nullable=True),
        sa.Column("last_patient_at", utc, nullable=True),
        sa.Column("last_operator_at", utc, nullable=True),
        sa.Column("warned_at", utc, nullable=True),
        sa.Column("wait_offered_at", utc, nullable=True),
        sa.Column("ended_at", utc, nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_chats")),
    )
    with op.batch_alter_table("desk_chats", schema=None) as batch_op:
        batch_op.create_index("ix_desk_chats_state", ["state", "queued_at"], unique=False)
        batch_op.create_index(
            "uq_desk_chats_open",
            ["channel", "user_id"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
    op.create_table(
        "desk_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("delivered_at", utc, nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["desk_chats.id"],
            name=op.f("fk_desk_messages_chat_id_desk_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_messages")),
    )
    with op.batch_alter_table("desk_messages", schema=None) as batch_op:
        batch_op.create_index("ix_desk_messages_chat", ["chat_id", "id"], unique=False)
        batch_op.create_index("ix_desk_messages_delivery", ["delivery"], unique=False)
    op.create_table(
        "desk_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["desk_chats.id"],
            name=op.f("fk_desk_events_chat_id_desk_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_events")),
    )
    with op.batch_alter_table("desk_events", schema=None) as batch_op:
        batch_op.create_index("ix_desk_events_chat", ["chat_id"], unique=False)
    op.create_table(
        "desk_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("operator_name", sa.String(length=100), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_access_log")),
    )
    with op.batch_alter_table("desk_access_log", schema=None) as batch_op:
        batch_op.create_index("ix_desk_access_log_patient", ["patient_id"], unique=False)
    op.create_table(
        "desk_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("done_at", utc, nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_callbacks")),
    )
    op.create_table(
        "desk_quality",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["desk_chats.id"],
            name=op.f("fk_desk_quality_chat_id_desk_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_quality")),
        sa.UniqueConstraint("chat_id", "question", name="uq_desk_quality_question"),
    )


def downgrade() -> None:
    op.drop_table("desk_quality")
    op.drop_table("desk_callbacks")
    with op.batch_alter_table("desk_access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_desk_access_log_patient")
    op.drop_table("desk_access_log")
    with op.batch_alter_table("desk_events", schema=None) as batch_op:
        batch_op.drop_index("ix_desk_events_chat")
    op.drop_table("desk_events")
    with op.batch_alter_table("desk_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_desk_messages_delivery")
        batch_op.drop_index("ix_desk_messages_chat")
    op.drop_table("desk_messages")
    with op.batch_alter_table("desk_chats", schema=None) as batch_op:
        batch_op.drop_index("uq_desk_chats_open")
        batch_op.drop_index("ix_desk_chats_state")
    op.drop_table("desk_chats")
