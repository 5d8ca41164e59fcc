"""What a client's PUT says about the owner's pop-up reminders, stored through the service.

Only in the employee's own lists (``<login>/tasks``, ``<login>/planned``), where our VALARMs are
that employee's reminders. Like task fields, only real differences are written, so a client
that sends back what it got changes nothing (and the ETag stays):

* one of our VALARMs that is gone deletes its reminder, if the stored text shows it (a client
  with a copy from before the reminder was set gets 412 on If-Match: the projection is brought
  up to date before the check);
* a TRIGGER that differs from the one the client was shown moves the reminder, when the new
  time can be stored exactly (a relative alarm that only followed a new date is no move);
* Thunderbird's ``X-MOZ-LASTACK`` (or RFC 9074 ``ACKNOWLEDGED`` on our VALARM) acknowledges,
  ``X-MOZ-SNOOZE-TIME`` snoozes. Missing X-MOZ properties clear nothing, except that a fresh
  acknowledgement without a snooze time ends the snooze (that is how Thunderbird dismisses a
  snoozed alarm).

The client's own VALARMs (any other UID) stay the client's: they are kept in the text as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Employee, Task, TaskReminder
from hermes_groupware.models.reminder import ReminderAnchor
from hermes_groupware.services import reminders
from sync import ical, projection

log = logging.getLogger(__name__)


@dataclass
class _Edit:
    """One PUT's alarm write-back: the task as rendered, and what the client sent."""

    uow: UnitOfWork
    data: ical.TaskData
    component: str
    client: ical.ClientAlarmState
    shown: dict[str, ical.Trigger]
    loose: list[ical.ClientAlarm] = field(default_factory=list)

    def alarm(self, reminder: TaskReminder, alarm: ical.AlarmData) -> bool:
        """Apply what the client did to one of our alarms; False when it deleted it."""
        trigger = ical.alarm_trigger(self.data, self.component, alarm)
        was = self.shown.get(alarm.uid, trigger)
        sent = next((a for a in self.client.alarms if a.uid == alarm.uid), None)
        if sent is None:  # a client that drops alarm UIDs: the same trigger is the same alarm
            sent = next((a for a in self.loose if a.trigger in (trigger, was)), None)
            if sent is not None:
                self.loose.remove(sent)
        if sent is None:
            if alarm.uid in self.shown:
                reminders.delete_reminder(self.uow, reminder.id)
                return False
            return True
        if sent.trigger not in (trigger, was):  # moved by the client, not by a new task date
            self.move(reminder, sent.trigger)
        if sent.acknowledged is not None:
            reminders.acknowledge(self.uow, reminder.id, sent.acknowledged)
        return True

    def move(self, reminder: TaskReminder, trigger: ical.Trigger) -> None:
        """The client moved our alarm: store the new time, when it can be stored exactly."""
        form = ical.reminder_time(self.data, self.component, trigger)
        if form is None:
            log.info("reminder %s: client trigger %s cannot be stored", reminder.id, trigger)
            return
        relative_to, offset, at = form
        try:
            reminders.reschedule(
                self.uow,
                reminder.id,
                at=at,
                relative_to=ReminderAnchor(relative_to) if relative_to else None,
                offset_minutes=offset,
            )
        except InvalidInput as exc:  # the alarm keeps its stored time; the client gets it back
            log.info("reminder %s: client trigger refused: %s", reminder.id, exc.message)

    def state(self, kept: list[TaskReminder], previous_ack: dt.datetime | None) -> None:
        """Thunderbird's dismiss and snooze, for all the owner's alarms on the item."""
        last_ack, snooze = self.client.last_ack, self.client.snooze
        fresh_ack = last_ack is not None and (previous_ack is None or last_ack > previous_ack)
        for reminder in kept:
            if last_ack is not None:
                reminders.acknowledge(self.uow, reminder.id, last_ack)
            if snooze is not None:
                reminders.snooze(self.uow, reminder.id, snooze)
            elif reminder.snoozed_until is not None and (
                fresh_ack or reminder.snoozed_until <= self.uow.now()
            ):
                reminders.snooze(self.uow, reminder.id, None)


def apply_alarm_edit(uow: UnitOfWork, key: str, task_id: int, text: str, shown: str | None) -> None:
    """Store what the owner's client says about their pop-up reminders on the task (after the
    task fields were applied); ``shown`` is the text the client was given."""
    if projection.owner_of(key) != uow.actor.login or uow.actor.employee_id is None:
        return
    mine = reminders.own_popups(uow, task_id)
    if not mine:
        return
    component = projection.component_of(key)
    client = ical.read_alarms(text, component)
    data = projection.task_data_for(uow.session, [task_id])[task_id]
    loose = [a for a in client.alarms if a.uid is None]
    edit = _Edit(uow, data, component, client, _shown(shown, component), loose)
    task = uow.session.get_one(Task, task_id)
    zone = reminders.zone_of(uow.session.get_one(Employee, uow.actor.employee_id).time_zone)
    previous_ack = max((r.acknowledged_at for r in mine if r.acknowledged_at), default=None)
    kept = []
    for reminder in mine:
        alarm = projection.alarm_of(reminder, task, zone)
        if alarm is None or edit.alarm(reminder, alarm):  # not shown while the date is missing
            kept.append(reminder)
    edit.state(kept, previous_ack)


def _shown(text: str | None, component: str) -> dict[str, ical.Trigger]:
    """Our alarms in the text the client was given, by UID, with their triggers."""
    if text is None:
        return {}
    try:
        alarms = ical.read_alarms(text, component).alarms
    except ical.InvalidCalendarData:
        return {}
    return {a.uid: a.trigger for a in alarms if a.uid}
