"""The report timer of ``serve``: its first tick runs at start-up and sends what was missed."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware.models import ReportRun
from hermes_groupware.models.enums import ReportRunStatus
from reports.service import ReportService
from tests.conftest import DatabaseFactory
from tests.reports.mailing import Mailing, mailing_on


@pytest.fixture
def mailing(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Mailing]:
    with mailing_on(db_factory, tmp_path) as populated:
        yield populated


def _sent(mailing: Mailing, *, within: float) -> list[ReportRun]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with mailing.uow() as uow:
            runs = list(uow.session.scalars(select(ReportRun)))
        if runs and all(r.status is ReportRunStatus.SENT for r in runs):
            return runs
        time.sleep(0.1)
    return runs


def test_a_run_missed_before_start_up_is_sent_by_the_first_tick(mailing: Mailing) -> None:
    now = dt.datetime.now(dt.UTC)
    due = now - dt.timedelta(minutes=30)
    with freeze_time(now - dt.timedelta(hours=1)):  # saved while no instance was running
        mailing.schedule(
            cron=f"{due.minute} {due.hour} * * *", time_zone="UTC", recipients=["boss"]
        )
    service = ReportService(mailing.settings, mailing.database)  # ticks every 30 s
    assert service.start() == "reports"
    try:
        (run,) = _sent(mailing, within=20)
    finally:
        service.stop()
    assert run.status is ReportRunStatus.SENT and run.late
    assert run.claimed_by == service.instance
    assert list(mailing.mails(run.id)) == ["boss@firma.pl"]


def test_stopping_a_service_that_never_started_is_harmless(mailing: Mailing) -> None:
    ReportService(mailing.settings, mailing.database).stop()
