"""A report mail parsed back as a mail client reads it: structure, headers, words, attachments."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from hermes_groupware.config import Settings
from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind
from hermes_groupware.services.report_schedules import Recipient, RunJob
from reports import mail
from reports.model import Chart, Column, Figure, ReportResult, Row, Table
from tests.reports.mailing import (
    DOMAIN,
    files_of,
    html_of,
    parse,
    settings_for,
    text_of,
    xlsx_cells,
)

NOW = dt.datetime(2026, 11, 30, 7, 1, tzinfo=dt.UTC)
UNSUBSCRIBE = "https://hermes.firma.pl/reports/unsubscribe?t=abc.def"
ANNA = Recipient("anna@firma.pl", 7, Locale.PL, "Europe/Warsaw")
JOHN = Recipient("john@partner.co.uk", None, Locale.EN, "Europe/London")


def _settings(tmp_path: Path, max_attachment_bytes: int = 10 << 20) -> Settings:
    base = settings_for("sqlite://", tmp_path)
    limits = dataclasses.replace(base.reports, max_attachment_bytes=max_attachment_bytes)
    return dataclasses.replace(base, reports=limits)


def _job(**changes: Any) -> RunJob:
    job = RunJob(
        run_id=41,
        schedule_id=5,
        schedule_name="Poniedziałek: zaległe",
        report=ReportKind.OVERDUE,
        params={},
        formats=(ReportFormat.HTML, ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF),
        skip_if_empty=False,
        owner_id=7,
        owner_address="anna@firma.pl",
        occurrence_at=dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC),  # Monday 08:00 in Warsaw
        occurrence_local="2026-11-30T08:00",
        time_zone="Europe/Warsaw",
        locale=Locale.PL,
        late=False,
        attempt=1,
        recipients=(ANNA, JOHN),
    )
    return dataclasses.replace(job, **changes)


def _result(*, rows: int = 3, chart: bool = True) -> ReportResult:
    columns = (
        Column("number", "Numer"),
        Column("subject", "Temat"),
        Column("due", "Termin", "date"),
        Column("value", "Wartość", "money"),
    )
    data = [
        Row(
            {
                "number": f"HAN/2026/{n:04d}",
                "subject": f"Zażółć gęślą jaźń {n}",
                "due": dt.date(2026, 11, 20 + n % 10),
                "value": Decimal("1234.50") + n,
            },
            overdue=n % 2 == 0,
        )
        for n in range(rows)
    ]
    return ReportResult(
        kind=ReportKind.OVERDUE,
        locale=Locale.PL,
        title="Zaległe i na ten tydzień",
        period="Tydzień 2026-11-30 – 2026-12-06",
        generated_at=NOW,
        time_zone="Europe/Warsaw",
        figures=[Figure("Zaległe", rows // 2 + rows % 2)],
        tables=[Table("Zadania", columns, data)],
        chart=Chart("Zaległe wg pracownika", ["Anna", "Jan"], {"Zaległe": [2, 1]})
        if chart
        else None,
    )


def _compose(
    tmp_path: Path,
    *,
    job: RunJob | None = None,
    recipient: Recipient = ANNA,
    result: ReportResult | None = None,
    unsubscribe_url: str | None = UNSUBSCRIBE,
    max_attachment_bytes: int = 10 << 20,
) -> EmailMessage:
    raw = mail.report_mail(
        _settings(tmp_path, max_attachment_bytes),
        job or _job(),
        recipient,
        result or _result(),
        now=NOW,
        unsubscribe_url=unsubscribe_url,
    )
    return parse(raw)


def _structure(part: MIMEPart) -> object:
    if part.is_multipart():
        return (part.get_content_type(), [_structure(p) for p in part.iter_parts()])
    return part.get_content_type()


def test_structure_is_mixed_alternative_related_with_the_chart_and_three_files(
    tmp_path: Path,
) -> None:
    message = _compose(tmp_path)

    assert _structure(message) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"])],
            ),
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/pdf",
        ],
    )
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    cid = image["Content-ID"].strip("<>")
    assert cid == f"chart.41@{DOMAIN}"
    assert f'src="cid:{cid}"' in html_of(message)
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert "Zażółć gęślą jaźń 1" in text_of(message)
    assert "Zażółć gęślą jaźń 1" in html_of(message)


def test_attachments_open_in_their_programs(tmp_path: Path) -> None:
    files = files_of(_compose(tmp_path))

    assert sorted(files) == [
        "zalegle-i-na-ten-tydzien-2026-11-30.csv",
        "zalegle-i-na-ten-tydzien-2026-11-30.pdf",
        "zalegle-i-na-ten-tydzien-2026-11-30.xlsx",
    ]
    data = {name.rsplit(".", 1)[1]: content for name, content in files.items()}
    assert data["csv"].startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data["csv"].decode("utf-8-sig")), delimiter=";"))
    assert any("Zażółć gęślą jaźń 2" in row for row in rows)
    assert "HAN/2026/0002" in xlsx_cells(data["xlsx"])
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data["pdf"])).pages)
    assert "HAN/2026/0002" in pdf_text
    assert "jaźń" in pdf_text


def test_headers_identify_an_automatic_mailing_with_one_click_unsubscribe(
    tmp_path: Path,
) -> None:
    message = _compose(tmp_path)

    assert message["From"] == f"Hermes <hermes@{DOMAIN}>"
    assert message["To"] == "anna@firma.pl"
    assert (
        message["Subject"] == "[Hermes] Zaległe i na ten tydzień — Tydzień 2026-11-30 – 2026-12-06"
    )
    assert message["Date"] == "Mon, 30 Nov 2026 07:01:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Precedence"] == "bulk"
    assert message["List-Id"] == f"Poniedziałek: zaległe <schedule-5.reports.{DOMAIN}>"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert UNSUBSCRIBE in text_of(message)
    assert f'href="{UNSUBSCRIBE}"' in html_of(message)


def test_message_id_is_fixed_by_run_and_address(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = _compose(tmp_path)["Message-ID"]
    again = _compose(tmp_path, result=_result(rows=5))["Message-ID"]
    other_address = _compose(tmp_path, recipient=JOHN)["Message-ID"]
    other_run = _compose(tmp_path, job=_job(run_id=42))["Message-ID"]

    assert first == again == f"<{mail.message_id(settings, 41, 'Anna@Firma.pl')}>"
    assert len({first, other_address, other_run}) == 3
    local, _, domain = first.strip("<>").partition("@")
    assert domain == DOMAIN
    prefix, run, digest = local.split(".")
    assert (prefix, run, len(digest)) == ("report", "41", 16)
    assert "anna" not in first


@pytest.mark.parametrize(
    ("recipient", "suffix"),
    [
        (ANNA, " (opóźniony, zaplanowany pon 08:00)"),
        (JOHN, " (delayed, scheduled Mon 07:00)"),  # London is an hour behind Warsaw
    ],
)
def test_a_late_run_says_when_it_was_due_in_the_readers_language_and_zone(
    tmp_path: Path, recipient: Recipient, suffix: str
) -> None:
    on_time = _compose(tmp_path, recipient=recipient)["Subject"]
    late = _compose(tmp_path, recipient=recipient, job=_job(late=True))["Subject"]

    assert late == on_time + suffix


def test_the_owner_gets_no_unsubscribe_link_but_is_told_how_to_stop(tmp_path: Path) -> None:
    message = _compose(tmp_path, unsubscribe_url=None)

    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    text = text_of(message)
    assert "Jesteś właścicielem harmonogramu „Poniedziałek: zaległe”" in text
    assert "/reports/unsubscribe" not in text + html_of(message)
    assert "wypisz się" not in text


def test_an_attachment_over_the_limit_is_left_out_and_the_body_says_so(tmp_path: Path) -> None:
    message = _compose(
        tmp_path, job=_job(formats=(ReportFormat.HTML, ReportFormat.PDF)), max_attachment_bytes=1024
    )

    assert files_of(message) == {}
    note = "Załącznik zalegle-i-na-ten-tydzien-2026-11-30.pdf ("
    assert note in text_of(message)
    assert "kB) pominięto: przekracza limit 1,0 kB." in text_of(message)
    assert note in html_of(message)


def test_a_schedule_name_cannot_inject_html_or_a_list_id(tmp_path: Path) -> None:
    job = _job(schedule_name="<script>alert(1)</script>")
    message = _compose(tmp_path, job=job)

    assert "<script>" not in html_of(message)
    assert "&lt;script&gt;" in html_of(message)
    assert message["List-Id"] == f"scriptalert(1)/script <schedule-5.reports.{DOMAIN}>"


def test_without_a_chart_or_files_the_mail_is_text_and_html(tmp_path: Path) -> None:
    message = _compose(
        tmp_path, job=_job(formats=(ReportFormat.HTML,)), result=_result(chart=False)
    )

    assert _structure(message) == ("multipart/alternative", ["text/plain", "text/html"])


@pytest.mark.parametrize(
    ("locale", "subject", "words"),
    [
        (
            Locale.PL,
            "[Hermes] Raport „Poniedziałek: zaległe” nie został wysłany",
            ["zaplanowanego na 2026-11-30 08:00", "(próby: 3)", "Błąd: boom"],
        ),
        (
            Locale.EN,
            "[Hermes] The report “Poniedziałek: zaległe” was not sent",
            ["due at 2026-11-30 08:00", "(attempts: 3)", "Error: boom"],
        ),
    ],
)
def test_the_failure_note_names_the_schedule_and_the_error(
    tmp_path: Path, locale: Locale, subject: str, words: list[str]
) -> None:
    identifier, raw = mail.failure_mail(
        _settings(tmp_path),
        _job(attempt=3),
        to="anna@firma.pl",
        locale=locale,
        zone=ZoneInfo("Europe/Warsaw"),
        error="boom",
        now=NOW,
    )
    message = parse(raw)

    assert message["Subject"] == subject
    assert message["Message-ID"] == f"<{identifier}>" == f"<report.41.failed@{DOMAIN}>"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert all(w in body for w in words), body
