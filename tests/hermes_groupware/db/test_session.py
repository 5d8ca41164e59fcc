"""Units of work: a read-only one cannot write, and leaves its connection writable; pooled
PostgreSQL connections are pinged only after they sat idle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory as Clock
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from hermes_groupware.db.session import PING_AFTER_IDLE_SECONDS, Actor, Database
from hermes_groupware.models.enums import Source
from tests.conftest import ON_POSTGRESQL

SYSTEM = Actor.system("test")


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no read-only transactions")
def test_a_read_only_unit_refuses_writes_and_the_next_unit_may_write(
    fresh_database: Database,
) -> None:
    database = fresh_database
    database.engine.pool.dispose()
    reading = database.unit_of_work(SYSTEM, Source.CLI, read_only=True)
    with pytest.raises(DBAPIError), reading as uow:
        uow.session.execute(text("UPDATE calendar_state SET epoch = 'changed'"))
    with database.unit_of_work(SYSTEM, Source.CLI) as uow:  # the same pooled connection
        uow.session.execute(text("UPDATE calendar_state SET epoch = 'changed'"))
    with database.unit_of_work(SYSTEM, Source.CLI, read_only=True) as uow:
        assert uow.session.scalar(text("SELECT epoch FROM calendar_state")) == "changed"


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))


def _terminate(engine: Engine, pid: int) -> None:
    """Ends a backend from outside the engine's pool (as a server restart would)."""
    killer = create_engine(engine.url, poolclass=NullPool)
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


@pytest.fixture
def dead_connection(fresh_database: Database) -> Iterator[tuple[Engine, int, Clock]]:
    """An engine whose pool holds one connection, ended from outside; a frozen clock."""
    if not ON_POSTGRESQL:
        pytest.skip("SQLite has no connections to lose")
    engine = fresh_database.engine
    engine.pool.dispose()
    with freeze_time("2026-11-27 12:00:00") as clock:
        pooled = _backend(engine)
        _terminate(engine, pooled)
        yield engine, pooled, clock


def test_a_connection_idle_for_a_while_is_pinged_and_replaced_when_dead(
    dead_connection: tuple[Engine, int, Clock],
) -> None:
    engine, pooled, clock = dead_connection
    clock.tick(PING_AFTER_IDLE_SECONDS + 0.5)
    with engine.connect() as conn:  # pinged, found dead and replaced: no error
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pooled


def test_a_connection_used_a_moment_ago_is_not_pinged_and_the_pool_recovers_from_its_death(
    dead_connection: tuple[Engine, int, Clock],
) -> None:
    engine, pooled, _ = dead_connection
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.scalar(text("SELECT 1"))  # not pinged: the dead connection fails its request
    with engine.connect() as conn:  # ... and only that one: the pool was renewed
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pooled
