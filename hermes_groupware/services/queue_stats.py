"""The backlog numbers an operator watches: inbound mail by outcome, the outbox, report lag.

Read from the database, not from any process, so every instance reports the same numbers and
they survive restarts. A system read for operators only: no actor's rights apply, so callers
must restrict who sees the result (``/metrics`` does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models import InboundMessage, OutboundMessage, ReportRun, ReportSchedule
from hermes_groupware.models.enums import OutboundStatus, ReportRunStatus, Source

READER = Actor.system("metrics")
_PENDING_RUNS = (ReportRunStatus.QUEUED, ReportRunStatus.RENDERING)


@dataclass(frozen=True)
class QueueStats:
    """One consistent reading (a single read-only transaction) at ``now``."""

    now: dt.datetime
    inbound: dict[tuple[str, str], int]
    """(channel, status) -> messages; status is the outcome (``received`` = still waiting)."""
    last_inbound: dict[str, dt.datetime]
    """channel -> when the newest message arrived that way."""
    outbox: dict[tuple[str, str], int]
    """(channel, status) -> messages: ``queued`` is the depth, ``dead`` the dead letters."""
    oldest_queued: dict[str, dt.datetime]
    """channel -> creation time of the oldest message still queued."""
    reports_due_since: dt.datetime | None
    """The oldest due report occurrence not yet rendered into the outbox, if any."""

    @property
    def scheduler_lag(self) -> dt.timedelta:
        """How long the oldest due report has waited (zero when none is due)."""
        if self.reports_due_since is None:
            return dt.timedelta(0)
        return max(dt.timedelta(0), self.now - self.reports_due_since)


def read(database: Database) -> QueueStats:
    """Query everything in one read-only transaction (a few indexed aggregates)."""
    with database.unit_of_work(READER, Source.SYSTEM, read_only=True) as uow:
        now = uow.now()
        inbound, last_inbound = _inbound(uow.session)
        outbox, oldest_queued = _outbox(uow.session)
        return QueueStats(
            now=now,
            inbound=inbound,
            last_inbound=last_inbound,
            outbox=outbox,
            oldest_queued=oldest_queued,
            reports_due_since=_reports_due_since(uow.session, now),
        )


def _inbound(session: Session) -> tuple[dict[tuple[str, str], int], dict[str, dt.datetime]]:
    counts: dict[tuple[str, str], int] = {}
    newest: dict[str, dt.datetime] = {}
    query = select(
        InboundMessage.channel,
        InboundMessage.status,
        func.count(),
        func.max(InboundMessage.received_at),
    ).group_by(InboundMessage.channel, InboundMessage.status)
    for channel, status, count, latest in session.execute(query):
        counts[str(channel), str(status)] = count
        if latest is not None:
            newest[str(channel)] = max(latest, newest.get(str(channel), latest))
    return counts, newest


def _outbox(session: Session) -> tuple[dict[tuple[str, str], int], dict[str, dt.datetime]]:
    counts: dict[tuple[str, str], int] = {}
    oldest_queued: dict[str, dt.datetime] = {}
    query = select(
        OutboundMessage.channel,
        OutboundMessage.status,
        func.count(),
        func.min(OutboundMessage.created_at),
    ).group_by(OutboundMessage.channel, OutboundMessage.status)
    for channel, status, count, oldest in session.execute(query):
        counts[channel, str(status)] = count
        if status == OutboundStatus.QUEUED and oldest is not None:
            oldest_queued[channel] = oldest
    return counts, oldest_queued


def _reports_due_since(session: Session, now: dt.datetime) -> dt.datetime | None:
    """Schedules whose fire time passed without a run yet, and runs not yet rendered."""
    unplanned = session.scalar(
        select(func.min(ReportSchedule.next_fire_at)).where(
            ReportSchedule.enabled.is_(True), ReportSchedule.next_fire_at <= now
        )
    )
    unrendered = session.scalar(
        select(func.min(ReportRun.occurrence_at)).where(
            ReportRun.status.in_(_PENDING_RUNS), ReportRun.occurrence_at <= now
        )
    )
    due = [moment for moment in (unplanned, unrendered) if moment is not None]
    return min(due) if due else None
