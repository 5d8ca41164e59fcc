"""Engines and the unit of work: the only place that begins and commits a transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session

from hermes_groupware.filestore import FileStore
from hermes_groupware.models import Employee, Register
from hermes_groupware.models.enums import Source


@dataclass(frozen=True)
class Actor:
    """Who acts: an employee, or the system itself (CLI without ``--as``, migrations, jobs)."""

    employee_id: int | None
    login: str
    is_admin: bool

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """An administrative actor that is not an employee."""
        return cls(employee_id=None, login=name, is_admin=True)


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """Make a relative SQLite path relative to ``base_dir`` and create its directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    path = Path(parsed.database)
    if parsed.database != ":memory:" and not path.is_absolute():
        path = base_dir / path
    if parsed.database != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


def make_engine(
    url: str, *, echo: bool = False, busy_timeout_ms: int = 10_000, pool_size: int = 5
) -> Engine:
    """An engine with our per-dialect session setup.

    SQLite: WAL, foreign keys on, and transactions begun explicitly (``BEGIN IMMEDIATE`` for
    writers, so two writers queue on the busy timeout instead of failing on lock upgrade).
    """
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, echo=echo, pool_size=pool_size)
        _ping_when_idle(engine)
        return engine
    engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        begin = conn.get_execution_options().get("sqlite_begin", "BEGIN")
        if begin is not None:  # None: every statement its own transaction (single reads)
            conn.exec_driver_sql(begin)

    return engine


#: a pooled connection idle longer than this is pinged before use
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """The pool's pre-ping, only for connections idle more than ``PING_AFTER_IDLE_SECONDS``.

    A ping is a round trip before every checkout: a third of a GET on PostgreSQL. Connections
    die while idle (a server restart takes seconds, proxies cut idle ones after minutes), so one
    used a moment ago is used as it is; should it have died all the same, its request fails as
    in any outage (503, retried by the client) and the pool is renewed.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise InvalidatePoolError("a pooled connection failed its ping") from exc


def set_change_context(conn: Connection, actor: Actor, source: Source, now: dt.datetime) -> None:
    """Tell the journal triggers who writes in this transaction."""
    actor_id = actor.employee_id
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                "INSERT OR REPLACE INTO change_context (id, source, actor_id, changed_at) "
                "VALUES (1, :source, :actor, :now)"
            ),
            {"source": source.value, "actor": actor_id, "now": _sqlite_time(now)},
        )
    else:
        conn.execute(
            text(
                "SELECT set_config('hermes.source', :source, true), "
                "set_config('hermes.actor', :actor, true), set_config('hermes.now', :now, true)"
            ),
            {
                "source": source.value,
                "actor": "" if actor_id is None else str(actor_id),
                "now": now.isoformat(),
            },
        )


def clear_change_context(conn: Connection) -> None:
    """Remove the SQLite context row before commit (PostgreSQL settings end with the tx)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM change_context WHERE id = 1"))


def _sqlite_time(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class UnitOfWork:
    """One transaction's worth of work: the session, who acts and where the change came from."""

    session: Session
    actor: Actor
    source: Source
    files: FileStore

    def now(self) -> dt.datetime:
        """The clock the services use (freezegun patches it in tests)."""
        return dt.datetime.now(dt.UTC)

    def acting_as(self, actor: Actor) -> UnitOfWork:
        """The same transaction, continued as another actor (demo data, impersonation)."""
        set_change_context(self.session.connection(), actor, self.source, self.now())
        return dataclasses.replace(self, actor=actor)


class Database:
    """Opens units of work; one per process, created by ``bootstrap``."""

    def __init__(self, engine: Engine, files: FileStore) -> None:
        self.engine = engine
        self.files = files

    @contextmanager
    def unit_of_work(
        self, actor: Actor, source: Source, *, read_only: bool = False
    ) -> Iterator[UnitOfWork]:
        """Begin, yield, flush and commit; roll back on any exception."""
        with self.engine.connect() as connection:
            conn = connection
            if conn.dialect.name == "sqlite":
                conn = conn.execution_options(
                    sqlite_begin="BEGIN" if read_only else "BEGIN IMMEDIATE"
                )
            elif read_only:  # BEGIN READ ONLY in one round trip (reset when pooled again)
                conn = conn.execution_options(postgresql_readonly=True)
            with conn.begin():
                uow = _open(conn, actor, source, self.files, write=not read_only)
                try:
                    yield uow
                    uow.session.flush()
                finally:
                    uow.session.close()
                if not read_only:
                    clear_change_context(conn)


class _UnitSession(Session):
    """A unit of work's session. It keeps the registers and employees it loaded for its whole
    transaction: SQLAlchemy's identity map holds objects only while something references them,
    and one write asks for its register and its actor's employee in several services (a PUT of
    an edited item read its register four times)."""


@event.listens_for(_UnitSession, "loaded_as_persistent")
def _hold_directory_rows(session: Session, instance: object) -> None:
    if isinstance(instance, (Register, Employee)):
        session.info.setdefault("hermes_held", []).append(instance)


def _open(
    conn: Connection, actor: Actor, source: Source, files: FileStore, *, write: bool
) -> UnitOfWork:
    uow = UnitOfWork(
        session=_UnitSession(bind=conn, autoflush=True, expire_on_commit=False),
        actor=actor,
        source=source,
        files=files,
    )
    if write:
        set_change_context(conn, actor, source, uow.now())
    return uow
