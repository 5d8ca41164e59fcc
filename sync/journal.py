"""The only reader of the change journal: "what changed since N", costing O(changes).

Sequence numbers are handed out in commit order (see ``hermes_groupware.db.triggers``), so a
consumer that remembers the highest ``seq`` it has processed never misses a later commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hermes_groupware.models import ChangeJournal


@dataclass(frozen=True)
class Change:
    """One journal entry."""

    seq: int
    entity: str
    entity_id: int
    task_id: int
    op: str
    register_id: int | None
    old_register_id: int | None
    responsible_id: int | None
    old_responsible_id: int | None
    source: str
    actor_id: int | None
    changed_at: dt.datetime


def current_seq(session: Session) -> int:
    """The highest committed sequence number visible to this transaction (0 when empty)."""
    return session.scalar(select(func.coalesce(func.max(ChangeJournal.seq), 0))) or 0


def changes_since(session: Session, seq: int, *, limit: int = 1000) -> list[Change]:
    """Entries after ``seq`` in order, at most ``limit`` (a primary-key range scan)."""
    rows = session.scalars(
        select(ChangeJournal)
        .where(ChangeJournal.seq > seq)
        .order_by(ChangeJournal.seq)
        .limit(limit)
    )
    return [
        Change(
            seq=r.seq,
            entity=r.entity,
            entity_id=r.entity_id,
            task_id=r.task_id,
            op=r.op,
            register_id=r.register_id,
            old_register_id=r.old_register_id,
            responsible_id=r.responsible_id,
            old_responsible_id=r.old_responsible_id,
            source=r.source,
            actor_id=r.actor_id,
            changed_at=r.changed_at,
        )
        for r in rows
    ]
