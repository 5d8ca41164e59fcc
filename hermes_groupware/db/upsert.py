"""``INSERT … ON CONFLICT DO NOTHING RETURNING``, the claim primitive on both dialects.

Several instances may try the same insert at once (the same message delivered twice, the
same reminder due on two servers); the unique key decides, and the loser learns it lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from hermes_groupware.db.base import Base


def insert_unless_present(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    returning: InstrumentedAttribute[Any],
) -> Any | None:
    """Insert the row, or nothing when a unique key already holds it; the new row's value."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(returning)
    return session.scalar(statement)
