"""Leases: one holder at a time, renewals by the holder only, takeover after expiry."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import create_engine

from hermes_groupware.db.session import Database, UnitOfWork
from hermes_groupware.filestore import FileStore
from hermes_groupware.services import leases
from hermes_groupware.services.leases import DatabaseLease

T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_the_first_takes_it_the_second_waits_until_it_expires(uow: UnitOfWork) -> None:
    s = uow.session
    assert leases.hold(s, "imap:a", "host1:1:x", now=at(0), seconds=60)
    assert not leases.hold(s, "imap:a", "host2:2:y", now=at(59), seconds=60)
    assert leases.current_holder(s, "imap:a", now=at(59)) == "host1:1:x"

    assert leases.hold(s, "imap:a", "host2:2:y", now=at(60), seconds=60)
    assert leases.current_holder(s, "imap:a", now=at(61)) == "host2:2:y"
    assert not leases.hold(s, "imap:a", "host1:1:x", now=at(61), seconds=60)


def test_the_holder_renews_and_keeps_it(uow: UnitOfWork) -> None:
    s = uow.session
    assert leases.hold(s, "imap:a", "h1", now=at(0), seconds=60)
    assert leases.hold(s, "imap:a", "h1", now=at(50), seconds=60)
    assert not leases.hold(s, "imap:a", "h2", now=at(100), seconds=60)  # renewed until 110
    assert leases.hold(s, "imap:a", "h2", now=at(110), seconds=60)
    assert leases.hold(s, "imap:b", "h1", now=at(100), seconds=60)  # names are independent


def test_a_release_frees_it_at_once_and_keeps_the_last_success(uow: UnitOfWork) -> None:
    s = uow.session
    assert leases.hold(s, "imap:a", "h1", now=at(0), seconds=60, succeeded=True)
    leases.release(s, "imap:a", "h2", now=at(5))  # not the holder: nothing happens
    assert leases.current_holder(s, "imap:a", now=at(5)) == "h1"
    leases.release(s, "imap:a", "h1", now=at(5))
    assert leases.current_holder(s, "imap:a", now=at(5)) is None
    assert leases.hold(s, "imap:a", "h2", now=at(6), seconds=60)
    assert leases.last_successes(s, "imap:") == {"a": at(0)}
    assert leases.hold(s, "imap:a", "h2", now=at(7), seconds=60, succeeded=True)
    assert leases.last_successes(s, "imap:") == {"a": at(7)}
    assert leases.last_successes(s, "other:") == {}


def test_racing_instances_get_exactly_one_holder(fresh_database: Database) -> None:
    contenders = [DatabaseLease(fresh_database, "imap:race", 30) for _ in range(6)]
    won: list[str] = []
    start = threading.Barrier(len(contenders))

    def contend(lease: DatabaseLease) -> None:
        start.wait()
        if lease.hold():
            won.append(lease.holder)

    threads = [threading.Thread(target=contend, args=(c,)) for c in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(won) == 1
    winner = next(c for c in contenders if c.holder == won[0])
    assert winner.hold(succeeded=True)
    winner.release()
    assert contenders[0 if winner is not contenders[0] else 1].hold()


def test_an_unreachable_database_means_not_holding_it(tmp_path: Path) -> None:
    """A poller must not go on as the holder while another instance may take the lease over."""
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'hermes.db'}")
    lease = DatabaseLease(Database(engine, FileStore(tmp_path / "files", 1024)), "imap:x", 30)
    try:
        assert not lease.hold()
        lease.release()  # logged, not raised: the lease then expires by itself
    finally:
        engine.dispose()
