"""The report scheduler's faults, with real ``serve --roles scheduler`` processes on one
PostgreSQL database ticking every second: three of them racing from the same start, and one
killed with SIGKILL mid-work and restarted. Every due run is sent once, one mail per recipient.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from hermes_groupware.models import OutboundMessage, ReportRun
from hermes_groupware.models.enums import ReportRunStatus
from tests.conftest import ON_POSTGRESQL, DatabaseFactory
from tests.faults import Served, serve_env
from tests.reports.mailing import DOMAIN, Mailing, mailing_on

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (HERMES_DATABASE_URL)"),
    pytest.mark.timeout(120),
]
INSTANCES = 3
SCHEDULES = 4
KILLED_SCHEDULES = 8
RECIPIENTS = ["bob", "boss", "jan@partner.pl"]


@pytest.fixture
def mailing(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Mailing]:
    with mailing_on(db_factory, tmp_path) as populated:
        yield populated


def _runs(mailing: Mailing) -> list[ReportRunStatus]:
    with mailing.uow() as uow:
        return list(uow.session.scalars(select(ReportRun.status)))


def _mails(mailing: Mailing) -> tuple[int, int]:
    """(distinct Message-IDs, rows) of report mails in the outbox."""
    with mailing.uow() as uow:
        report = OutboundMessage.kind.startswith("report:")
        distinct = uow.session.scalar(
            select(func.count(func.distinct(OutboundMessage.message_id))).where(report)
        )
        rows = uow.session.scalar(select(func.count()).select_from(OutboundMessage).where(report))
    return distinct or 0, rows or 0


def _due_schedules(mailing: Mailing, count: int) -> None:
    """``count`` daily schedules saved an hour ago and due half an hour ago."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    due = now - dt.timedelta(minutes=30)
    with freeze_time(now - dt.timedelta(hours=1)):
        for n in range(count):
            mailing.schedule(
                name=f"Raport {n}",
                cron=f"{due.minute} {due.hour} * * *",
                time_zone="UTC",
                recipients=RECIPIENTS,
            )


def _scheduler_env(mailing: Mailing, tmp_path: Path, **settings: str) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nlevel = "ERROR"\n', encoding="utf-8")
    return serve_env(
        mailing.settings.database.url,
        config,
        files_path=mailing.settings.files.path,
        mail_domain=DOMAIN,
        reports_tick_seconds="1",
        **settings,
    )


def _wait_for(
    mailing: Mailing, done: Callable[[list[ReportRunStatus]], bool], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not done(_runs(mailing)):
        time.sleep(0.05)


def test_three_scheduler_processes_send_each_due_run_once(mailing: Mailing, tmp_path: Path) -> None:
    _due_schedules(mailing, SCHEDULES)
    env = _scheduler_env(mailing, tmp_path)
    with ThreadPoolExecutor(INSTANCES) as pool:  # started together: their first ticks race
        instances = list(
            pool.map(
                lambda n: Served("scheduler", env, tmp_path / f"serve{n}.log"), range(INSTANCES)
            )
        )
    try:
        _wait_for(mailing, lambda runs: runs == [ReportRunStatus.SENT] * SCHEDULES, 60)
        time.sleep(3)  # a few more ticks of every instance: nothing may go out again
    finally:
        for instance in instances:
            instance.stop()
    assert _runs(mailing) == [ReportRunStatus.SENT] * SCHEDULES
    assert _mails(mailing) == (SCHEDULES * len(RECIPIENTS), SCHEDULES * len(RECIPIENTS))
    for n in range(INSTANCES):  # a lost race is a quiet "taken", never an error
        assert "Traceback" not in (tmp_path / f"serve{n}.log").read_text(), n


@pytest.mark.timeout(180)
def test_a_scheduler_killed_mid_work_loses_and_doubles_nothing(
    mailing: Mailing, tmp_path: Path
) -> None:
    """Killed as soon as its first run is sent: the run in hand keeps its claim until the
    lease (the shortest allowed, 30 s) runs out; then the restarted instance finishes it."""
    _due_schedules(mailing, KILLED_SCHEDULES)
    env = _scheduler_env(mailing, tmp_path, reports_lease_seconds="30")
    first = Served("scheduler", env, tmp_path / "serve0.log")
    try:
        _wait_for(mailing, lambda runs: ReportRunStatus.SENT in runs, 60)
    finally:
        first.kill()
    sent = _runs(mailing).count(ReportRunStatus.SENT)
    assert 1 <= sent < KILLED_SCHEDULES, sent  # killed mid-work, not before or after it

    second = Served("scheduler", env, tmp_path / "serve1.log")
    try:
        _wait_for(mailing, lambda runs: runs == [ReportRunStatus.SENT] * KILLED_SCHEDULES, 90)
        time.sleep(3)  # a few more ticks: nothing may go out again
    finally:
        second.stop()
    assert _runs(mailing) == [ReportRunStatus.SENT] * KILLED_SCHEDULES
    mails = KILLED_SCHEDULES * len(RECIPIENTS)
    assert _mails(mailing) == (mails, mails)
