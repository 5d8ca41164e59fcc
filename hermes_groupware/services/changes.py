"""Marks for changes that are not task rows but change how tasks are shown in calendars."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from hermes_groupware.models import JournalCounter


def directory_changed(session: Session) -> None:
    """Group membership, register names or colours changed: calendars re-render everything.

    Rare admin work; the calendar projection compares this counter on its next catch-up.
    """
    session.execute(
        update(JournalCounter).values(directory_version=JournalCounter.directory_version + 1)
    )
