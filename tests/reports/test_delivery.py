"""A run from claim to outbox: each reader's own rights, empty reports, failures, lost leases;
several reports of one schedule in one mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import String

from hermes_groupware.models import OutboundMessage
from hermes_groupware.models.enums import ReportKind, ReportRunStatus, ViewAudience
from hermes_groupware.services import saved_views
from reports import mail
from reports.delivery import KIND_LENGTH, deliver_run, outbox_kind
from tests.conftest import DatabaseFactory
from tests.reports.mailing import (
    OPEN_TASK,
    SECRET_TASK,
    Mailing,
    files_of,
    html_of,
    images_of,
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
    schedule = mailing.schedule(
        recipients=["bob"], params={"overdue": {"register": "ZAR"}}, skip_if_empty=True
    )

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.EMPTY
    assert mailing.run(run_id).status is ReportRunStatus.EMPTY
    assert mailing.run(run_id).recipients == 0
    assert mailing.outbox() == []


def test_skipping_empty_reports_is_decided_per_reader(mailing: Mailing) -> None:
    schedule = mailing.schedule(
        recipients=["bob", "boss"], params={"overdue": {"register": "ZAR"}}, skip_if_empty=True
    )

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert list(mailing.mails()) == ["boss@firma.pl"]
    assert mailing.run(run_id).recipients == 1


def test_an_empty_report_is_sent_when_the_schedule_does_not_skip_it(mailing: Mailing) -> None:
    schedule = mailing.schedule(recipients=["bob"], params={"overdue": {"register": "ZAR"}})

    _, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert list(mailing.mails()) == ["bob@firma.pl"]


def test_a_failing_report_is_retried_then_failed_and_the_owner_told(mailing: Mailing) -> None:
    """boss's view is private: bob may not use it, so bob's copy cannot be rendered."""
    with mailing.uow() as uow:
        saved_views.create_view(uow, name="Pilne", definition={}, owner="boss")
    schedule = mailing.schedule(
        name="Pilne co tydzień",
        reports=[ReportKind.VIEW],
        params={"view": {"view": "Pilne"}},
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
    schedule = mailing.schedule(recipients=["bob"], params={"overdue": {"colour": "red"}})

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.QUEUED  # to be tried again, then failed
    assert (mailing.run(run_id).error or "").startswith("params.overdue.colour")
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


# --- several reports in one schedule ------------------------------------------------------------

BOTH = [ReportKind.OVERDUE, ReportKind.PIPELINE]
OPEN_DEAL, SECRET_DEAL = "Dostawa regałów", "Przejęcie konkurenta"


def _sections(message: EmailMessage) -> dict[str, list[str]]:
    """Per body (html, text) the part of each report, in the mail's order."""
    return {
        "html": html_of(message).split('<h1 id="report-')[1:],
        "text": text_of(message).split("=" * 60)[1:],
    }


def _title(section: str) -> str:
    """A section's heading: its ``h1`` in HTML, its first line in text."""
    if "</h1>" in section:
        return section.split("</h1>", maxsplit=1)[0].rsplit(">", 1)[1]
    return section.strip().splitlines()[0]


def _workbooks(message: EmailMessage) -> list[list[object]]:
    """Every attachment's cells (all are xlsx here), in the mail's order."""
    return [xlsx_cells(data) for data in files_of(message).values()]


def test_two_reports_go_to_each_recipient_in_one_mail_in_the_schedules_order(
    mailing: Mailing,
) -> None:
    mailing.opportunity("HAN", OPEN_DEAL, "1000")
    mailing.opportunity("ZAR", SECRET_DEAL, "90000")
    schedule = mailing.schedule(reports=BOTH, recipients=["bob", "boss"])

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert mailing.run(run_id).recipients == 2
    rows = mailing.outbox()
    assert sorted(row.recipient for row in rows) == ["bob@firma.pl", "boss@firma.pl"]
    assert {row.kind for row in rows} == {"report:overdue+pipeline"}
    bob, boss = mailing.mails()["bob@firma.pl"], mailing.mails()["boss@firma.pl"]
    assert bob["Subject"].startswith(
        "[Hermes] Overdue and due this week, Sales pipeline forecast — "
    )
    assert boss["Subject"].startswith(
        "[Hermes] Zaległe i z terminem w tym tygodniu, Prognoza sprzedaży — "
    )
    for body, (overdue, pipeline) in _sections(bob).items():
        assert _title(overdue) == "Overdue and due this week", body
        assert OPEN_TASK in overdue and "Sales pipeline forecast" not in overdue, body
        assert _title(pipeline) == "Sales pipeline forecast", body
        assert "1,000.00" in pipeline and OPEN_TASK not in pipeline, body
    images = images_of(bob)
    assert len(images) == 2
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    html = _sections(bob)["html"]
    for cid, section in zip(images, html, strict=True):  # each chart in its own report
        assert html_of(bob).count(f'src="cid:{cid}"') == 1
        assert f'src="cid:{cid}"' in section
    assert [name.rsplit("-", 3)[0] for name in files_of(bob)] == [
        "overdue-and-due-this-week",
        "sales-pipeline-forecast",
    ]
    overdue_cells, pipeline_cells = _workbooks(bob)
    assert OPEN_TASK in overdue_cells and SECRET_TASK not in overdue_cells
    assert 1000 in pipeline_cells and 91000 not in pipeline_cells
    assert [name.rsplit("-", 3)[0] for name in files_of(boss)] == [
        "zalegle-i-z-terminem-w-tym-tygodniu",
        "prognoza-sprzedazy",
    ]


def test_every_report_of_the_mail_is_built_with_the_readers_own_rights(mailing: Mailing) -> None:
    mailing.opportunity("HAN", OPEN_DEAL, "1000")
    mailing.opportunity("ZAR", SECRET_DEAL, "90000")
    with mailing.uow() as uow:
        saved_views.create_view(
            uow, name="Wszystko", definition={}, owner="boss", audience=ViewAudience.EVERYONE
        )
    schedule = mailing.schedule(
        reports=[*BOTH, ReportKind.VIEW],
        params={"view": {"view": "Wszystko"}},
        recipients=["bob", "boss", "jan@partner.pl"],
        formats=["html", "xlsx"],
    )

    mailing.send(schedule)

    mails = mailing.mails()
    amounts = {  # (what they may see, what the boss sees) as each reader writes numbers
        "bob@firma.pl": ("1,000.00", "91,000.00"),
        "jan@partner.pl": ("1\u00a0000,00", "91\u00a0000,00"),
    }
    for address, (mine, all_of_it) in amounts.items():
        message = mails[address]
        _, pipeline, view = _sections(message)["html"]
        assert mine in pipeline and all_of_it not in pipeline, address
        assert OPEN_DEAL in view and SECRET_DEAL not in view, address
        assert SECRET_TASK not in html_of(message) + text_of(message), address
        workbooks = _workbooks(message)
        assert len(workbooks) == 3, address
        assert not any(SECRET_TASK in cells or SECRET_DEAL in cells for cells in workbooks)
        assert 1000 in workbooks[1] and 90000 not in workbooks[1] and 91000 not in workbooks[1]
    boss = mails["boss@firma.pl"]
    overdue, pipeline, view = _sections(boss)["html"]
    assert SECRET_TASK in overdue and SECRET_DEAL in view
    assert "91\u00a0000,00" in pipeline
    overdue_cells, pipeline_cells, view_cells = _workbooks(boss)
    assert SECRET_TASK in overdue_cells and SECRET_DEAL in view_cells
    assert 91000 in pipeline_cells


def test_skipping_sends_when_one_report_has_rows_and_says_the_other_has_none(
    mailing: Mailing,
) -> None:
    """No opportunities: the pipeline is empty; bob's overdue report is not."""
    schedule = mailing.schedule(reports=BOTH, recipients=["bob"], skip_if_empty=True)

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.SENT
    assert mailing.run(run_id).recipients == 1
    bob = mailing.mails()["bob@firma.pl"]
    for body, (overdue, pipeline) in _sections(bob).items():
        assert OPEN_TASK in overdue and "No data" not in overdue, body
        assert "Sales pipeline forecast" in pipeline and "No data" in pipeline, body
    assert len(_workbooks(bob)) == 2  # the empty report's file is attached too


def test_skipping_sends_nothing_when_every_report_is_empty(mailing: Mailing) -> None:
    schedule = mailing.schedule(
        reports=BOTH,
        params={"overdue": {"register": "ZAR"}},
        recipients=["bob", "jan@partner.pl"],
        skip_if_empty=True,
    )

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.EMPTY
    assert mailing.run(run_id).status is ReportRunStatus.EMPTY
    assert mailing.run(run_id).recipients == 0
    assert mailing.outbox() == []


def test_bad_stored_parameters_of_one_report_name_that_report(mailing: Mailing) -> None:
    schedule = mailing.schedule(
        reports=BOTH, params={"pipeline": {"months": "99"}}, recipients=["bob"]
    )

    run_id, status = mailing.send(schedule)

    assert status is ReportRunStatus.QUEUED
    assert (mailing.run(run_id).error or "").startswith("params.pipeline.months: a whole number")
    assert mailing.outbox() == []


@pytest.mark.parametrize(
    ("reports", "kind"),
    [
        ([ReportKind.TURNOVER], "report:turnover"),
        (BOTH, "report:overdue+pipeline"),
        (list(ReportKind), "report:overdue+pipeline+activity+more"),
    ],
)
def test_the_outbox_kind_names_the_reports_and_fits_its_column(
    reports: list[ReportKind], kind: str
) -> None:
    column = OutboundMessage.__table__.c.kind.type
    assert isinstance(column, String)
    assert column.length == KIND_LENGTH

    assert outbox_kind(reports) == kind
    assert len(outbox_kind(reports)) <= KIND_LENGTH
