"""Notification rules from the change journal to the outbox: who hears what, once, threaded."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, select, text

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import NotificationRule, OutboundMessage
from hermes_groupware.models.enums import (
    FieldType,
    InboundStatus,
    NotificationEvent,
    TaskStatus,
    Visibility,
)
from hermes_groupware.services import absences, custom_fields, notification_rules, tasks
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.notification_rules import RuleSpec
from mail_gateway.notify import notify_round
from tests.mail_gateway.gateway import Gateway, message


@pytest.fixture
def rules(gateway: Gateway) -> Iterator[None]:
    """Each test starts with no rules and the cursor at the end of the journal."""
    notify_round(gateway.database, gateway.settings)
    yield
    with gateway.uow() as uow:
        uow.session.execute(delete(NotificationRule))
    notify_round(gateway.database, gateway.settings)


def _rule(gateway: Gateway, event: NotificationEvent, *to: str, **kwargs: object) -> int:
    with gateway.uow() as uow:
        spec = RuleSpec(f"test {event}", event, to, **kwargs)  # type: ignore[arg-type]
        return notification_rules.add_rule(uow, spec).id


def _queued(gateway: Gateway, task_id: int) -> list[OutboundMessage]:
    with gateway.uow() as uow:
        query = select(OutboundMessage).where(OutboundMessage.task_id == task_id)
        rows = list(uow.session.scalars(query.order_by(OutboundMessage.id)))
        for row in rows:
            _ = row.raw  # load the deferred column while the session is open
        return rows


def _parsed(row: OutboundMessage) -> EmailMessage:
    parsed = message_from_bytes(row.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_rules_are_validated_when_saved(gateway: Gateway, rules: None) -> None:
    with gateway.uow() as uow, pytest.raises(InvalidInput, match="no employee"):
        notification_rules.add_rule(
            uow, RuleSpec("x", NotificationEvent.ASSIGNED, recipients=("nikt",))
        )
    with gateway.uow() as uow, pytest.raises(InvalidInput, match="not an e-mail"):
        notification_rules.add_rule(
            uow, RuleSpec("x", NotificationEvent.ASSIGNED, recipients=("a@b@c",))
        )
    with gateway.uow() as uow, pytest.raises(InvalidInput, match="HH:MM"):
        notification_rules.add_rule(
            uow,
            RuleSpec("x", NotificationEvent.OVERDUE, recipients=("assignee",), at_local_time="8"),
        )


def test_an_assignment_mails_the_new_assignee_threaded_and_replyable(
    gateway: Gateway, rules: None
) -> None:
    _rule(gateway, NotificationEvent.ASSIGNED, "assignee")
    task = gateway.task_of("jkowalski")
    notify_round(gateway.database, gateway.settings)
    anowak = gateway.employee("anowak")
    with gateway.uow() as uow:
        tasks.update_task(uow, task.id, tasks.TaskChanges(responsible_id=anowak.id))
    notify_round(gateway.database, gateway.settings)
    rows = _queued(gateway, task.id)
    to_anowak = [r for r in rows if r.recipient == "anowak@firma.pl"]
    assert len(to_anowak) == 1
    mail = _parsed(to_anowak[0])
    assert mail["Subject"] == f"[{task.number}] {task.subject}"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["In-Reply-To"] == f"<task-{task.id}.root@hermes.test>"
    assert mail["Thread-Topic"] == task.number and mail["Thread-Index"]
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    assert f"przypisane do: {anowak.full_name}" in plain.get_content()
    assert f"odpowiedzialny: Jan Kowalski → {anowak.full_name}" in plain.get_content()
    assert "<strong>" in html.get_content()

    reply = message(
        sender="anowak@firma.pl", to=str(mail["Reply-To"]), body="Przejmuję.", verified=True
    )
    receipt = gateway.deliver(reply, str(mail["Reply-To"]))
    assert receipt.status is InboundStatus.POSTED
    assert [n.body for n in gateway.items(task.id)] == ["Przejmuję."]


def test_english_speakers_get_english(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.STATUS_CHANGED, "login:ebrown", "assignee")
    task = gateway.task_of("jkowalski", register="HAN")
    with gateway.uow() as uow:
        tasks.set_status(uow, task.id, TaskStatus.IN_PROGRESS)
    notify_round(gateway.database, gateway.settings)
    by_recipient = {r.recipient: _parsed(r) for r in _queued(gateway, task.id)}
    english = by_recipient["ebrown@firma.pl"].get_body(("plain",))
    polish = by_recipient["jkowalski@firma.pl"].get_body(("plain",))
    assert english is not None and polish is not None
    assert "Status of task" in english.get_content() and "in progress" in english.get_content()
    assert "Zmiana statusu" in polish.get_content() and "nowe → w toku" in polish.get_content()


def test_the_actor_is_not_told_about_their_own_change(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.STATUS_CHANGED, "assignee")
    task = gateway.task_of("jkowalski")
    jkowalski = gateway.employee("jkowalski")
    with gateway.uow() as uow:
        tasks.set_status(uow.acting_as(actor_for(jkowalski)), task.id, TaskStatus.WAITING)
    notify_round(gateway.database, gateway.settings)
    assert _queued(gateway, task.id) == []


def test_a_plain_sql_status_change_fires_its_rule(gateway: Gateway, rules: None) -> None:
    _rule(
        gateway,
        NotificationEvent.STATUS_CHANGED,
        "assignee",
        to_status=TaskStatus.DONE,
    )
    task = gateway.task_of("jkowalski")
    with gateway.database.engine.begin() as conn:  # the desktop application, straight SQL
        conn.execute(text("UPDATE tasks SET status = 'done' WHERE id = :id"), {"id": task.id})
    notify_round(gateway.database, gateway.settings)
    rows = _queued(gateway, task.id)
    assert [r.recipient for r in rows] == ["jkowalski@firma.pl"]
    body = _parsed(rows[0]).get_body(("plain",))
    assert body is not None and "zakończone" in body.get_content()
    notify_round(gateway.database, gateway.settings)
    assert len(_queued(gateway, task.id)) == 1  # evaluated once


def test_overdue_fires_once_a_day_after_the_local_hour(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.OVERDUE, "assignee", register="SER", at_local_time="08:00")
    task = gateway.task_of("pwisniewski", register="SER")
    with gateway.uow() as uow:
        due = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
        tasks.update_task(uow, task.id, tasks.TaskChanges(due=due))
    notify_round(gateway.database, gateway.settings)
    with freeze_time("2026-12-02 06:30:00"):  # 07:30 in Warsaw: too early
        notify_round(gateway.database, gateway.settings)
    assert _queued(gateway, task.id) == []
    with freeze_time("2026-12-02 07:05:00"):  # 08:05 in Warsaw
        notify_round(gateway.database, gateway.settings)
        notify_round(gateway.database, gateway.settings)
    assert len(_queued(gateway, task.id)) == 1
    with freeze_time("2026-12-03 09:00:00"):
        notify_round(gateway.database, gateway.settings)
    rows = _queued(gateway, task.id)
    assert len(rows) == 2
    body = _parsed(rows[0]).get_body(("html",))
    assert body is not None and "#C62828" in body.get_content()  # overdue in red


def test_due_soon_fires_once_per_due_time(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.DUE_SOON, "assignee", register="SER", lead_minutes=120)
    task = gateway.task_of("pwisniewski", register="SER")
    with freeze_time("2026-12-05 08:00:00"):
        with gateway.uow() as uow:
            due = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)
            tasks.update_task(uow, task.id, tasks.TaskChanges(due=due))
        notify_round(gateway.database, gateway.settings)
        notify_round(gateway.database, gateway.settings)
    assert len(_queued(gateway, task.id)) == 1
    with freeze_time("2026-12-05 08:30:00"):
        with gateway.uow() as uow:
            due = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)
            tasks.update_task(uow, task.id, tasks.TaskChanges(due=due))
        notify_round(gateway.database, gateway.settings)
    assert len(_queued(gateway, task.id)) == 2  # a new due time is a new occurrence


def test_people_who_may_not_see_the_task_hear_nothing(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.TASK_CREATED, "group:reklamacje", "login:kwojcik")
    task = gateway.task_of("mzielinska", register="REK")
    with gateway.uow() as uow:
        tasks.update_task(uow, task.id, tasks.TaskChanges(visibility=Visibility.PRIVATE))
    notify_round(gateway.database, gateway.settings)
    recipients = {r.recipient for r in _queued(gateway, task.id)}
    assert "mzielinska@firma.pl" in recipients  # the responsible may see it
    assert "kwojcik@firma.pl" not in recipients


def test_a_burst_of_changes_becomes_one_mail(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.STATUS_CHANGED, "assignee")
    _rule(gateway, NotificationEvent.DUE_CHANGED, "assignee")
    batched = dataclasses.replace(
        gateway.settings,
        notifications=dataclasses.replace(gateway.settings.notifications, batch_seconds=120),
    )
    task = gateway.task_of("jkowalski")
    with freeze_time("2026-12-07 09:00:00"), gateway.uow() as uow:
        tasks.set_status(uow, task.id, TaskStatus.IN_PROGRESS)
    with freeze_time("2026-12-07 09:01:00"):
        with gateway.uow() as uow:
            due = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)
            tasks.update_task(uow, task.id, tasks.TaskChanges(due=due))
        notify_round(gateway.database, batched)  # still being edited: nothing yet
    assert _queued(gateway, task.id) == []
    with freeze_time("2026-12-07 09:03:30"):
        notify_round(gateway.database, batched)
    (row,) = _queued(gateway, task.id)
    body = _parsed(row).get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Zmiany w zadaniu" in text and "nowe → w toku" in text and "termin: —" in text


def test_an_absent_employees_notifications_go_to_the_substitute(
    gateway: Gateway, rules: None
) -> None:
    _rule(gateway, NotificationEvent.STATUS_CHANGED, "assignee")
    task = gateway.task_of("pwisniewski", register="SER")
    with gateway.uow() as uow:
        absences.add_absence(
            uow,
            "pwisniewski",
            starts_on=dt.date(2026, 12, 14),
            ends_on=dt.date(2026, 12, 18),
            substitute="tdabrowski",
        )
    with freeze_time("2026-12-15 10:00:00"):
        with gateway.uow() as uow:
            tasks.set_status(uow, task.id, TaskStatus.WAITING)
        notify_round(gateway.database, gateway.settings)
    assert [r.recipient for r in _queued(gateway, task.id)] == ["tdabrowski@firma.pl"]
    with freeze_time("2026-12-21 10:00:00"):  # back at work
        with gateway.uow() as uow:
            tasks.set_status(uow, task.id, TaskStatus.IN_PROGRESS)
        notify_round(gateway.database, gateway.settings)
    assert [r.recipient for r in _queued(gateway, task.id)][-1] == "pwisniewski@firma.pl"


def test_five_notifications_on_a_task_are_one_conversation(gateway: Gateway, rules: None) -> None:
    _rule(gateway, NotificationEvent.STATUS_CHANGED, "assignee")
    task = gateway.task_of("jkowalski")
    for status in (
        TaskStatus.IN_PROGRESS,
        TaskStatus.WAITING,
        TaskStatus.IN_PROGRESS,
        TaskStatus.DONE,
        TaskStatus.IN_PROGRESS,
    ):
        with gateway.uow() as uow:
            tasks.set_status(uow, task.id, status)
        notify_round(gateway.database, gateway.settings)
    mails = [_parsed(r) for r in _queued(gateway, task.id)]
    assert len(mails) == 5
    assert len({m["Message-ID"] for m in mails}) == 5
    assert {m["References"] for m in mails} == {f"<task-{task.id}.root@hermes.test>"}
    assert {m["Subject"] for m in mails} == {f"[{task.number}] {task.subject}"}
    assert {m["Thread-Topic"] for m in mails} == {task.number}
    roots = {base64.b64decode(str(m["Thread-Index"]))[:22] for m in mails}
    assert len(roots) == 1  # Outlook's conversation id: the same 22-byte root block
    assert len({str(m["Reply-To"]) for m in mails}) == 1  # one signed address per recipient


def test_a_custom_field_condition_narrows_a_rule(gateway: Gateway, rules: None) -> None:
    with gateway.uow() as uow:
        custom_fields.define_field(
            uow, "SER", key="kanal_zgloszenia", label="Kanał", field_type=FieldType.TEXT
        )
    with gateway.uow() as uow, pytest.raises(InvalidInput, match="no custom field"):
        notification_rules.add_rule(
            uow,
            RuleSpec(
                "x",
                NotificationEvent.STATUS_CHANGED,
                ("assignee",),
                register="REK",
                field=("kanal_zgloszenia", "sklep"),
            ),
        )
    _rule(
        gateway,
        NotificationEvent.STATUS_CHANGED,
        "assignee",
        register="SER",
        field=("kanal_zgloszenia", "Sklep"),
    )
    shop, online = gateway.task_of("pwisniewski", "SER"), gateway.task_of("pwisniewski", "SER")
    with gateway.uow() as uow:
        custom_fields.set_values(uow, shop.id, {"kanal_zgloszenia": "sklep"})
        custom_fields.set_values(uow, online.id, {"kanal_zgloszenia": "online"})
    with gateway.uow() as uow:
        tasks.set_status(uow, shop.id, TaskStatus.WAITING)
        tasks.set_status(uow, online.id, TaskStatus.WAITING)
    notify_round(gateway.database, gateway.settings)
    assert len(_queued(gateway, shop.id)) == 1
    assert _queued(gateway, online.id) == []
