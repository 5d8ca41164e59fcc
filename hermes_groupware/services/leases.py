"""Database leases: exactly one instance does a singleton job (poll one IMAP mailbox) at a time.

A lease is a row ``name -> holder until expires_at``. Taking it and renewing it are the same
single ``INSERT … ON CONFLICT DO UPDATE … WHERE (mine or expired) RETURNING`` statement, so two
instances racing for it on PostgreSQL or SQLite cannot both win. A holder that dies simply
stops renewing; once ``expires_at`` passes, the next instance to ask takes over. The clock is
the instance's own: hosts must keep NTP time (a skew shortens or lengthens a takeover by as
much, it never gives two holders as long as skew < the lease time).

The row outlives its holders (a release only ends ``expires_at``), so ``last_success_at``, the
job's last good run, can be read by ``/metrics`` on any instance.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models import Lease
from hermes_groupware.models.enums import Source

log = logging.getLogger(__name__)
_SYSTEM = Actor.system("lease")
IMAP_PREFIX = "imap:"
"""Lease names of IMAP pollers: ``imap:<user@host:port/folder>``."""


def holder_id() -> str:
    """``host:pid:uuid``: unique per holder object, and says where to look when it is stuck."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def hold(
    session: Session,
    name: str,
    holder: str,
    *,
    now: dt.datetime,
    seconds: float,
    succeeded: bool = False,
) -> bool:
    """Take or renew ``name`` for ``seconds`` from ``now``; False when another holder has it.

    ``succeeded`` also records ``now`` as the job's last good run (only while holding it).
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    expires = now + dt.timedelta(seconds=seconds)
    statement = insert(Lease).values(
        name=name,
        holder=holder,
        acquired_at=now,
        expires_at=expires,
        last_success_at=now if succeeded else None,
    )
    mine = Lease.holder == statement.excluded.holder
    changes = {
        "holder": statement.excluded.holder,
        "acquired_at": case((mine, Lease.acquired_at), else_=statement.excluded.acquired_at),
        "expires_at": statement.excluded.expires_at,
    }
    if succeeded:
        changes["last_success_at"] = statement.excluded.last_success_at
    statement = statement.on_conflict_do_update(
        index_elements=[Lease.name],
        set_=changes,
        where=mine | (Lease.expires_at <= statement.excluded.acquired_at),
    )
    return session.scalar(statement.returning(Lease.holder)) == holder


def release(session: Session, name: str, holder: str, *, now: dt.datetime) -> None:
    """End ``holder``'s lease now, so another instance need not wait for it to expire."""
    session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.expires_at > now)
        .values(expires_at=now)
    )


def last_successes(session: Session, prefix: str) -> dict[str, dt.datetime]:
    """Lease name (without ``prefix``) -> the job's last good run, for leases named ``prefix…``."""
    query = select(Lease.name, Lease.last_success_at).where(
        Lease.name.startswith(prefix, autoescape=True), Lease.last_success_at.is_not(None)
    )
    return {name.removeprefix(prefix): at for name, at in session.execute(query) if at}


def current_holder(session: Session, name: str, *, now: dt.datetime) -> str | None:
    """Who holds ``name`` at ``now`` (None when free or expired); for status output and tests."""
    return session.scalar(select(Lease.holder).where(Lease.name == name, Lease.expires_at > now))


class DatabaseLease:
    """One process's claim on one named lease, each call in its own short transaction.

    Database trouble counts as "not held": a job that cannot reach the database must not go on
    as if it still held the lease, since another instance may take it over meanwhile.
    """

    def __init__(self, database: Database, name: str, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("a lease must last a positive number of seconds")
        self.database = database
        self.name = name
        self.seconds = seconds
        self.holder = holder_id()

    @property
    def renew_every(self) -> float:
        """How often a holder renews: a third of the lease, so two missed renewals are survived."""
        return self.seconds / 3

    def hold(self, *, succeeded: bool = False) -> bool:
        """Take or renew the lease (and record a good run); False when another instance has it."""
        try:
            with self.database.unit_of_work(_SYSTEM, Source.SYSTEM) as uow:
                return hold(
                    uow.session,
                    self.name,
                    self.holder,
                    now=uow.now(),
                    seconds=self.seconds,
                    succeeded=succeeded,
                )
        except DATABASE_UNAVAILABLE as exc:
            log.warning("lease %s: database unavailable (%s); not holding it", self.name, exc)
            return False

    def release(self) -> None:
        """Give the lease up (a clean stop); failures only mean the others wait for expiry."""
        try:
            with self.database.unit_of_work(_SYSTEM, Source.SYSTEM) as uow:
                release(uow.session, self.name, self.holder, now=uow.now())
        except DATABASE_UNAVAILABLE as exc:
            log.warning("lease %s: could not release (%s); it expires by itself", self.name, exc)
