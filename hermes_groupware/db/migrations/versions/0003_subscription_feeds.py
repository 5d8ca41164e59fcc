"""Subscription feeds and their hashed tokens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:25:47.982906
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "employee",
                "group",
                "registers",
                "customer",
                name="feedscope",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("statuses", sa.String(length=100), server_default="", nullable=False),
        sa.Column("priorities", sa.String(length=50), server_default="", nullable=False),
        sa.Column("include_completed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("days_back", sa.Integer(), server_default="90", nullable=False),
        sa.Column("days_ahead", sa.Integer(), server_default="365", nullable=False),
        sa.Column("max_items", sa.Integer(), server_default="2000", nullable=False),
        sa.Column(
            "profile",
            sa.Enum(
                "vtodo",
                "event-due",
                "event-span",
                "both",
                name="feedprofile",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            server_default="event-due",
            nullable=False,
        ),
        sa.Column(
            "redaction",
            sa.Enum(
                "full",
                "no-notes",
                "busy",
                name="redaction",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            server_default="full",
            nullable=False,
        ),
        sa.Column(
            "time_zone", sa.String(length=64), server_default="Europe/Warsaw", nullable=False
        ),
        sa.Column("ttl_minutes", sa.Integer(), server_default="60", nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=True),
        sa.Column("alarms", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_feeds_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_feeds_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_feeds_group_id_groups")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["employees.id"], name=op.f("fk_feeds_owner_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
    )
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feeds_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "feed_registers",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["feeds.id"],
            name=op.f("fk_feed_registers_feed_id_feeds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["register_id"],
            ["registers.id"],
            name=op.f("fk_feed_registers_register_id_registers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feed_id", "register_id", name=op.f("pk_feed_registers")),
    )
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_feed_tokens_feed_id_feeds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    )
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_tokens_feed_id"), ["feed_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_tokens_feed_id"))

    op.drop_table("feed_tokens")
    op.drop_table("feed_registers")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feeds_owner_id"))

    op.drop_table("feeds")
