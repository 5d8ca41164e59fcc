"""A report mail parsed back as a mail client reads it: structure, headers, words, attachments,
for one report and for several in one mail."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
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
from reports import formats, mail
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


def _settings(
    tmp_path: Path, max_attachment_bytes: int = 10 << 20, body_rows: int = 50
) -> Settings:
    base = settings_for("sqlite://", tmp_path)
    limits = dataclasses.replace(
        base.reports, max_attachment_bytes=max_attachment_bytes, body_rows=body_rows
    )
    return dataclasses.replace(base, reports=limits)


def _job(**changes: Any) -> RunJob:
    job = RunJob(
        run_id=41,
        schedule_id=5,
        schedule_name="Poniedziałek: zaległe",
        reports=(ReportKind.OVERDUE,),
        params={"overdue": {}},
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


def _result(
    *,
    rows: int = 3,
    chart: bool = True,
    kind: ReportKind = ReportKind.OVERDUE,
    title: str = "Zaległe i na ten tydzień",
    prefix: str = "HAN",
) -> ReportResult:
    columns = (
        Column("number", "Numer"),
        Column("subject", "Temat"),
        Column("due", "Termin", "date"),
        Column("value", "Wartość", "money"),
    )
    data = [
        Row(
            {
                "number": f"{prefix}/2026/{n:04d}",
                "subject": f"Zażółć gęślą jaźń {n}",
                "due": dt.date(2026, 11, 20 + n % 10),
                "value": Decimal("1234.50") + n,
            },
            overdue=n % 2 == 0,
        )
        for n in range(rows)
    ]
    return ReportResult(
        kind=kind,
        locale=Locale.PL,
        title=title,
        period="Tydzień 2026-11-30 – 2026-12-06",
        generated_at=NOW,
        time_zone="Europe/Warsaw",
        figures=[Figure("Zaległe", rows // 2 + rows % 2)],
        tables=[Table("Zadania", columns, data)],
        chart=Chart(f"{title}: wykres", ["Anna", "Jan"], {"Zaległe": [2, 1 + len(title) % 7]})
        if chart
        else None,
    )


def _compose(
    tmp_path: Path,
    *,
    job: RunJob | None = None,
    recipient: Recipient = ANNA,
    result: ReportResult | None = None,
    results: list[ReportResult] | None = None,
    unsubscribe_url: str | None = UNSUBSCRIBE,
    max_attachment_bytes: int = 10 << 20,
    body_rows: int = 50,
) -> EmailMessage:
    raw = mail.report_mail(
        _settings(tmp_path, max_attachment_bytes, body_rows),
        job or _job(),
        recipient,
        results or [result or _result()],
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
    assert cid == mail.chart_cid(_settings(tmp_path), 41, 1) == f"chart.41.1@{DOMAIN}"
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


# --- several reports in one mail ----------------------------------------------------------------

FORECAST = "Prognoza sprzedaży"
TWO_REPORTS = (ReportKind.OVERDUE, ReportKind.PIPELINE)


def _two(**changes: Any) -> RunJob:
    return _job(reports=TWO_REPORTS, params={"overdue": {}, "pipeline": {}}, **changes)


def _overdue_and_forecast(rows: int = 3) -> list[ReportResult]:
    return [
        _result(rows=rows),
        _result(rows=rows + 1, kind=ReportKind.PIPELINE, title=FORECAST, prefix="SPR"),
    ]


def _images(message: EmailMessage) -> dict[str, bytes]:
    """The related PNGs by Content-ID."""
    images = {}
    for part in message.walk():
        if part.get_content_type() == "image/png":
            images[part["Content-ID"].strip("<>")] = part.get_content()
    return images


def test_two_reports_make_one_mail_with_both_charts_and_both_reports_files(
    tmp_path: Path,
) -> None:
    message = _compose(tmp_path, job=_two(), results=_overdue_and_forecast())

    files = [
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/pdf",
    ]
    assert _structure(message) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png", "image/png"])],
            ),
            *files,
            *files,
        ],
    )
    images = _images(message)
    settings = _settings(tmp_path)
    assert list(images) == [mail.chart_cid(settings, 41, 1), mail.chart_cid(settings, 41, 2)]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    assert len(set(images.values())) == 2  # each report's own chart
    html = html_of(message)
    assert re.findall(r'src="cid:([^"]+)"', html) == list(images)
    sections = html.split('id="report-2"')
    assert f"cid:{mail.chart_cid(settings, 41, 1)}" in sections[0]
    assert f"cid:{mail.chart_cid(settings, 41, 2)}" in sections[1]


def _sections(message: EmailMessage) -> dict[str, list[str]]:
    """Per body (html, text) the parts after the list of contents, one per report, in order."""
    return {
        "html": html_of(message).split('<h1 id="report-')[1:],
        "text": text_of(message).split("=" * 60)[1:],
    }


def test_both_reports_are_in_the_body_in_the_schedules_order(tmp_path: Path) -> None:
    message = _compose(tmp_path, job=_two(), results=_overdue_and_forecast())

    for body, (overdue, forecast) in _sections(message).items():
        assert "Zaległe i na ten tydzień" in overdue and FORECAST not in overdue, body
        assert "HAN/2026/0002" in overdue and "SPR/2026/" not in overdue, body
        assert FORECAST in forecast and "SPR/2026/0003" in forecast, body
        assert "HAN/2026/" not in forecast, body
    text = text_of(message)
    assert text.index("1. Zaległe i na ten tydzień") < text.index("2. Prognoza sprzedaży")

    reversed_order = _compose(tmp_path, job=_two(), results=_overdue_and_forecast()[::-1])
    for body, (first, _) in _sections(reversed_order).items():
        assert FORECAST in first, body  # the caller's order is the mail's order


def test_every_file_of_both_reports_is_attached_and_opens(tmp_path: Path) -> None:
    files = files_of(_compose(tmp_path, job=_two(), results=_overdue_and_forecast()))

    assert list(files) == [
        "zalegle-i-na-ten-tydzien-2026-11-30.csv",
        "zalegle-i-na-ten-tydzien-2026-11-30.xlsx",
        "zalegle-i-na-ten-tydzien-2026-11-30.pdf",
        "prognoza-sprzedazy-2026-11-30.csv",
        "prognoza-sprzedazy-2026-11-30.xlsx",
        "prognoza-sprzedazy-2026-11-30.pdf",
    ]
    overdue = xlsx_cells(files["zalegle-i-na-ten-tydzien-2026-11-30.xlsx"])
    forecast = xlsx_cells(files["prognoza-sprzedazy-2026-11-30.xlsx"])
    assert "HAN/2026/0002" in overdue and "SPR/2026/0002" not in overdue
    assert "SPR/2026/0003" in forecast and "HAN/2026/0002" not in forecast
    pdf = PdfReader(io.BytesIO(files["prognoza-sprzedazy-2026-11-30.pdf"]))
    assert "SPR/2026/0003" in "".join(page.extract_text() for page in pdf.pages)


@pytest.mark.parametrize(
    ("recipient", "subject"),
    [
        (ANNA, "[Hermes] Zaległe i na ten tydzień, Prognoza sprzedaży — 2026-11-30"),
        (JOHN, "[Hermes] Zaległe i na ten tydzień, Prognoza sprzedaży — 2026-11-30"),
    ],
)
def test_the_subject_names_every_report_and_the_local_date(
    tmp_path: Path, recipient: Recipient, subject: str
) -> None:
    on_time = _compose(tmp_path, job=_two(), recipient=recipient, results=_overdue_and_forecast())
    late = _compose(
        tmp_path, job=_two(late=True), recipient=recipient, results=_overdue_and_forecast()
    )

    assert on_time["Subject"] == subject
    assert late["Subject"].startswith(subject + " (")  # the late suffix, as for one report


def test_a_folded_subject_reads_back_without_extra_spaces(tmp_path: Path) -> None:
    """Python's own folder would end a line in a space before the encoded "—" here."""
    results = [
        _result(title="Overdue and due this week"),
        _result(kind=ReportKind.PIPELINE, title="Sales pipeline forecast", prefix="SPR"),
    ]
    raw = mail.report_mail(
        _settings(tmp_path), _two(), JOHN, results, now=NOW, unsubscribe_url=UNSUBSCRIBE
    )

    subject = "[Hermes] Overdue and due this week, Sales pipeline forecast — 2026-11-30"
    assert parse(raw)["Subject"] == subject
    head = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert all(len(line) <= 78 for line in head)
    late = mail.report_mail(
        _settings(tmp_path), _two(late=True), ANNA, results, now=NOW, unsubscribe_url=None
    )
    assert parse(late)["Subject"] == subject + " (opóźniony, zaplanowany pon 08:00)"


def test_the_subject_date_is_the_readers_local_date() -> None:
    results = _overdue_and_forecast()
    for result in results:
        result.generated_at = dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC)
    auckland = Recipient("kiri@partner.nz", None, Locale.EN, "Pacific/Auckland")

    in_warsaw = mail._subject(_two(), results, ANNA)
    in_auckland = mail._subject(_two(), results, auckland)

    assert in_warsaw.endswith(" — 2026-11-30")  # 00:30 on Monday in Warsaw
    assert in_auckland.endswith(" — 2026-11-30")  # 12:30 in Auckland
    assert mail._subject(_two(), results, JOHN).endswith(" — 2026-11-29")  # 23:30 in London


@pytest.mark.parametrize(
    ("recipient", "more"), [(ANNA, " i jeszcze 2 — "), (JOHN, " and 2 more — ")]
)
def test_a_long_list_of_reports_is_cut_in_the_subject(
    tmp_path: Path, recipient: Recipient, more: str
) -> None:
    kinds = list(ReportKind)[:5]
    results = [_result(kind=kind, title=f"Raport {kind.value}") for kind in kinds]

    message = _compose(
        tmp_path, job=_job(reports=tuple(kinds)), recipient=recipient, results=results
    )

    assert message["Subject"].startswith(
        "[Hermes] Raport overdue, Raport pipeline, Raport activity" + more
    )
    assert len(files_of(message)) == 5 * 3  # the subject is cut, the mail is not


def test_the_cut_line_promises_no_attachment_for_a_report_whose_files_were_left_out(
    tmp_path: Path,
) -> None:
    small = _result(rows=2, kind=ReportKind.PIPELINE, title=FORECAST, prefix="SPR")
    big = _result(rows=400)
    sizes = {r.title: len(formats.export(r, ReportFormat.CSV).data) for r in (small, big)}
    assert sizes[FORECAST] < sizes["Zaległe i na ten tydzień"]

    message = _compose(
        tmp_path,
        job=_two(formats=(ReportFormat.HTML, ReportFormat.CSV)),
        results=[big, small],
        max_attachment_bytes=sizes[FORECAST],
        body_rows=1,
    )

    assert list(files_of(message)) == ["prognoza-sprzedazy-2026-11-30.csv"]
    assert "Załącznik zalegle-i-na-ten-tydzien-2026-11-30.csv (" in text_of(message)
    for body, (overdue, forecast) in _sections(message).items():
        assert "… i jeszcze 399 wierszy" in overdue, body
        assert "w załączniku" not in overdue, body
        assert "… i jeszcze 1 wiersz w załączniku" in forecast, body


def test_the_unsubscribe_and_owner_notes_speak_of_reports(tmp_path: Path) -> None:
    results = _overdue_and_forecast()
    reader = text_of(_compose(tmp_path, job=_two(), results=results))
    owner = text_of(_compose(tmp_path, job=_two(), results=results, unsubscribe_url=None))
    english = text_of(_compose(tmp_path, job=_two(), recipient=JOHN, results=results))

    assert "Raporty z harmonogramu „Poniedziałek: zaległe”. Aby ich więcej nie dostawać" in reader
    assert "aby przestać dostawać te raporty" in owner
    assert "To stop receiving them, unsubscribe:" in english
