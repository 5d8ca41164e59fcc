"""The audit log: admin actions are recorded by the services, in their own transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import AuditEntry
from hermes_groupware.models.enums import AccessLevel, AuditSource, Source
from hermes_groupware.services import api_tokens, audit, directory, feeds, registers
from hermes_groupware.services.feeds import FeedSpec
from hermes_groupware.services.registers import RegisterChanges
from tests.factories import Factory

SECRET = "s" * 32


def test_admin_actions_are_recorded_with_actor_object_and_details(
    uow: UnitOfWork, make: Factory
) -> None:
    admin = make.employee("admin", is_admin=True)
    jan = make.employee("jan")
    as_admin = make.as_(admin)
    registers.update_register(as_admin, make.register("HAN").code, RegisterChanges(name="Handel"))
    registers.grant(as_admin, "HAN", AccessLevel.EDIT, login="jan")
    feed, _ = feeds.create_feed(
        as_admin, FeedSpec(name="Jan", owner="jan", employee="jan"), secret=SECRET
    )
    token = feeds.rotate(as_admin, feed.id, secret=SECRET)
    feeds.revoke(as_admin, feed.id)
    view, secret_token = api_tokens.issue_for(
        as_admin, "jan", name="ERP", scopes=["read"], lifetime=dt.timedelta(days=1)
    )
    api_tokens.revoke_any(as_admin, view.id)

    log = audit.entries(as_admin)
    assert [e.action for e in reversed(log)][-7:] == [
        "register.update",
        "register.grant",
        "feed.create",
        "feed.rotate",
        "feed.revoke",
        "api_token.create",
        "api_token.revoke",
    ]
    newest = log[0]
    assert (newest.actor, newest.object_type, newest.object_id) == (
        "admin",
        "api_token",
        str(view.id),
    )
    assert newest.source == AuditSource.CLI.value  # the uow fixture acts from the CLI
    issued = log[1]
    assert issued.actor == "admin"  # the issuer, not the token's owner
    assert issued.details == {"name": "ERP", "scopes": ["read"]}
    grant = log[5]
    assert grant.details == {"group": None, "level": "edit", "login": "jan"}
    everything = str([e.details for e in log])
    assert token not in everything and secret_token not in everything  # never a secret
    assert jan.login in everything


def test_only_admins_read_it_and_filters_apply(uow: UnitOfWork, make: Factory) -> None:
    with freeze_time("2026-11-01 10:00"):
        admin = make.employee("admin", is_admin=True)
        jan = make.employee("jan")
        make.register("REK")  # by the system actor (no employee): "system"
    with freeze_time("2026-11-20 10:00"):
        directory.add_group(make.as_(admin), "handlowcy", "Handlowcy")
    with pytest.raises(PermissionDenied):
        audit.entries(make.as_(jan))
    since = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    assert [e.action for e in audit.entries(uow, since=since)] == ["group.create"]
    assert [e.action for e in audit.entries(uow, actor="admin")] == ["group.create"]
    system = [e for e in audit.entries(uow) if e.action == "register.create"]
    assert [e.actor for e in system] == ["system"]
    with pytest.raises(InvalidInput):
        audit.entries(uow, actor="nobody")


def test_a_failed_action_leaves_no_entry(fresh_database: Database) -> None:

    admin = Actor.system("test")
    with fresh_database.unit_of_work(admin, Source.API) as uow:
        directory.add_group(uow, "serwis", "Serwis")

    def failing_request() -> None:
        with fresh_database.unit_of_work(admin, Source.API) as uow:
            directory.add_group(uow, "zwroty", "Zwroty")
            raise RuntimeError("the request failed after the service call")

    with pytest.raises(RuntimeError):
        failing_request()
    with fresh_database.unit_of_work(admin, Source.API, read_only=True) as uow:
        rows = uow.session.scalars(select(AuditEntry)).all()
    assert [(r.action, r.object_id, r.source) for r in rows] == [
        ("group.create", "serwis", AuditSource.API)
    ]
