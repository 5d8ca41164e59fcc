"""One recipient's report mail, and the owner's note when a report cannot be sent.

A schedule's reports travel together: one mail per recipient and run, a section per report in
the schedule's order. Built with the stdlib (``reports`` does not use the mail gateway):
``multipart/mixed`` holding ``multipart/alternative`` (plain text, and HTML in
``multipart/related`` with each report's chart as a ``cid:`` PNG of its own) and the
attachments, per report and format. The Message-ID is derived from the run and the address, so
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
from email.header import Header
from email.message import EmailMessage
from email.policy import Policy
from zoneinfo import ZoneInfo

from hermes_groupware.config import Settings
from hermes_groupware.models.enums import Locale, ReportFormat
from hermes_groupware.services.report_schedules import Recipient, RunJob
from reports import formats
from reports.formatting import format_value, local_datetime
from reports.model import ReportResult, tr

_WEEKDAYS = {
    Locale.PL: ("pon", "wt", "śr", "czw", "pt", "sob", "niedz"),
    Locale.EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MB = 1024 * 1024
#: a subject names at most this many reports, then says how many more the mail has
_TITLES_IN_SUBJECT = 3
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
    results: Sequence[ReportResult],
    *,
    now: dt.datetime,
    unsubscribe_url: str | None,
) -> bytes:
    """The whole message for one recipient with ``results`` (the schedule's reports as this
    recipient may see them, in the schedule's order); without ``unsubscribe_url`` (the
    schedule's owner) the mail says how to stop the schedule instead of offering a link."""
    if not results:
        raise ValueError("a report mail needs at least one report")
    attached, notes, in_attachment = _attachments(settings, job, results, recipient.locale)
    notes.append(_stop_note(recipient.locale, job.schedule_name, unsubscribe_url, len(results)))
    chart_cids = [chart_cid(settings, job.run_id, n) for n in range(1, len(results) + 1)]
    body = formats.mail_body(
        results,
        body_rows=settings.reports.body_rows,
        chart_cids=chart_cids,
        in_attachment=in_attachment,
    )
    message = _headed(settings, recipient.address, _subject(job, results, recipient), now)
    message["Message-ID"] = f"<{message_id(settings, job.run_id, recipient.address)}>"
    list_name = _one_line(job.schedule_name).translate(_NOT_IN_PHRASE)
    message["List-Id"] = f"{list_name} <schedule-{job.schedule_id}.reports.{settings.mail.domain}>"
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body.text.rstrip("\n") + "\n\n" + _text_notes(notes))
    message.add_alternative(_with_html_notes(body.html, notes), subtype="html")
    html_part = message.get_body(("html",))
    assert html_part is not None  # added just above
    for cid, png in zip(chart_cids, body.charts, strict=True):
        if png is not None:
            html_part.add_related(png, "image", "png", cid=f"<{cid}>")
    for attachment in attached:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype, subtype, filename=attachment.filename)
    return message.as_bytes()


def chart_cid(settings: Settings, run_id: int, position: int) -> str:
    """The Content-ID (without angle brackets) of the chart of the ``position``-th report
    (from 1) of a run's mail: unique within the mail, and across runs."""
    return f"chart.{run_id}.{position}@{settings.mail.domain}"


def _attachments(
    settings: Settings, job: RunJob, results: Sequence[ReportResult], locale: Locale
) -> tuple[list[formats.Attachment], list[_Footnote], list[bool]]:
    """The files of the schedule's formats, report by report, that fit the size limit; a note
    per left-out one; and per report whether any of its files is attached (the body's "more
    rows in the attachment" must not promise a file that was left out)."""
    limit = settings.reports.max_attachment_bytes
    attached, notes, in_attachment = [], [], []
    for result in results:
        some = False
        for fmt in job.formats:
            if fmt is ReportFormat.HTML:  # the body itself
                continue
            attachment = formats.export(result, fmt)
            if len(attachment.data) <= limit:
                attached.append(attachment)
                some = True
            else:
                notes.append(_left_out(locale, attachment.filename, len(attachment.data), limit))
        in_attachment.append(some)
    return attached, notes, in_attachment


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


class _Subject(str):
    """A Subject folded by :class:`email.header.Header` (the header-object protocol of
    ``email.policy``). Python 3.11's own folder can leave a space at the end of a line that is
    followed by an encoded word, or break right after ``Subject:``; mail clients then show a
    double or a leading space ("… and 2 more  — 2026-11-30")."""

    name = "Subject"

    def fold(self, *, policy: Policy) -> str:
        """The header line(s), folded at spaces within the policy's line length."""
        header = Header(str(self), "us-ascii" if self.isascii() else "utf-8", header_name="Subject")
        width = policy.max_line_length or 78
        value = header.encode(splitchars=" ", maxlinelen=width, linesep=policy.linesep)
        return f"Subject: {value}{policy.linesep}"


def _headed(settings: Settings, to: str, subject: str, now: dt.datetime) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _sender(settings)
    message["To"] = to
    message["Subject"] = _Subject(_one_line(subject))
    message["Date"] = email.utils.format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"
    message["Precedence"] = "bulk"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def _one_line(value: str) -> str:
    """Header values from data must not carry line breaks (header injection)."""
    return " ".join(value.split())


def _subject(job: RunJob, results: Sequence[ReportResult], recipient: Recipient) -> str:
    """One report: its title and period. Several: their titles (the first few, then how many
    more) and the local date they were made on, as each has its own period."""
    locale = recipient.locale
    if len(results) == 1:
        subject = f"[Hermes] {results[0].title} — {results[0].period}"
    else:
        titles = ", ".join(result.title for result in results[:_TITLES_IN_SUBJECT])
        rest = len(results) - _TITLES_IN_SUBJECT
        if rest > 0:
            titles += tr(locale, f" i jeszcze {rest}", f" and {rest} more")
        made = local_datetime(results[0].generated_at, ZoneInfo(recipient.time_zone))
        subject = f"[Hermes] {titles} — {made.date().isoformat()}"
    if not job.late:
        return subject
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


def _stop_note(
    locale: Locale, schedule: str, unsubscribe_url: str | None, reports: int
) -> _Footnote:
    several = reports > 1
    if unsubscribe_url is None:
        these = (
            tr(locale, "te raporty", "these reports")
            if several
            else tr(locale, "ten raport", "this report")
        )
        return _Footnote(
            tr(
                locale,
                f"Jesteś właścicielem harmonogramu „{schedule}”: aby przestać dostawać {these}, "
                "wyłącz harmonogram albo usuń siebie z odbiorców.",
                f"You own the schedule “{schedule}”: to stop {these}, disable the "
                "schedule or remove yourself from its recipients.",
            )
        )
    if several:
        text = tr(
            locale,
            f"Raporty z harmonogramu „{schedule}”. Aby ich więcej nie dostawać, wypisz się:",
            f"Reports of the schedule “{schedule}”. To stop receiving them, unsubscribe:",
        )
    else:
        text = tr(
            locale,
            f"Raport z harmonogramu „{schedule}”. Aby go więcej nie dostawać, wypisz się:",
            f"A report of the schedule “{schedule}”. To stop receiving it, unsubscribe:",
        )
    return _Footnote(text, unsubscribe_url)


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
