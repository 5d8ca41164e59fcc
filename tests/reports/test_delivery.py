"""A run from claim to outbox: each reader's own rights, empty reports, failures, lost leases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from freezegun import freeze_time

from hermes_groupware.models.enums import ReportKind, ReportRunStatus, ViewAudience
from hermes_groupware.services import saved_views
from reports import mail
from reports.delivery import deliver_run
from tests.conftest import DatabaseFactory
from tests.reports.mailing import (
    OPEN_TASK,
    SECRET_TASK,
    Mailing,
    files_of,
    html_of,
    mailing_on,
    parse,
    text_of,
    xlsx_cells,
)


@pytest.fixture
def mailing(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Mailing]:
    with mailing_on(db_factory, tmp_path) as populated:
        yield populated


def _xlsx_cells(message: EmailMessage) -> list[object]:
    (data,) = files_of(message).values()
    return xlsx_cells(data)


def test_each_employee_gets_the_report_with_their_own_rights(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob", "boss"])

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert mailing.run(run_id).status is ReportRunStatus.SENT
    assert mailing.run(run_id).recipients == 2
    mails = mailing.mails()
    assert sorted(mails) == ["bob@firma.pl", "boss@firma.pl"]
    bob, boss = mails["bob@firma.pl"], mails["boss@firma.pl"]
    for seen_by_bob in (html_of(bob), text_of(bob), _xlsx_cells(bob)):
        assert OPEN_TASK in seen_by_bob
        assert SECRET_TASK not in seen_by_bob
    assert OPEN_TASK in html_of(boss)
    assert SECRET_TASK in html_of(boss)
    assert SECRET_TASK in _xlsx_cells(boss)
    assert bob["Subject"].startswith("[Hermes] Overdue")  # bob reads English
    assert boss["Subject"].startswith("[Hermes] Zaległe")


def test_an_outside_address_sees_what_the_owner_sees_in_external_registers_only(
    mailing: Mailing,
) -> None:
    schedule = mailing.schedule(recipients=["boss", "jan@partner.pl"], locale="en")

    mailing.send(schedule)

    mails = mailing.mails()
    outside, owner = mails["jan@partner.pl"], mails["boss@firma.pl"]
    assert OPEN_TASK in html_of(outside)
    assert SECRET_TASK not in html_of(outside)
    assert SECRET_TASK not in _xlsx_cells(outside)
    assert outside["Subject"].startswith("[Hermes] Overdue")  # the schedule's language
    assert SECRET_TASK in html_of(owner)  # the owner, as an employee, sees it all


def test_every_mail_but_the_owners_offers_one_click_unsubscribe(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob", "boss", "jan@partner.pl"])

    run_id, _ = mailing.send(schedule)

    mails = mailing.mails()
    assert mails["boss@firma.pl"]["List-Unsubscribe"] is None
    for address in ("bob@firma.pl", "jan@partner.pl"):
        message = mails[address]
        assert message["List-Unsubscribe"].startswith(
            "<https://hermes.firma.pl/reports/unsubscribe?t="
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"] == f"<{mail.message_id(mailing.settings, run_id, address)}>"


def test_an_empty_report_is_not_sent_when_the_schedule_says_so(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob"], params={"register": "ZAR"}, skip_if_empty=True)

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.EMPTY
    assert mailing.run(run_id).status is ReportRunStatus.EMPTY
    assert mailing.run(run_id).recipients == 0
    assert mailing.outbox() == []


def test_skipping_empty_reports_is_decided_per_reader(mailing: Mailing) -> None:
    schedule = mailing.schedule(
        recipients=["bob", "boss"], params={"register": "ZAR"}, skip_if_empty=True
    )

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert list(mailing.mails()) == ["boss@firma.pl"]
    assert mailing.run(run_id).recipients == 1


def test_an_empty_report_is_sent_when_the_schedule_does_not_skip_it(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob"], params={"register": "ZAR"})

    _, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert list(mailing.mails()) == ["bob@firma.pl"]


def test_a_failing_report_is_retried_then_failed_and_the_owner_told(mailing: Mailing) -> None:
    """boss's view is private: bob may not use it, so bob's copy cannot be rendered."""
    with mailing.uow() as uow:
        saved_views.create_view(uow, name="Pilne", definition={}, owner="boss")
    schedule = mailing.schedule(
        name="Pilne co tydzień",
        report=ReportKind.VIEW,
        params={"view": "Pilne"},
        recipients=["bob"],
    )
    attempts = mailing.settings.reports.max_attempts

    statuses = []
    with freeze_time(dt.datetime.now(dt.UTC)) as clock:
        run_id = mailing.queue(schedule)
        for _ in range(attempts):
            (job,) = mailing.claim()
            statuses.append(deliver_run(mailing.database, mailing.settings, job, instance="one"))
            assert mailing.claim() == []  # a retry waits a while
            clock.tick(dt.timedelta(hours=1))

    assert statuses == [ReportRunStatus.QUEUED] * (attempts - 1) + [ReportRunStatus.FAILED]
    run = mailing.run(run_id)
    assert run.status is ReportRunStatus.FAILED
    assert run.attempts == attempts
    assert run.error is not None
    assert "Pilne" in run.error
    assert mailing.claim() == []
    assert mailing.mails() == {}
    (note,) = mailing.outbox("report-failed")
    assert note.recipient == "boss@firma.pl"
    parsed = parse(note.raw)
    assert parsed["Subject"] == "[Hermes] Raport „Pilne co tydzień” nie został wysłany"
    assert f"Błąd: {run.error}" in parsed.get_content()

    with mailing.uow() as uow:  # the owner shares the view; the next run goes out
        saved_views.update_view(uow, "Pilne", audience=ViewAudience.EVERYONE)
    _, status = mailing.send(schedule)
    assert status is ReportRunStatus.SENT
    assert list(mailing.mails()) == ["bob@firma.pl"]


def test_stored_parameters_are_checked_again_before_rendering(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob"], params={"colour": "red"})

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.QUEUED  # to be tried again, then failed
    assert (mailing.run(run_id).error or "").startswith("params.colour")
    assert mailing.outbox() == []


def test_a_run_taken_over_after_a_lost_lease_is_queued_once(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob", "boss"])
    start = dt.datetime.now(dt.UTC)
    with freeze_time(start):
        run_id = mailing.queue(schedule)
        (slow,) = mailing.claim("slow", lease_seconds=60)
    with freeze_time(start + dt.timedelta(minutes=2)):
        (fast,) = mailing.claim("fast", lease_seconds=60)
        assert fast.run_id == slow.run_id == run_id

        lost = deliver_run(mailing.database, mailing.settings, slow, instance="slow")
        assert lost is ReportRunStatus.RENDERING
        assert mailing.outbox() == []

        done = deliver_run(mailing.database, mailing.settings, fast, instance="fast")
        again = deliver_run(mailing.database, mailing.settings, slow, instance="slow")

    assert (done, again) == (ReportRunStatus.SENT, ReportRunStatus.RENDERING)
    rows = mailing.outbox()
    assert sorted(row.recipient for row in rows) == ["bob@firma.pl", "boss@firma.pl"]
    assert {row.message_id for row in rows} == {
        mail.message_id(mailing.settings, run_id, a) for a in ("bob@firma.pl", "boss@firma.pl")
    }
    assert mailing.run(run_id).claimed_by == "fast"
