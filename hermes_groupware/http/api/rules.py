"""``/rules``: notification rules (administrators; the service checks it too).

A rule is replaced whole (``PUT``), as ``rule update`` does: its parts depend on each other
(``lead_minutes`` on the event, a custom field on the register), so a partial change could
leave a rule that was never validated as a whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.http.api.errors import fields_renamed
from hermes_groupware.http.api.fields import Id, Text
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Operation
from hermes_groupware.models import NotificationRule, Register
from hermes_groupware.models.enums import (
    NotificationChannel,
    NotificationEvent,
    Priority,
    TaskStatus,
)
from hermes_groupware.services import notification_rules
from hermes_groupware.services.notification_rules import RuleSpec

_FIELDS = {
    "to": "recipients",
    "lead": "lead_minutes",
    "at": "at_local_time",
    "status": "from_status",
    "customer": "customer_id",
    "field": "field.key",
}
_RECIPIENTS_CHARS = 2000  # notification_rules.recipients


class RuleField(BaseModel):
    """Only tasks whose custom field ``key`` has ``value``."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[Text, Field(min_length=1, max_length=64)]
    value: Annotated[Text, Field(max_length=200)]


class RuleIn(BaseModel):
    """A whole rule: on ``event`` in the scope, tell ``recipients`` by ``channel``."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="shown in the mail footer; defaults to the event"
    )
    event: NotificationEvent
    recipients: Annotated[
        list[Annotated[Text, Field(min_length=1, max_length=260)]],
        Field(
            min_length=1,
            max_length=30,
            description="assignee, creator, watchers, manager, contact, LOGIN, group:SLUG "
            "or an e-mail address",
        ),
    ]
    channel: NotificationChannel = NotificationChannel.EMAIL
    register_code: Annotated[Text, Field(min_length=1, max_length=10)] | None = Field(
        None, alias="register", description="e.g. REK"
    )
    customer_id: Id | None = None
    priority: Priority | None = None
    from_status: TaskStatus | None = Field(None, description="status-changed only")
    to_status: TaskStatus | None = Field(None, description="status-changed only")
    lead_minutes: int | None = Field(None, ge=1, le=60 * 24 * 60, description="due-soon")
    at_local_time: Annotated[Text, Field(max_length=5)] | None = Field(
        None, description="overdue: not before HH:MM local time"
    )
    notify_actor: bool = Field(False, description="also tell who made the change")
    field: RuleField | None = None
    active: bool = Field(True, description="false keeps the rule but pauses it")


class RuleOut(BaseModel):
    """A rule as stored; ``register`` is its code."""

    model_config = ConfigDict(serialize_by_alias=True)

    id: int
    name: str
    event: NotificationEvent
    recipients: list[str]
    channel: NotificationChannel
    register_code: str | None = Field(alias="register")
    customer_id: int | None
    priority: Priority | None
    from_status: str | None
    to_status: str | None
    lead_minutes: int | None
    at_local_time: str | None
    notify_actor: bool
    field: RuleField | None
    active: bool
    created_at: dt.datetime


RuleList = Page[RuleOut]


def register(api: Api) -> None:
    """Add the rule operations (admin scope)."""
    tag, one = "rules", {"rule_id": ID_PARAM}
    api.add(Operation("GET", "/rules", list_rules, "Notification rules", tag, scope="admin",
                      response=RuleList))
    api.add(Operation("POST", "/rules", create_rule, "Add a rule", tag, scope="admin",
                      body=RuleIn, response=RuleOut, status=201))
    api.add(Operation("GET", "/rules/{rule_id}", get_rule, "One rule", tag, scope="admin",
                      response=RuleOut, params=one))
    api.add(Operation("PUT", "/rules/{rule_id}", replace_rule, "Replace a rule", tag,
                      scope="admin", body=RuleIn, response=RuleOut, params=one))
    api.add(Operation("DELETE", "/rules/{rule_id}", delete_rule,
                      "Delete a rule (what it queued is still sent)", tag, scope="admin",
                      status=204, params=one))  # fmt: skip


def list_rules(call: Call) -> RuleList:
    """In creation order."""
    with call.uow() as uow:
        rules = notification_rules.list_rules(uow)
        return RuleList(items=[_out(uow, r) for r in rules], next=None)


def create_rule(call: Call) -> RuleOut:
    """Validated whole; errors name the field."""
    body = call.body_as(RuleIn)
    with call.uow(write=True) as uow, fields_renamed(_FIELDS):
        rule = notification_rules.add_rule(uow, _spec(body), active=body.active)
        return _out(uow, rule)


def get_rule(call: Call, rule_id: int) -> RuleOut:
    """One rule."""
    with call.uow() as uow:
        return _out(uow, notification_rules.get_rule(uow, rule_id))


def replace_rule(call: Call, rule_id: int) -> RuleOut:
    """The whole definition is replaced."""
    body = call.body_as(RuleIn)
    with call.uow(write=True) as uow, fields_renamed(_FIELDS):
        notification_rules.update_rule(uow, rule_id, _spec(body), active=body.active)
        return _out(uow, notification_rules.get_rule(uow, rule_id))


def delete_rule(call: Call, rule_id: int) -> None:
    """For good."""
    with call.uow(write=True) as uow:
        notification_rules.delete_rule(uow, rule_id)


def _spec(body: RuleIn) -> RuleSpec:
    stored = sum(len(r) + len("email:,") for r in body.recipients)  # as normalised
    if stored > _RECIPIENTS_CHARS:
        raise InvalidInput("recipients", "too many; use a group:SLUG")
    return RuleSpec(
        name=body.name or body.event.value,
        event=body.event,
        recipients=tuple(body.recipients),
        channel=body.channel,
        register=body.register_code,
        customer_id=body.customer_id,
        priority=body.priority,
        from_status=body.from_status,
        to_status=body.to_status,
        lead_minutes=body.lead_minutes,
        at_local_time=body.at_local_time,
        notify_actor=body.notify_actor,
        field=(body.field.key, body.field.value) if body.field else None,
    )


def _out(uow: UnitOfWork, rule: NotificationRule) -> RuleOut:
    uow.session.flush()
    register = uow.session.get(Register, rule.register_id) if rule.register_id else None
    field = RuleField(key=rule.field_key, value=rule.field_value or "") if rule.field_key else None
    return RuleOut(
        id=rule.id,
        name=rule.name,
        event=rule.event,
        recipients=rule.recipients.split(","),
        channel=rule.channel,
        register=register.code if register else None,
        customer_id=rule.customer_id,
        priority=rule.priority,
        from_status=rule.from_status,
        to_status=rule.to_status,
        lead_minutes=rule.lead_minutes,
        at_local_time=rule.at_local_time,
        notify_actor=rule.notify_actor,
        field=field,
        active=rule.is_active,
        created_at=rule.created_at,
    )
