"""What the plugins share in one process: settings, the database and the current request.

Radicale creates Storage and Rights twice per Application and shares them between threads, so
nothing per-request lives on them: the write unit of work and the user are context variables.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from caldav_backend.home import CollectionInfo, home
from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.errors import PermissionDenied
from hermes_groupware.login_cache import LoginCache
from hermes_groupware.models.enums import Source
from hermes_groupware.services.directory import active_employee, actor_for
from hermes_groupware.throttle import Throttle
from sync import projection

CATCH_UP_SECONDS = 2.0
CHUNK = 500  # journal entries per catch-up transaction (about 2 s of rendering)
log = logging.getLogger(__name__)
_write: ContextVar[UnitOfWork | None] = ContextVar("hermes_caldav_write", default=None)
_read: ContextVar[UnitOfWork | None] = ContextVar("hermes_caldav_read", default=None)


HOME_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class _Account:
    """What a login is allowed, read in one transaction and kept ``HOME_CACHE_SECONDS``."""

    actor: Actor | None  # None: no active employee has this login
    collections: list[CollectionInfo]
    expires: float


@dataclass(frozen=True)
class Runtime:
    """One per process, built by the HTTP composition root and handed to the plugins."""

    settings: Settings
    database: Database
    logins: LoginCache = field(default_factory=LoginCache)
    _accounts: dict[str, _Account] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def home(self, login: str) -> list[CollectionInfo]:
        """The employee's collections and access (see :meth:`_account`)."""
        return self._account(login).collections

    def actor(self, login: str) -> Actor:
        """The active employee behind a CalDAV login (see :meth:`_account`); the services
        check again, inside the write transaction, that the employee is still active."""
        actor = self._account(login).actor
        if actor is None:
            raise PermissionDenied(f"{login} is not an active employee")
        return actor

    def _account(self, login: str) -> _Account:
        """Who ``login`` is and what they see, re-read after ``HOME_CACHE_SECONDS``.

        Radicale asks several times per request (principal discovery, rights per item, the
        writer); a change of rights or membership reaches clients within those few seconds.
        """
        now = time.monotonic()
        with self._lock:
            cached = self._accounts.get(login)
        if cached is not None and cached.expires > now:
            return cached
        with self.reading() as uow:
            employee = active_employee(uow, login)
            if employee is None:
                account = _Account(None, [], now + HOME_CACHE_SECONDS)
            else:
                account = _Account(
                    actor_for(employee), home(uow, employee), now + HOME_CACHE_SECONDS
                )
        with self._lock:
            if len(self._accounts) > 10_000:
                self._accounts.clear()
            self._accounts[login] = account
        return account

    @functools.cached_property
    def feed_clients(self) -> Throttle:
        """Feed requests per client address in this process (``[feeds]
        address_limit_per_minute``)."""
        return Throttle(self.settings.feeds.address_limit_per_minute)

    def __repr__(self) -> str:  # Radicale logs its plugin types; keep settings out of logs
        return "Runtime()"

    @contextmanager
    def writing(self, login: str) -> Iterator[UnitOfWork]:
        """The request's write transaction, with the projection locked and current."""
        with self.database.unit_of_work(self.actor(login), Source.CALDAV) as uow:
            projection.catch_up(uow.session, uow.now(), directory=False)
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
        with self.statements() as conn:
            if not projection.is_behind(conn):
                return
        deadline = time.monotonic() + CATCH_UP_SECONDS
        try:
            projection.catch_up_in_steps(
                self.database, Actor.system("caldav"), max_entries=CHUNK, deadline=deadline
            )
        except OperationalError as exc:
            if not _busy(exc):
                raise
            # SQLite: another process holds the write lock, most likely applying the same
            # backlog; serve the consistent older state rather than fail the request
            log.info("calendar catch-up deferred: the database is busy")

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A connection for reads of one statement each (a statement is its own snapshot), in
        autocommit: on PostgreSQL a read costs one round trip instead of three, on SQLite no
        BEGIN and ROLLBACK around it."""
        with self._statement_engine.connect() as conn:
            yield conn

    @functools.cached_property
    def _statement_engine(self) -> Engine:
        """Built once: an engine with options registers event listeners (~0.2 ms a request)."""
        engine = self.database.engine
        if engine.dialect.name == "postgresql":
            return engine.execution_options(isolation_level="AUTOCOMMIT")
        return engine.execution_options(sqlite_begin=None)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction, current with the journal, for everything the request reads
        (on PostgreSQL each transaction costs round trips); :meth:`reading` inside shares it."""
        system = Actor.system("caldav")
        with self.database.unit_of_work(system, Source.CALDAV, read_only=True) as uow:
            if not projection.is_behind(uow.session):  # the common case: one transaction
                with self._sharing(uow):
                    yield
                return
        self.ensure_current()
        with (
            self.database.unit_of_work(system, Source.CALDAV, read_only=True) as uow,
            self._sharing(uow),
        ):
            yield

    @staticmethod
    @contextmanager
    def _sharing(uow: UnitOfWork) -> Iterator[None]:
        token = _read.set(uow)
        try:
            yield
        finally:
            _read.reset(token)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """The request's transaction when inside one (a PUT or DELETE, or a snapshot), else a
        short read transaction."""
        current = _write.get() or _read.get()
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


def _busy(exc: OperationalError) -> bool:
    """SQLite's lock timeout (PostgreSQL waits on row locks instead of failing)."""
    return "database is locked" in str(exc.orig)
