"""Two real connections on PostgreSQL: the journal never skips, an update is never lost."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from hermes_groupware.db.session import Actor, Database
from hermes_groupware.errors import Conflict
from hermes_groupware.models import ChangeJournal, Task
from hermes_groupware.models.enums import Source
from hermes_groupware.services import directory, registers
from hermes_groupware.services.tasks import TaskChanges, create_task, update_task
from sync.journal import changes_since
from tests.conftest import ON_POSTGRESQL

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (HERMES_DATABASE_URL)")
ADMIN = Actor.system("test")


def _seed(db: Database, tasks: int) -> list[int]:
    with db.unit_of_work(ADMIN, Source.CLI) as uow:
        boss = directory.add_employee(uow, login="boss", first_name="A", last_name="B")
        reg = registers.add_register(uow, code="HAN", name="Handel", colour="#00AA00")
        return [
            create_task(uow, register_id=reg.id, subject=f"T{i}", responsible_id=boss.id).id
            for i in range(tasks)
        ]


def test_reader_never_misses_a_change_under_concurrent_writers(fresh_database: Database) -> None:
    """Writers hold their transaction open for a while after taking a sequence number; a
    reader that polls "changes since my last seq" must still see every entry exactly once."""
    db = fresh_database
    task_ids = _seed(db, tasks=4)
    with db.unit_of_work(ADMIN, Source.CLI, read_only=True) as uow:
        start = max(c.seq for c in changes_since(uow.session, 0))
    done = threading.Event()
    errors: list[BaseException] = []

    def writer(task_id: int, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for n in range(12):
                with db.unit_of_work(ADMIN, Source.CLI) as uow:
                    update_task(uow, task_id, TaskChanges(subject=f"v{n}"))
                    time.sleep(rng.uniform(0, 0.02))  # commit late, after taking the number
        except BaseException as exc:
            errors.append(exc)

    seen: list[int] = []

    def reader() -> None:
        last = start
        while True:
            finished = done.is_set()
            with db.unit_of_work(ADMIN, Source.CLI, read_only=True) as uow:
                batch = changes_since(uow.session, last)
            seen.extend(c.seq for c in batch)
            last = batch[-1].seq if batch else last
            if finished and not batch:
                return
            time.sleep(0.001)

    threads = [threading.Thread(target=writer, args=(t, i)) for i, t in enumerate(task_ids)]
    reading = threading.Thread(target=reader)
    reading.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reading.join(timeout=30)
    assert not errors
    with db.unit_of_work(ADMIN, Source.CLI, read_only=True) as uow:
        committed = list(
            uow.session.scalars(
                select(ChangeJournal.seq)
                .where(ChangeJournal.seq > start)
                .order_by(ChangeJournal.seq)
            )
        )
    assert len(committed) == 4 * 12
    assert committed == list(range(start + 1, start + 1 + len(committed)))  # no gaps
    assert seen == committed  # nothing skipped, nothing twice, in order


def test_second_writer_waits_for_the_first_to_commit(fresh_database: Database) -> None:
    """The counter row lock is what orders sequence numbers by commit."""
    db = fresh_database
    first, second = _seed(db, tasks=2)
    with db.unit_of_work(ADMIN, Source.CLI) as holder:
        update_task(holder, first, TaskChanges(subject="held open"))
        with db.engine.connect() as other, other.begin():
            other.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(text("UPDATE tasks SET subject = 'x' WHERE id = :id"), {"id": second})


def test_concurrent_updates_of_one_task_never_lose_an_update(fresh_database: Database) -> None:
    """Both load version 1; the first to commit wins, the other gets Conflict, not a silent
    overwrite."""
    db = fresh_database
    (task_id,) = _seed(db, tasks=1)
    with pytest.raises(Conflict), db.unit_of_work(ADMIN, Source.CALDAV) as late:  # noqa: PT012
        loaded = late.session.get_one(Task, task_id)  # read at the start of the request
        assert loaded.version == 1
        with db.unit_of_work(ADMIN, Source.CLI) as early:
            update_task(early, task_id, TaskChanges(subject="early wins"))
        update_task(late, task_id, TaskChanges(subject="late loses"))
    with db.unit_of_work(ADMIN, Source.CLI, read_only=True) as uow:
        task = uow.session.get_one(Task, task_id)
        assert (task.subject, task.version) == ("early wins", 2)
