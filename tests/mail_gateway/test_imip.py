"""Calendar invitations (iMIP): what Outlook, Gmail and Apple Mail need to see an invitation,
and the REPLY each of them sends back.

The REPLY fixtures in ``tests/data/mail/imip/`` are composed the way each client sends them
(MIME layout, transfer encodings, property spellings): Outlook desktop via Exchange (base64,
``MAILTO:``, a Windows TZID, COMMENT), Outlook.com (no ORGANIZER), Gmail (inline part plus
``invite.ics``, UTC times, ``X-RESPONSE-COMMENT`` HTML-escaped), Apple Mail (quoted-printable,
``EMAIL`` parameter), and three that must give nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component, Timezone
from sqlalchemy import text

from hermes_groupware.models import Task
from hermes_groupware.models.enums import TaskStatus
from hermes_groupware.services import tasks
from mail_gateway.imip import (
    MAX_ICS_BYTES,
    ImipReply,
    attach_invitation,
    invitation,
    invitation_uid,
    parse_reply,
    read_reply,
    task_id_from_uid,
)
from mail_gateway.mime import parse_message
from sync.ical import Placement, TaskData, render
from sync.projection import task_data_for
from tests.mail_gateway.gateway import Gateway

FIXTURES = Path(__file__).parents[1] / "data" / "mail" / "imip"
UTC = dt.UTC
WARSAW = ZoneInfo("Europe/Warsaw")
DOMAIN = "hermes.firma.pl"
ORGANIZER = ("Hermes", "hermes@hermes.firma.pl")
ATTENDEE = ("Jan Kowalski", "jkowalski@firma.pl")
NOW = dt.datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def task(**changes: Any) -> TaskData:
    base = TaskData(
        task_id=42,
        number="REK/2026/0042",
        subject="Reklamacja dostawy",
        description="Uszkodzone palety; kierowca, rozładunek.",
        status="new",
        priority="high",
        planned_start=utc(2026, 3, 29, 7, 30),
        due=utc(2026, 3, 29, 8, 30),
        all_day=False,
        completed_at=None,
        created_at=utc(2026, 3, 1, 9, 0),
        updated_at=utc(2026, 3, 20, 8, 0),
        register_code="REK",
        register_name="Reklamacje",
        register_colour="#c0392b",
        customer="ACME Sp. z o.o.",
    )
    return dataclasses.replace(base, **changes)


def build(data: TaskData | None = None, **kwargs: Any) -> bytes:
    options: dict[str, Any] = {
        "method": "REQUEST",
        "organizer": ORGANIZER,
        "attendee": ATTENDEE,
        "sequence": 3,
        "domain": DOMAIN,
        "zone": WARSAW,
        "now": NOW,
    }
    return invitation(data or task(), **(options | kwargs))


def parsed(ics: bytes | str) -> Calendar:
    calendar = Calendar.from_ical(ics)
    assert isinstance(calendar, Calendar)
    return calendar


def only_event(calendar: Calendar) -> Component:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def instant(calendar: Calendar, name: str) -> dt.datetime:
    """DTSTART/DTEND as UTC, read through the VTIMEZONE *block* (not the zone database), so
    the test checks what a client without Olson names (Outlook) computes."""
    prop: Any = only_event(calendar)[name]
    value = prop.dt
    assert isinstance(value, dt.datetime)
    if prop.params.get("TZID"):
        (block,) = calendar.walk("VTIMEZONE")
        assert isinstance(block, Timezone) and block["TZID"] == prop.params["TZID"]
        value = value.replace(tzinfo=None).replace(tzinfo=block.to_tz(lookup_tzid=False))
    assert value.tzinfo is not None
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- invitations


def test_a_request_is_an_invitation_clients_accept() -> None:
    calendar = parsed(build())
    event = only_event(calendar)
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert event["UID"] == "hermes-invite-42@hermes.firma.pl"
    assert event["SUMMARY"] == "[REK/2026/0042] Reklamacja dostawy"
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["ORGANIZER"]) == "mailto:hermes@hermes.firma.pl"
    assert event["ORGANIZER"].params["CN"] == "Hermes"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:jkowalski@firma.pl"
    assert dict(attendee.params) == {
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
        "CN": "Jan Kowalski",
    }
    (block,) = calendar.walk("VTIMEZONE")
    assert block["TZID"] == "Europe/Warsaw"
    assert {c.name for c in block.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert event["DTSTART"].params["TZID"] == "Europe/Warsaw"
    # the CalDAV mapping's content comes along (one mapping, not a second one)
    assert "Uszkodzone palety" in str(event["DESCRIPTION"])
    assert event["PRIORITY"] == 1


def test_the_text_is_strict_rfc_5545() -> None:
    ics = build(task(subject="Zażółć gęślą jaźń — przegląd umowy 📄✅; paragrafy 3, 7 i 12 " * 3))
    lines = ics.split(b"\r\n")
    assert lines[-1] == b""
    assert all(b"\n" not in line and len(line) <= 75 for line in lines)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")


def test_the_uid_is_stable_per_task_and_not_a_caldav_uid() -> None:
    first = str(only_event(parsed(build()))["UID"])
    moved = task(planned_start=utc(2026, 4, 2, 8), due=None, subject="Inny temat")
    later = str(only_event(parsed(build(moved, sequence=9, method="CANCEL")))["UID"])
    assert first == later == invitation_uid(42, DOMAIN)
    assert only_event(parsed(build(task(task_id=43))))["UID"] != first
    caldav = parsed(render(task(), Placement("hermes-42-rek@x", "VEVENT"), None, NOW))
    assert only_event(caldav)["UID"] != first
    assert task_id_from_uid(first, DOMAIN) == 42
    assert task_id_from_uid(first, "HERMES.FIRMA.PL") == 42
    assert task_id_from_uid(first, "other.example") is None
    for foreign in ("hermes-42-rek@hermes.firma.pl", "hermes-invite-@hermes.firma.pl", "x", ""):
        assert task_id_from_uid(foreign, DOMAIN) is None
    assert task_id_from_uid("hermes-invite-4²@hermes.firma.pl", DOMAIN) is None


@pytest.mark.parametrize(
    ("planned", "due", "local_start", "local_end", "hours"),
    [
        # spring forward, 2026-03-29 02:00 CET -> 03:00 CEST
        (utc(2026, 3, 29, 7, 30), utc(2026, 3, 29, 8, 30), "20260329T093000", "20260329T103000", 1),
        (utc(2026, 3, 28, 8), utc(2026, 3, 28, 9), "20260328T090000", "20260328T100000", 1),
        (utc(2026, 3, 29, 0, 30), None, "20260329T013000", "20260329T033000", 1),  # over the gap
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 3), "20260329T000000", "20260329T050000", 4),
        # fall back, 2026-10-25 03:00 CEST -> 02:00 CET
        (utc(2026, 10, 25, 8), utc(2026, 10, 25, 9), "20261025T090000", "20261025T100000", 1),
        (utc(2026, 10, 24, 7), utc(2026, 10, 24, 8), "20261024T090000", "20261024T100000", 1),
        (utc(2026, 10, 24, 20), utc(2026, 10, 25, 6), "20261024T220000", "20261025T070000", 10),
        # due before the planned start: a one-hour slot
        (utc(2026, 10, 25, 8), utc(2026, 10, 20, 9), "20261025T090000", "20261025T100000", 1),
    ],
)
def test_times_are_right_on_both_sides_of_the_dst_change(
    planned: dt.datetime, due: dt.datetime | None, local_start: str, local_end: str, hours: int
) -> None:
    ics = build(task(planned_start=planned, due=due))
    calendar = parsed(ics)
    assert f"DTSTART;TZID=Europe/Warsaw:{local_start}".encode() in ics
    assert f"DTEND;TZID=Europe/Warsaw:{local_end}".encode() in ics
    assert instant(calendar, "DTSTART") == planned
    assert instant(calendar, "DTEND") - instant(calendar, "DTSTART") == dt.timedelta(hours=hours)


def test_the_repeated_hour_after_fall_back_is_written_in_utc() -> None:
    # 02:30 CEST + 1 h = 02:30 CET: a TZID time there would mean the first 02:30 (RFC 5545)
    ics = build(task(planned_start=utc(2026, 10, 25, 0, 30), due=None))
    assert b"DTSTART;TZID=Europe/Warsaw:20261025T023000" in ics
    assert b"DTEND:20261025T013000Z" in ics
    calendar = parsed(ics)
    assert instant(calendar, "DTEND") - instant(calendar, "DTSTART") == dt.timedelta(hours=1)


def test_an_all_day_task_is_an_all_day_event() -> None:
    data = task(all_day=True, planned_start=utc(2026, 3, 2), due=utc(2026, 3, 5))
    event = only_event(parsed(build(data)))
    assert event.decoded("DTSTART") == dt.date(2026, 3, 2)
    assert event.decoded("DTEND") == dt.date(2026, 3, 6)  # exclusive


def test_a_cancel_withdraws_the_same_invitation() -> None:
    request = parsed(build(sequence=3))
    cancel = parsed(build(task(status="cancelled"), method="CANCEL", sequence=4))
    event = only_event(cancel)
    assert cancel["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == only_event(request)["UID"]
    assert event.decoded("SEQUENCE") > only_event(request).decoded("SEQUENCE")
    assert str(event["ATTENDEE"]) == "mailto:jkowalski@firma.pl"
    assert str(event["ORGANIZER"]) == "mailto:hermes@hermes.firma.pl"


def test_names_cannot_break_the_calendar() -> None:
    event = only_event(
        parsed(build(attendee=('Jan "Kowal"\r\nATTENDEE:mailto:x@evil', "jkowalski@firma.pl")))
    )
    assert event["ATTENDEE"].params["CN"] == "Jan 'Kowal' ATTENDEE:mailto:x@evil"
    assert not isinstance(event["ATTENDEE"], list)
    for bad in ("jan@firma.pl\r\nX-EVIL:1", "no address", "a@b@c", ""):
        with pytest.raises(ValueError, match="not an e-mail address"):
            build(attendee=("Jan", bad))


@pytest.mark.parametrize(
    ("changes", "kwargs", "message"),
    [
        ({"planned_start": None}, {}, "no planned start"),
        ({}, {"method": "PUBLISH"}, "not an invitation method"),
        ({}, {"sequence": -1}, "must not be negative"),
    ],
)
def test_what_cannot_be_an_invitation_is_refused(
    changes: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(task(**changes), **kwargs)


def test_sequence_is_the_task_version_and_rises_on_every_change(gateway: Gateway) -> None:
    """The source the module docstring proposes: ``tasks.version`` (ORM and plain SQL)."""
    created = gateway.task_of("jkowalski")
    with gateway.uow() as uow:
        tasks.update_task(uow, created.id, tasks.TaskChanges(planned_start=utc(2026, 3, 29, 7, 30)))
    sent: list[tuple[str, int]] = []

    def send(method: str = "REQUEST") -> None:
        with gateway.uow() as uow:
            row = uow.session.get_one(Task, created.id)
            data = task_data_for(uow.session, [row.id])[row.id]
            ics = build(data, method=method, sequence=row.version)
        event = only_event(parsed(ics))
        sent.append((str(event["UID"]), int(event.decoded("SEQUENCE"))))

    send()
    with gateway.uow() as uow:  # a reschedule
        tasks.update_task(uow, created.id, tasks.TaskChanges(due=utc(2026, 3, 29, 9)))
    send()
    with gateway.database.engine.begin() as conn:  # the desktop application, straight SQL
        conn.execute(
            text("UPDATE tasks SET planned_start = '2026-03-29 08:00:00' WHERE id = :id"),
            {"id": created.id},
        )
    send()
    with gateway.uow() as uow:
        tasks.set_status(uow, created.id, TaskStatus.CANCELLED)
    send("CANCEL")
    assert len({uid for uid, _ in sent}) == 1
    sequences = [sequence for _, sequence in sent]
    assert sequences == sorted(set(sequences)), sequences


# --------------------------------------------------------------------------- the MIME layout


def notification() -> EmailMessage:
    """Shaped like ``notify.render``: text + HTML alternatives under the SMTP policy."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Hermes <hermes@hermes.firma.pl>"
    message["To"] = "Jan Kowalski <jkowalski@firma.pl>"
    message["Subject"] = "[REK/2026/0042] Reklamacja dostawy"
    message.set_content("Zadanie REK/2026/0042 przypisane do: Jan Kowalski\n")
    message.add_alternative("<p>Zadanie REK/2026/0042</p>\n", subtype="html")
    return message


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_the_mime_structure_is_the_one_clients_recognise(method: str) -> None:
    ics = build(method=method)
    message = notification()
    attach_invitation(message, ics, method)
    raw = message.as_bytes()
    received = message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    assert received.get_content_type() == "multipart/mixed"
    alternative, attached = list(received.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in alternative.iter_parts()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    calendar_part = list(alternative.iter_parts())[-1]
    assert calendar_part.get_param("method") == method
    assert str(calendar_part.get_param("charset")).upper() == "UTF-8"
    assert calendar_part.get_content_disposition() is None  # inline: no disposition at all
    assert f"text/calendar; charset=UTF-8; method={method}\r\n".encode() in raw  # unquoted
    assert calendar_part.get_payload(decode=True) == ics
    body_method = parsed(ics)["METHOD"]
    assert body_method == calendar_part.get_param("method")
    assert attached.get_content_type() == "application/ics"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "invite.ics"
    assert attached.get_param("name") == "invite.ics"
    assert attached.get_payload(decode=True) == ics
    # the notification itself is untouched
    text_part = received.get_body(("plain",))
    assert text_part is not None and "przypisane do" in text_part.get_content()


def test_our_own_parser_sees_the_invitation_and_it_is_no_reply() -> None:
    message = notification()
    attach_invitation(message, build(), "REQUEST")
    inbound = parse_message(message.as_bytes())
    assert inbound.text is not None and "przypisane do" in inbound.text
    assert [a.content_type for a in inbound.attachments] == ["text/calendar", "application/ics"]
    assert parse_reply(inbound) is None


def test_method_in_header_and_body_must_agree() -> None:
    with pytest.raises(ValueError, match="METHOD in the calendar is 'REQUEST', not 'CANCEL'"):
        attach_invitation(notification(), build(method="REQUEST"), "CANCEL")
    with pytest.raises(ValueError, match="not an iTIP method"):
        attach_invitation(notification(), build(), "REQUEST; X=1")
    with pytest.raises(ValueError, match="METHOD in the calendar is None"):
        attach_invitation(notification(), b"not a calendar", "REQUEST")


def test_one_calendar_per_message() -> None:
    message = notification()
    attach_invitation(message, build(), "REQUEST")
    with pytest.raises(ValueError, match="already carries a calendar"):
        attach_invitation(message, build(sequence=4), "REQUEST")


def test_a_plain_text_message_gets_the_same_layout() -> None:
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = "x"
    message.set_content("Tylko tekst\n")
    attach_invitation(message, build(), "REQUEST")
    received = message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    alternative = next(received.iter_parts())
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/calendar",
    ]


# --------------------------------------------------------------------------- replies


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "outlook_desktop_accept_pl.eml",
            ImipReply(
                uid="hermes-invite-42@hermes.firma.pl",
                attendee="jkowalski@firma.pl",
                attendee_name="Jan Kowalski",
                partstat="ACCEPTED",
                sequence=3,
                comment="Będę, kierowca potwierdził okno 9:30–10:30.",
                organizer="hermes@hermes.firma.pl",
            ),
        ),
        (
            "outlook_com_decline_no_organizer.eml",
            ImipReply(
                uid="hermes-invite-42@hermes.firma.pl",
                attendee="k.wojcik@outlook.com",
                attendee_name="Katarzyna Wójcik",
                partstat="DECLINED",
                sequence=7,
                comment="W tym terminie jestem na urlopie.",
                organizer=None,
            ),
        ),
        (
            "gmail_accept.eml",
            ImipReply(
                uid="hermes-invite-42@hermes.firma.pl",
                attendee="anna.nowak@gmail.com",
                attendee_name="Anna Nowak",
                partstat="ACCEPTED",
                sequence=3,
                comment=None,
                organizer="hermes@hermes.firma.pl",
            ),
        ),
        (
            "gmail_tentative_comment.eml",
            ImipReply(
                uid="hermes-invite-42@hermes.firma.pl",
                attendee="anna.nowak@gmail.com",
                attendee_name="Anna Nowak",
                partstat="TENTATIVE",
                sequence=8,
                comment="Może się spóźnię; kierowca ma 'okno' 9–11",
                organizer="hermes@hermes.firma.pl",
            ),
        ),
        (
            "apple_mail_tentative.eml",
            ImipReply(
                uid="hermes-invite-42@hermes.firma.pl",
                attendee="piotr.wisniewski@icloud.com",
                attendee_name="Piotr Wiśniewski",
                partstat="TENTATIVE",
                sequence=5,
                comment=None,
                organizer="hermes@hermes.firma.pl",
            ),
        ),
    ],
)
def test_replies_of_each_client_are_read(fixture: str, expected: ImipReply) -> None:
    raw = (FIXTURES / fixture).read_bytes()
    assert parse_reply(raw) == expected
    assert parse_reply(parse_message(raw)) == expected  # what the pipeline already has
    assert expected.task_id(DOMAIN) == 42
    assert expected.task_id("other.example") is None


@pytest.mark.parametrize(
    "fixture",
    [
        "garbage_truncated_calendar.eml",
        "garbage_binary_calendar.eml",
        "forwarded_request_header_says_reply.eml",  # the body decides, and it says REQUEST
    ],
)
def test_what_is_no_reply_gives_none(fixture: str) -> None:
    assert parse_reply((FIXTURES / fixture).read_bytes()) is None


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\xff" * 100, b"From: x\r\n\r\n", b"Content-Type: multipart/mixed\r\n\r\n--"],
)
def test_unparseable_mail_gives_none(raw: bytes) -> None:
    assert parse_reply(raw) is None


def reply_ics(*attendees: str, extra: str = "") -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        "METHOD:REPLY",
        "BEGIN:VEVENT",
        "UID:hermes-invite-42@hermes.firma.pl",
        "DTSTAMP:20260320T091512Z",
        "SEQUENCE:4",
        *attendees,
        *([extra] if extra else []),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_several_attendees_the_sender_is_the_one_who_answers() -> None:
    ics = reply_ics(
        "ATTENDEE;PARTSTAT=ACCEPTED;CN=Anna:mailto:anna@firma.pl",
        "ATTENDEE;PARTSTAT=DECLINED;CN=Jan:mailto:JKowalski@firma.pl",
    )
    found = read_reply(ics, sender="jkowalski@FIRMA.pl")
    assert found is not None and (found.attendee, found.partstat) == (
        "jkowalski@firma.pl",
        "DECLINED",
    )
    assert read_reply(ics) is None  # ambiguous without a sender: nobody is credited
    one_decided = reply_ics(
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:anna@firma.pl",
        "ATTENDEE;PARTSTAT=tentative:mailto:jkowalski@firma.pl",
    )
    found = read_reply(one_decided, sender="someone@else.pl")
    assert found is not None and (found.attendee, found.partstat) == (
        "jkowalski@firma.pl",
        "TENTATIVE",
    )


@pytest.mark.parametrize(
    "attendee",
    [
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:jkowalski@firma.pl",
        "ATTENDEE;PARTSTAT=DELEGATED:mailto:jkowalski@firma.pl",
        "ATTENDEE:mailto:jkowalski@firma.pl",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:",
        "ATTENDEE;PARTSTAT=ACCEPTED:urn:uuid:6f1c2e4a-9b7d-4e21-a0c5-6d8e9f0a1b2c",
    ],
)
def test_no_decision_or_no_address_gives_none(attendee: str) -> None:
    assert read_reply(reply_ics(attendee)) is None


def test_an_address_only_in_the_email_parameter_is_taken() -> None:
    ics = reply_ics(
        "ATTENDEE;EMAIL=jkowalski@firma.pl;PARTSTAT=ACCEPTED:urn:uuid:6f1c2e4a-9b7d-4e21-a0c5"
    )
    found = read_reply(ics)
    assert found is not None and found.attendee == "jkowalski@firma.pl"
    assert (found.sequence, found.organizer, found.comment) == (4, None, None)


def test_a_reply_without_uid_or_with_junk_sequence() -> None:
    attendee = "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jkowalski@firma.pl"
    assert read_reply(reply_ics(attendee).replace(b"UID:", b"X-UID:")) is None
    junk = read_reply(reply_ics(attendee).replace(b"SEQUENCE:4", b"SEQUENCE:cztery"))
    assert junk is not None and junk.sequence == 0


def test_an_ics_file_of_any_type_is_found() -> None:
    """Clients that send only a file (``application/octet-stream``, ``*.ics``)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Jan Kowalski <jkowalski@firma.pl>"
    message["To"] = "hermes@hermes.firma.pl"
    message["Subject"] = "Odp: zaproszenie"
    message.set_content("W załączniku odpowiedź.\n")
    ics = reply_ics("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jkowalski@firma.pl")
    message.add_attachment(
        ics, maintype="application", subtype="octet-stream", filename="odpowiedz.ics"
    )
    found = parse_reply(message.as_bytes())
    assert found is not None and found.partstat == "ACCEPTED"


def test_every_truncation_of_a_real_reply_is_handled() -> None:
    """Hostile input never raises: each prefix of Outlook's reply is a reply or nothing."""
    inbound = parse_message((FIXTURES / "outlook_desktop_accept_pl.eml").read_bytes())
    ics = next(a.data for a in inbound.attachments if a.content_type == "text/calendar")
    results = {read_reply(ics[:end]) for end in range(0, len(ics), 7)}
    assert results <= {None, read_reply(ics)}


def test_an_oversized_calendar_is_not_parsed() -> None:
    padding = "X-PAD:" + "a" * 70
    big = reply_ics(
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jkowalski@firma.pl",
        extra="\r\n".join([padding] * (MAX_ICS_BYTES // 70)),
    )
    assert len(big) > MAX_ICS_BYTES
    assert read_reply(big) is None
