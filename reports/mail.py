"""One recipient's report mail, and the owner's note when a report cannot be sent.

Built with the stdlib (``reports`` does not use the mail gateway): ``multipart/mixed`` holding
``multipart/alternative`` (plain text, and HTML in ``multipart/related`` with the chart as a
``cid:`` PNG) and the attachments. The Message-ID is derived from the run and the address, so
rendering a run again can never queue a second copy (the outbox keeps Message-IDs unique).
Robot headers (``Auto-Submitted``, ``Precedence: bulk``, ``X-Auto-Response-Suppress``) keep
out-of-office replies away; ``List-Id`` and RFC 8058 ``List-Unsubscribe`` let mail clients
offer filtering and one-click unsubscribe. The schedule's owner gets no unsubscribe link:
their mail says to disable the schedule or drop themselves from its recipients instead, so an
owner never silently stops seeing what their schedule sends to others.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from hermes_groupware.config import Settings
from hermes_groupware.models.enums import Locale, ReportFormat
from hermes_groupware.services.report_schedules import Recipient, RunJob
from reports import formats
from reports.formatting import format_value
from reports.model import ReportResult, tr

_WEEKDAYS = {
    Locale.PL: ("pon", "wt", "śr", "czw", "pt", "sob", "niedz"),
    Locale.EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MB = 1024 * 1024
#: characters that would end or confuse the display name of ``List-Id``
_NOT_IN_PHRASE = str.maketrans("", "", '<>"\\')


@dataclass(frozen=True)
class _Footnote:
    """A line under the report: plain text, optionally ending in a link."""

    text: str
    url: str | None = None


def _sender(settings: Settings) -> str:
    """The From of every report mail: the address notifications come from."""
    return f"Hermes <{settings.mail.reply_local}@{settings.mail.domain}>"


def message_id(settings: Settings, run_id: int, address: str) -> str:
    """The run's Message-ID for one address (without angle brackets); the address is hashed
    so that it does not show in the header."""
    digest = hashlib.sha256(f"{run_id}:{address.lower()}".encode()).hexdigest()[:16]
    return f"report.{run_id}.{digest}@{settings.mail.domain}"


def report_mail(
    settings: Settings,
    job: RunJob,
    recipient: Recipient,
    result: ReportResult,
    *,
    now: dt.datetime,
    unsubscribe_url: str | None,
) -> bytes:
    """The whole message for one recipient; without ``unsubscribe_url`` (the schedule's owner)
    the mail says how to stop the schedule instead of offering a link."""
    attached, notes = _attachments(settings, job, result, recipient.locale)
    notes.append(_stop_note(recipient.locale, job.schedule_name, unsubscribe_url))
    chart_cid = f"chart.{job.run_id}@{settings.mail.domain}"
    body = formats.mail_body(
        result,
        body_rows=settings.reports.body_rows,
        chart_cid=chart_cid,
        in_attachment=bool(attached),
    )
    message = _headed(settings, recipient.address, _subject(job, result, recipient), now)
    message["Message-ID"] = f"<{message_id(settings, job.run_id, recipient.address)}>"
    list_name = _one_line(job.schedule_name).translate(_NOT_IN_PHRASE)
    message["List-Id"] = f"{list_name} <schedule-{job.schedule_id}.reports.{settings.mail.domain}>"
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body.text.rstrip("\n") + "\n\n" + _text_notes(notes))
    message.add_alternative(_with_html_notes(body.html, notes), subtype="html")
    if body.chart_png is not None:
        html_part = message.get_body(("html",))
        assert html_part is not None  # added just above
        html_part.add_related(body.chart_png, "image", "png", cid=f"<{chart_cid}>")
    for attachment in attached:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype, subtype, filename=attachment.filename)
    return message.as_bytes()


def _attachments(
    settings: Settings, job: RunJob, result: ReportResult, locale: Locale
) -> tuple[list[formats.Attachment], list[_Footnote]]:
    """The files of the schedule's formats that fit the size limit, and a note per left-out one."""
    limit = settings.reports.max_attachment_bytes
    attached, notes = [], []
    for fmt in job.formats:
        if fmt is ReportFormat.HTML:  # the body itself
            continue
        attachment = formats.export(result, fmt)
        if len(attachment.data) <= limit:
            attached.append(attachment)
        else:
            notes.append(_left_out(locale, attachment.filename, len(attachment.data), limit))
    return attached, notes


def failure_mail(
    settings: Settings,
    job: RunJob,
    *,
    to: str,
    locale: Locale,
    zone: ZoneInfo,
    error: str,
    now: dt.datetime,
) -> tuple[str, bytes]:
    """The owner's short note that a run failed for good: its Message-ID and bytes."""
    when = job.occurrence_at.astimezone(zone)
    name = _one_line(job.schedule_name)
    subject = tr(
        locale,
        f"[Hermes] Raport „{name}” nie został wysłany",
        f"[Hermes] The report “{name}” was not sent",
    )
    message = _headed(settings, to, subject, now)
    identifier = f"report.{job.run_id}.failed@{settings.mail.domain}"
    message["Message-ID"] = f"<{identifier}>"
    text = tr(
        locale,
        f"Raportu z harmonogramu „{name}” zaplanowanego na {when:%Y-%m-%d %H:%M} nie udało się "
        f"przygotować (próby: {job.attempt}).\n\nBłąd: {error}\n\nNastępne uruchomienia "
        "harmonogramu odbędą się normalnie. Szczegóły: hermes-groupware schedule show "
        f"{job.schedule_id}\n",
        f"The report of the schedule “{name}” due at {when:%Y-%m-%d %H:%M} could not be "
        f"prepared (attempts: {job.attempt}).\n\nError: {error}\n\nThe schedule's next runs "
        f"are not affected. Details: hermes-groupware schedule show {job.schedule_id}\n",
    )
    message.set_content(text)
    return identifier, message.as_bytes()


def _headed(settings: Settings, to: str, subject: str, now: dt.datetime) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _sender(settings)
    message["To"] = to
    message["Subject"] = _one_line(subject)
    message["Date"] = email.utils.format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"
    message["Precedence"] = "bulk"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def _one_line(value: str) -> str:
    """Header values from data must not carry line breaks (header injection)."""
    return " ".join(value.split())


def _subject(job: RunJob, result: ReportResult, recipient: Recipient) -> str:
    subject = f"[Hermes] {result.title} — {result.period}"
    if not job.late:
        return subject
    locale = recipient.locale
    due = job.occurrence_at.astimezone(ZoneInfo(recipient.time_zone))
    when = f"{_WEEKDAYS[locale][due.weekday()]} {due:%H:%M}"
    return subject + tr(
        locale, f" (opóźniony, zaplanowany {when})", f" (delayed, scheduled {when})"
    )


def _left_out(locale: Locale, filename: str, size: int, limit: int) -> _Footnote:
    big, most = _size(size, locale), _size(limit, locale)
    return _Footnote(
        tr(
            locale,
            f"Załącznik {filename} ({big}) pominięto: przekracza limit {most}.",
            f"The attachment {filename} ({big}) was left out: it is over the {most} limit.",
        )
    )


def _size(size: int, locale: Locale) -> str:
    """``12,5 MB`` / ``12.5 MB`` (``kB`` below a megabyte), as the reader writes numbers."""
    unit, scale = ("MB", _MB) if size >= _MB else ("kB", 1024)
    zone = ZoneInfo("UTC")  # format_value wants a zone for dates; a size has none
    return f"{format_value(Decimal(size) / scale, 'decimal', locale, zone)} {unit}"


def _stop_note(locale: Locale, schedule: str, unsubscribe_url: str | None) -> _Footnote:
    if unsubscribe_url is None:
        return _Footnote(
            tr(
                locale,
                f"Jesteś właścicielem harmonogramu „{schedule}”: aby przestać dostawać ten "
                "raport, wyłącz harmonogram albo usuń siebie z odbiorców.",
                f"You own the schedule “{schedule}”: to stop this report, disable the "
                "schedule or remove yourself from its recipients.",
            )
        )
    return _Footnote(
        tr(
            locale,
            f"Raport z harmonogramu „{schedule}”. Aby go więcej nie dostawać, wypisz się:",
            f"A report of the schedule “{schedule}”. To stop receiving it, unsubscribe:",
        ),
        unsubscribe_url,
    )


def _text_notes(notes: Sequence[_Footnote]) -> str:
    lines = [f"{n.text} {n.url}" if n.url else n.text for n in notes]
    return "-- \n" + "\n".join(lines) + "\n"


def _with_html_notes(document: str, notes: Sequence[_Footnote]) -> str:
    """The notes as a small footer just before ``</body>`` (or at the end of a fragment)."""
    paragraphs = "".join(
        f'<p style="color:#666;font-size:12px">{html.escape(n.text)}'
        + (f' <a href="{html.escape(n.url)}">{html.escape(n.url)}</a>' if n.url else "")
        + "</p>"
        for n in notes
    )
    footer = f'<hr style="border:0;border-top:1px solid #ddd">{paragraphs}'
    end = document.lower().rfind("</body>")
    return document + footer if end < 0 else document[:end] + footer + document[end:]
