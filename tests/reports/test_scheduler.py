"""The scheduler's tick with the real delivery: on time, late, taken over, and on PostgreSQL two
instances at once, each run delivered once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import func, select

from hermes_groupware.db.session import Database, make_engine
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import OutboundMessage, ReportRun
from hermes_groupware.models.enums import ReportKind, ReportRunStatus
from hermes_groupware.services import report_schedule_admin
from reports.delivery import deliver_run
from reports.scheduler import TickResult, instance_id, tick
from tests.conftest import ON_POSTGRESQL, DatabaseFactory
from tests.reports.mailing import Mailing, files_of, mailing_on

SENT = ReportRunStatus.SENT
# Monday 30 November 2026, 07:50 in Warsaw
MONDAY_0750 = dt.datetime(2026, 11, 30, 6, 50, tzinfo=dt.UTC)
MONDAY_0800 = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def mailing(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Mailing]:
    with mailing_on(db_factory, tmp_path) as populated:
        yield populated


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(MONDAY_0750) as frozen:
        assert isinstance(frozen, FrozenDateTimeFactory)
        yield frozen


def _tick(mailing: Mailing, instance: str = "one") -> TickResult:
    return tick(mailing.database, mailing.settings, instance=instance)


def _runs(mailing: Mailing) -> list[ReportRun]:
    with mailing.uow() as uow:
        return list(uow.session.scalars(select(ReportRun).order_by(ReportRun.id)))


def test_a_due_run_is_delivered_once_at_eight(
    mailing: Mailing, clock: FrozenDateTimeFactory
) -> None:
    mailing.schedule(recipients=["bob", "boss"])
    assert _tick(mailing) == TickResult(0)
    clock.move_to(MONDAY_0800 + dt.timedelta(seconds=20))
    first = _tick(mailing)
    (run,) = _runs(mailing)
    assert first == TickResult(1, {run.id: SENT})
    assert _tick(mailing, "two") == TickResult(0)
    assert (run.occurrence_local, run.status, run.late, run.recipients) == (
        "2026-11-30T08:00",
        SENT,
        False,
        2,
    )
    assert sorted(mailing.mails(run.id)) == ["bob@firma.pl", "boss@firma.pl"]


def test_the_directors_two_reports_arrive_as_one_mail_at_eight(
    mailing: Mailing, clock: FrozenDateTimeFactory
) -> None:
    """The issue's "done when": overdue and pipeline every Monday 8:00, one mail each."""
    mailing.schedule(
        reports=[ReportKind.OVERDUE, ReportKind.PIPELINE],
        params={"pipeline": {"months": 3}},
        recipients=["boss", "bob"],
    )
    clock.move_to(MONDAY_0800 + dt.timedelta(seconds=20))
    assert _tick(mailing).materialised == 1
    assert _tick(mailing, "two") == TickResult(0)
    (run,) = _runs(mailing)
    assert (run.status, run.recipients) == (SENT, 2)
    assert [m.kind for m in mailing.outbox()] == ["report:overdue+pipeline"] * 2
    mails = mailing.mails(run.id)
    assert sorted(mails) == ["bob@firma.pl", "boss@firma.pl"]
    for mail in mails.values():
        assert len([name for name in files_of(mail) if name.endswith(".xlsx")]) == 2


def test_a_run_missed_while_down_goes_out_once_late(
    mailing: Mailing, clock: FrozenDateTimeFactory
) -> None:
    mailing.schedule(recipients=["boss"])
    clock.move_to(dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC))  # 10:30: the first tick
    result = _tick(mailing)
    (run,) = _runs(mailing)
    assert result == TickResult(1, {run.id: SENT})
    assert run.late and run.occurrence_local == "2026-11-30T08:00"
    assert list(mailing.mails(run.id)) == ["boss@firma.pl"]


def test_runs_missed_beyond_grace_are_recorded_and_nothing_is_sent(
    mailing: Mailing, clock: FrozenDateTimeFactory
) -> None:
    mailing.schedule(recipients=["boss"], cron="0 8 * * *", grace_minutes=60)
    clock.move_to(dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC))  # Wednesday 10:30
    assert _tick(mailing) == TickResult(3)
    assert [r.status for r in _runs(mailing)] == [ReportRunStatus.MISSED] * 3
    assert mailing.outbox() == []


def test_a_run_of_a_dead_instance_is_taken_over_after_its_lease(
    mailing: Mailing, clock: FrozenDateTimeFactory
) -> None:
    run_id = mailing.queue(mailing.schedule(recipients=["bob", "boss"]))
    assert [job.run_id for job in mailing.claim("dead", lease_seconds=300)] == [run_id]
    assert _tick(mailing, "alive") == TickResult(0)  # still leased
    assert mailing.outbox() == []
    clock.tick(dt.timedelta(seconds=301))
    assert _tick(mailing, "alive") == TickResult(0, {run_id: SENT})
    (run,) = _runs(mailing)
    assert (run.claimed_by, run.attempts, run.status) == ("alive", 2, SENT)
    assert sorted(mailing.mails(run_id)) == ["bob@firma.pl", "boss@firma.pl"]


def test_a_schedule_deleted_while_its_run_renders_sends_nothing(
    mailing: Mailing, clock: FrozenDateTimeFactory
) -> None:
    schedule = mailing.schedule(recipients=["boss"])
    mailing.queue(schedule)
    (job,) = mailing.claim("one")
    with mailing.uow() as uow:
        report_schedule_admin.delete_schedule(uow, schedule)
    deliver_run(mailing.database, mailing.settings, job, instance="one")
    assert mailing.outbox() == [] and _runs(mailing) == []
    assert _tick(mailing) == TickResult(0)  # nothing left to retry


def test_instance_ids_are_distinct_and_fit_the_claim_column() -> None:
    ids = {instance_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) <= 100 and i.count(":") >= 2 for i in ids)


@pytest.mark.postgresql
@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (HERMES_DATABASE_URL)")
def test_two_instances_ticking_at_once_deliver_each_run_once(mailing: Mailing) -> None:
    """Each instance has its own engine and connections, as two servers would."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    due = now - dt.timedelta(minutes=30)
    schedules = 6
    with freeze_time(now - dt.timedelta(hours=1)):  # saved an hour ago: due half an hour ago
        for n in range(schedules):
            mailing.schedule(
                name=f"Raport {n}",
                cron=f"{due.minute} {due.hour} * * *",
                time_zone="UTC",
                recipients=["bob", "boss", "jan@partner.pl"],
            )
    instances = [_second_instance(mailing), _second_instance(mailing)]
    start = threading.Barrier(len(instances))
    results: list[TickResult] = []
    errors: list[BaseException] = []

    def instance(database: Database) -> None:
        name = instance_id()
        try:
            start.wait()
            for _ in range(3):
                results.append(tick(database, mailing.settings, instance=name))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=instance, args=(db,)) for db in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for database in instances:
        database.engine.dispose()
    assert not errors
    runs = _runs(mailing)
    assert len(runs) == schedules and {r.status for r in runs} == {SENT}
    assert sum(r.materialised for r in results) == schedules
    assert sorted(run for r in results for run in r.delivered) == [r.id for r in runs]
    with mailing.uow() as uow:
        mails = uow.session.scalar(
            select(func.count(func.distinct(OutboundMessage.message_id))).where(
                OutboundMessage.kind.startswith("report:")
            )
        )
        rows = uow.session.scalar(select(func.count()).select_from(OutboundMessage))
    assert mails == rows == schedules * 3


def _second_instance(mailing: Mailing) -> Database:
    """Another server on the same database: its own engine and pool."""
    url = mailing.settings.database.url
    return Database(make_engine(url), FileStore(Path(mailing.settings.files.path), 1 << 20))
