"""E-mail and SMS reminders: sent once at their time, threaded with the task, following dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware.config import SmtpOutSettings
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import OutboundMessage, Task
from hermes_groupware.models.enums import Visibility
from hermes_groupware.models.reminder import ReminderAnchor, ReminderChannel
from hermes_groupware.services import reminders, tasks
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.reminders import ReminderSpec
from mail_gateway.reminder_mail import send_reminders
from mail_gateway.service import MailService
from tests.mail_gateway.gateway import Gateway
from tests.mail_gateway.relay import Relay

DUE = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


def _remind(gateway: Gateway, login: str, task_id: int, spec: ReminderSpec) -> int:
    actor = actor_for(gateway.employee(login))
    with gateway.uow() as system:
        uow = system.acting_as(actor)
        return reminders.add_reminder(uow, task_id, spec).id


def _task(gateway: Gateway, login: str = "jkowalski") -> int:
    task = gateway.task_of(login, register="HAN")
    with gateway.uow() as uow:
        tasks.update_task(uow, task.id, tasks.TaskChanges(due=DUE))
    return task.id


def _reminder_rows(gateway: Gateway, task_id: int) -> list[OutboundMessage]:
    with gateway.uow() as uow:
        query = select(OutboundMessage).where(OutboundMessage.kind == "reminder")
        rows = list(uow.session.scalars(query.order_by(OutboundMessage.id)))
        for row in rows:
            _ = row.raw  # deferred: load while the session is open
        return [r for r in rows if r.task_id == task_id or f"task-{task_id}." in r.message_id]


def _parsed(row: OutboundMessage) -> EmailMessage:
    parsed = message_from_bytes(row.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _send(gateway: Gateway) -> int:
    return send_reminders(gateway.database, gateway.settings)


def test_an_email_reminder_fires_once_at_its_time(gateway: Gateway) -> None:
    with freeze_time("2026-12-01 09:00:00"):
        task_id = _task(gateway)
        at = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
        spec = ReminderSpec(at=at, channel=ReminderChannel.EMAIL, note="Przygotuj wycenę")
        _remind(gateway, "jkowalski", task_id, spec)
    with freeze_time("2026-12-03 07:59:00"):
        assert _send(gateway) == 0
    with freeze_time("2026-12-03 08:00:30"):
        assert _send(gateway) == 1
        assert _send(gateway) == 0
    with freeze_time("2026-12-03 09:00:00"):
        assert _send(gateway) == 0
    (row,) = _reminder_rows(gateway, task_id)
    assert row.recipient == "jkowalski@firma.pl" and row.channel == "email"
    mail = _parsed(row)
    with gateway.uow() as uow:
        number = uow.session.get_one(Task, task_id).number
    assert mail["Subject"].startswith(f"[{number}]")
    assert mail["In-Reply-To"] == f"<task-{task_id}.root@hermes.test>"
    assert mail["Thread-Topic"] == number and mail["Thread-Index"]
    assert mail["Auto-Submitted"] == "auto-generated" and mail["Reply-To"]
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert f"Przypomnienie: {number}" in text and "Przygotuj wycenę" in text
    assert "Termin: 2026-12-04 16:00" in text  # in the employee's zone (Warsaw)
    assert "Przygotuj wycenę" in html.get_content()


def test_the_worker_run_twice_sends_a_reminder_once(
    gateway: Gateway, relay: tuple[Relay, SmtpOutSettings]
) -> None:
    sink, smtp = relay
    settings = dataclasses.replace(gateway.settings, smtp_out=smtp)
    with freeze_time("2026-12-01 09:00:00"):
        task_id = _task(gateway, "anowak")
        spec = ReminderSpec(
            relative_to=ReminderAnchor.DUE, offset_minutes=-120, channel=ReminderChannel.EMAIL
        )
        _remind(gateway, "anowak", task_id, spec)
    worker = MailService(settings, gateway.database)
    with freeze_time("2026-12-04 13:00:05"):
        worker.run_worker_once()
        worker.run_worker_once()
    mine = [r for r in sink.received if f"task-{task_id}.".encode() in r[2]]
    assert len(mine) == 1 and mine[0][1] == ["anowak@firma.pl"]


def test_a_relative_reminder_follows_a_changed_due_date(gateway: Gateway) -> None:
    with freeze_time("2026-12-01 09:00:00"):
        task_id = _task(gateway, "mzielinska")
        spec = ReminderSpec(
            relative_to=ReminderAnchor.DUE, offset_minutes=-60, channel=ReminderChannel.EMAIL
        )
        _remind(gateway, "mzielinska", task_id, spec)
        with gateway.uow() as uow:  # the customer asked for one more day
            later = DUE + dt.timedelta(days=1)
            tasks.update_task(uow, task_id, tasks.TaskChanges(due=later))
    with freeze_time("2026-12-04 14:00:30"):  # an hour before the old due time
        assert _send(gateway) == 0
    with freeze_time("2026-12-05 14:00:30"):
        assert _send(gateway) == 1
        assert _send(gateway) == 0
    assert len(_reminder_rows(gateway, task_id)) == 1


def test_an_sms_reminder_and_two_instances_at_once(gateway: Gateway) -> None:
    with freeze_time("2026-12-01 09:00:00"):
        task_id = _task(gateway, "pwisniewski")
        spec = ReminderSpec(
            at=DUE - dt.timedelta(hours=3), channel=ReminderChannel.SMS, note="Weź próbki"
        )
        _remind(gateway, "pwisniewski", task_id, spec)
    counts: list[int] = []
    with freeze_time("2026-12-04 12:00:10"):
        threads = [threading.Thread(target=lambda: counts.append(_send(gateway))) for _ in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(counts) == [0, 1]
    (row,) = _reminder_rows(gateway, task_id)
    assert row.channel == "sms" and row.recipient == gateway.employee("pwisniewski").mobile
    assert row.raw.decode().startswith("Przypomnienie: ") and "Weź próbki" in row.raw.decode()


def test_a_reminder_for_someone_who_lost_the_task_is_not_sent(gateway: Gateway) -> None:
    with freeze_time("2026-12-01 09:00:00"):
        task_id = _task(gateway, "jkowalski")
        spec = ReminderSpec(at=DUE, channel=ReminderChannel.EMAIL)
        _remind(gateway, "jkowalski", task_id, spec)
        someone_else = gateway.employee("anowak").id
        with gateway.uow() as uow:
            _private(uow, task_id, someone_else)
    with freeze_time("2026-12-04 15:00:10"):
        assert _send(gateway) == 0
    assert _reminder_rows(gateway, task_id) == []


def _private(uow: UnitOfWork, task_id: int, new_responsible: int) -> None:
    """Make the task private to someone else: its former responsible no longer sees it."""
    tasks.update_task(
        uow,
        task_id,
        tasks.TaskChanges(responsible_id=new_responsible, visibility=Visibility.PRIVATE),
    )
