"""Units of work: a read-only one cannot write, and leaves its connection writable."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hermes_groupware.db.session import Actor, Database
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
