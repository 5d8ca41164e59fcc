"""Calendar re-render after a directory change in short steps: where the pass stands.

A change of group membership or of a register's name or colour re-renders every task. That
used to be one transaction (about 14 s at 10,000 tasks, with CalDAV writers waiting on it and,
on SQLite, failing after the busy timeout); now readers carry the pass on a chunk at a time.
Registers, employees and group membership get triggers that count such changes, so that a
rename by an admin (the service did not count it) or by the desktop application re-renders.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hermes_groupware.db import directory_triggers

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_state", schema=None) as batch_op:
        # the directory version the pass in progress renders for (a newer one starts over)
        batch_op.add_column(
            sa.Column("rerender_version", sa.Integer(), server_default="0", nullable=False)
        )
        # the last task id the pass has re-rendered
        batch_op.add_column(
            sa.Column(
                "rerender_cursor",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                server_default="0",
                nullable=False,
            )
        )

    # register, employee and group changes count as directory changes, also plain SQL ones
    for statement in directory_triggers.create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in directory_triggers.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("calendar_state", schema=None) as batch_op:
        batch_op.drop_column("rerender_cursor")
        batch_op.drop_column("rerender_version")
