"""Calendar projection (stored renderings, sync counters), login back-off, task categories.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:04:27.247900
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_objects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("collection", sa.String(length=150), nullable=False),
        sa.Column("href", sa.String(length=255), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("component", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("modseq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=True),
        sa.Column("end_ts", sa.BigInteger(), nullable=True),
        sa.Column("completed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_objects")),
        sa.UniqueConstraint("collection", "href", name=op.f("uq_calendar_objects_collection")),
    )
    with op.batch_alter_table("calendar_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calendar_objects_collection_modseq", ["collection", "modseq"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calendar_objects_task_id"), ["task_id"], unique=False)
        batch_op.create_index(
            "uq_calendar_objects_live_uid",
            ["collection", "uid"],
            unique=True,
            sqlite_where=sa.text("deleted = 0"),
            postgresql_where=sa.text("NOT deleted"),
        )

    op.create_table(
        "calendar_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "applied_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_modseq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("epoch", sa.String(length=16), nullable=False),
        sa.Column("directory_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_state")),
    )
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("journal_counter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("directory_version", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("categories", sa.String(length=500), server_default="", nullable=False)
        )
    op.execute(
        sa.text(
            "INSERT INTO calendar_state (id, applied_seq, last_modseq, epoch, directory_version) "
            "VALUES (1, 0, 0, :epoch, 0)"
        ).bindparams(epoch=secrets.token_hex(4))
    )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("categories")

    with op.batch_alter_table("journal_counter", schema=None) as batch_op:
        batch_op.drop_column("directory_version")

    op.drop_table("login_failures")
    op.drop_table("calendar_state")
    with op.batch_alter_table("calendar_objects", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_calendar_objects_live_uid",
            sqlite_where=sa.text("deleted = 0"),
            postgresql_where=sa.text("NOT deleted"),
        )
        batch_op.drop_index(batch_op.f("ix_calendar_objects_task_id"))
        batch_op.drop_index("ix_calendar_objects_collection_modseq")

    op.drop_table("calendar_objects")
