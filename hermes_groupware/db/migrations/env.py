"""Alembic environment: runs on the connection handed in by ``hermes_groupware.db.migrate``."""

from __future__ import annotations

from alembic import context

from hermes_groupware import models  # noqa: F401  (registers every table on Base.metadata)
from hermes_groupware.db.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
