"""Assignment mails of planned tasks carry invitations; answers come back as notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select

from hermes_groupware.models import NotificationRule, OutboundMessage
from hermes_groupware.models.enums import InboundStatus, NotificationEvent
from hermes_groupware.services import notification_rules, tasks
from hermes_groupware.services.notification_rules import RuleSpec
from hermes_groupware.services.registers import RegisterChanges, update_register
from mail_gateway.notify import notify_round
from tests.mail_gateway.gateway import Gateway


@pytest.fixture
def inviting(gateway: Gateway) -> Iterator[None]:
    """HAN sends invitations; the assignee hears about assignments."""
    notify_round(gateway.database, gateway.settings)
    with gateway.uow() as uow:
        update_register(uow, "HAN", RegisterChanges(send_invitations=True))
        notification_rules.add_rule(
            uow, RuleSpec("assigned", NotificationEvent.ASSIGNED, recipients=("assignee",))
        )
    yield
    with gateway.uow() as uow:
        uow.session.execute(delete(NotificationRule))
        update_register(uow, "HAN", RegisterChanges(send_invitations=False))
    notify_round(gateway.database, gateway.settings)


def _mails_to(gateway: Gateway, task_id: int, address: str) -> list[EmailMessage]:
    with gateway.uow() as uow:
        rows = uow.session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.task_id == task_id, OutboundMessage.recipient == address)
            .order_by(OutboundMessage.id)
        )
        parsed = [message_from_bytes(r.raw, policy=policy.default) for r in rows]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def _calendar(mail: EmailMessage) -> Calendar:
    part = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == Calendar.from_ical(part.get_content())["METHOD"]
    return Calendar.from_ical(part.get_content())


def test_assignment_invites_and_reassignment_cancels(gateway: Gateway, inviting: None) -> None:
    task = gateway.task_of("anowak", register="HAN")
    notify_round(gateway.database, gateway.settings)
    start = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)
    with gateway.uow() as uow:
        changes = tasks.TaskChanges(planned_start=start, due=start + dt.timedelta(hours=2))
        tasks.update_task(uow, task.id, changes)
    ebrown = gateway.employee("ebrown")
    with gateway.uow() as uow:
        tasks.update_task(uow, task.id, tasks.TaskChanges(responsible_id=ebrown.id))
    notify_round(gateway.database, gateway.settings)

    (invite,) = _mails_to(gateway, task.id, "ebrown@firma.pl")
    request = _calendar(invite)
    assert str(request["METHOD"]) == "REQUEST"
    event = request.walk("VEVENT")[0]
    assert str(event["UID"]) == f"hermes-invite-{task.id}@hermes.test"
    assert "ebrown@firma.pl" in str(event["ATTENDEE"]).lower()
    assert event.decoded("DTSTART").astimezone(dt.UTC) == start
    first, withdrawn = _mails_to(gateway, task.id, "anowak@firma.pl")  # assigned, then cancel
    assert not any(p.get_content_type() == "text/calendar" for p in first.walk())  # unplanned
    cancel = _calendar(withdrawn)
    assert str(cancel["METHOD"]) == "CANCEL"
    assert int(cancel.walk("VEVENT")[0]["SEQUENCE"]) >= int(event["SEQUENCE"])

    organizer = str(event["ORGANIZER"]).removeprefix("mailto:").removeprefix("MAILTO:")
    answer = EmailMessage()
    answer["From"] = "Emily Brown <ebrown@firma.pl>"
    answer["To"] = organizer
    answer["Subject"] = f"Accepted: [{task.number}] {task.subject}"
    answer["Authentication-Results"] = "mx.firma.pl; dmarc=pass header.from=firma.pl"
    answer["Message-ID"] = f"<answer-{task.id}@firma.pl>"
    answer.set_content("Emily Brown has accepted this invitation.")
    reply = Calendar()
    reply.add("prodid", "-//test//EN")
    reply.add("version", "2.0")
    reply.add("method", "REPLY")
    reply_event = event.__class__()
    reply_event.add("uid", str(event["UID"]))
    reply_event.add("sequence", int(event["SEQUENCE"]))
    reply_event.add("dtstamp", dt.datetime.now(dt.UTC))
    reply_event.add("attendee", "mailto:ebrown@firma.pl", parameters={"PARTSTAT": "ACCEPTED"})
    reply.add_component(reply_event)
    answer.add_attachment(
        reply.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )
    receipt = gateway.deliver(answer, organizer)
    assert receipt.status is InboundStatus.POSTED
    notes = [n.body or "" for n in gateway.items(task.id)]
    assert notes == [
        "ebrown@firma.pl przyjmuje zaproszenie / ebrown@firma.pl accepted the invitation"
    ]
