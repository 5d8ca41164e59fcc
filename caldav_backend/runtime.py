"""What the plugins share in one process: settings, the database and the current request.

Radicale creates Storage and Rights twice per Application and shares them between threads, so
nothing per-request lives on them: the write unit of work and the user are context variables.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import select

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.errors import PermissionDenied
from hermes_groupware.models import Employee
from hermes_groupware.models.enums import Source
from hermes_groupware.services.directory import actor_for
from sync import projection

CATCH_UP_SECONDS = 5.0
CHUNK = 2000  # journal entries per catch-up transaction
_write: ContextVar[UnitOfWork | None] = ContextVar("hermes_caldav_write", default=None)


@dataclass(frozen=True)
class Runtime:
    """One per process, built by the HTTP composition root and handed to the plugins."""

    settings: Settings
    database: Database

    def __repr__(self) -> str:  # Radicale logs its plugin types; keep settings out of logs
        return "Runtime()"

    def actor(self, login: str) -> Actor:
        """The active employee behind a CalDAV login."""
        with self.database.unit_of_work(
            Actor.system("caldav"), Source.CALDAV, read_only=True
        ) as uow:
            employee = uow.session.scalar(
                select(Employee).where(Employee.login == login, Employee.is_active)
            )
            if employee is None:
                raise PermissionDenied(f"{login} is not an active employee")
            return actor_for(employee)

    @contextmanager
    def writing(self, login: str) -> Iterator[UnitOfWork]:
        """The request's write transaction, with the projection locked and current."""
        with self.database.unit_of_work(self.actor(login), Source.CALDAV) as uow:
            projection.catch_up(uow.session, uow.now())
            token = _write.set(uow)
            try:
                yield uow
            finally:
                _write.reset(token)

    def ensure_current(self) -> None:
        """Before a read: apply journal entries written since the last request (O(changes)).

        A huge backlog (a bulk import by the desktop application) is applied in short
        transactions for at most ``CATCH_UP_SECONDS`` per request; the rest follows on the next
        requests. Until then clients see a consistent older state, and sync tokens stay valid.
        """
        system = Actor.system("caldav")
        with self.database.unit_of_work(system, Source.CALDAV, read_only=True) as uow:
            behind = projection.is_behind(uow.session)
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while behind and time.monotonic() < deadline:
            with self.database.unit_of_work(system, Source.SYSTEM) as uow:
                behind = not projection.catch_up(uow.session, uow.now(), max_entries=CHUNK)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """The write transaction when inside one (PUT/DELETE), else a short read transaction."""
        current = _write.get()
        if current is not None:
            yield current
            return
        system = Actor.system("caldav")
        with self.database.unit_of_work(system, Source.CALDAV, read_only=True) as uow:
            yield uow

    @staticmethod
    def write_unit() -> UnitOfWork:
        """The current write transaction (Radicale calls upload/delete only inside one)."""
        uow = _write.get()
        if uow is None:
            raise RuntimeError("storage write outside acquire_lock('w')")
        return uow
