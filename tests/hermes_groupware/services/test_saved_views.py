"""Saved views: definitions, filters, sort, rights and life cycle."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import ReportSchedule, SavedView
from hermes_groupware.models.enums import AccessLevel, DelegationMode, ViewAudience
from hermes_groupware.services import delegation, directory, saved_views
from hermes_groupware.services.tasks import add_subtask
from tests.factories import Factory
from tests.hermes_groupware.services.view_world import NOW, World, build_world

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def _run(uow: UnitOfWork, definition: dict[str, Any]) -> set[str]:
    """The subjects the view of ``definition`` shows the admin at NOW, in Warsaw."""
    saved_views.create_view(uow, name="probe", definition=definition, owner="anna")
    with freeze_time(NOW):
        rows = saved_views.run_view(uow, "probe", zone=WARSAW).rows
    return {row.values["subject"] for row in rows}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({}, "t1 t2 t3 t5 t6"),
        ({"include_closed": True}, "t1 t2 t3 t4 t5 t6"),
        ({"statuses": ["done"]}, "t4"),
        ({"registers": ["rk"]}, "t6"),
        ({"priorities": ["high", "low"]}, "t1 t5"),
        ({"assignee": "bartek"}, "t2"),
        ({"group": "sprzedaz"}, "t1 t3 t5 t6"),
        ({"overdue": True}, "t1 t2"),
        ({"overdue": False}, "t3 t5 t6"),
        ({"due_from": "today", "due_to": "today"}, "t2"),
        ({"due_to": "-1"}, "t1"),
        ({"due_from": "+1", "due_to": "+8"}, "t3 t6"),
        ({"due_from": "2026-12-05"}, "t6"),
        ({"text": "łódź"}, "t1"),
        ({"text": "vip"}, "t1"),
        ({"text": "rk/2026"}, "t6"),
        ({"text": "100%"}, ""),
        ({"fields": {"partia": "P-200"}}, "t6"),
        ({"fields": {"partia": "p-100"}, "include_closed": True}, "t4"),
        ({"fields": {"wartosc": "1500,50"}, "statuses": ["done"]}, "t4"),
        ({"fields": {"pilne": True}}, "t3"),
        ({"created_to": "-1"}, ""),
        (
            {"created_from": "today", "registers": ["RK", "HN"], "priorities": ["normal"]},
            "t2 t3 t6",
        ),
    ],
)
def test_each_filter_selects_its_tasks(
    uow: UnitOfWork, world: World, definition: dict[str, Any], expected: str
) -> None:
    assert _run(uow, definition) == (world.subjects(expected) if expected else set())


def test_customer_filter(uow: UnitOfWork, world: World) -> None:
    assert _run(uow, {"customer_id": world.customer_id}) == world.subjects("t1")


def test_relative_dates_follow_the_clock_and_the_viewers_zone(
    uow: UnitOfWork, world: World
) -> None:
    """Today in Warsaw ends at 23:00 UTC: t3 (23:30 UTC) is due tomorrow there, today in UTC."""
    saved_views.create_view(
        uow, name="today", definition={"due_from": "today", "due_to": "today"}, owner="anna"
    )
    saved_views.create_view(
        uow, name="next week", definition={"due_from": "+1", "due_to": "+8"}, owner="anna"
    )

    def subjects(name: str, zone: ZoneInfo) -> set[str]:
        return {r.values["subject"] for r in saved_views.run_view(uow, name, zone=zone).rows}

    with freeze_time(NOW):
        assert subjects("today", WARSAW) == world.subjects("t2")
        assert subjects("today", ZoneInfo("UTC")) == world.subjects("t2 t3")
    with freeze_time(NOW + dt.timedelta(days=7)):
        assert subjects("next week", WARSAW) == world.subjects("t6")
    with freeze_time(NOW + dt.timedelta(days=9)):
        assert subjects("next week", WARSAW) == set()


def test_an_employee_runs_a_view_in_their_own_zone(
    uow: UnitOfWork, world: World, make: Factory
) -> None:
    dawid = make.employee("dawid", time_zone="UTC")
    saved_views.create_view(
        uow,
        name="today",
        definition={"due_from": "today", "due_to": "today"},
        owner="anna",
        audience=ViewAudience.EVERYONE,
    )
    with freeze_time(NOW):
        as_anna = make.as_(world.anna)
        assert {r.values["subject"] for r in saved_views.run_view(as_anna, "today").rows} == (
            world.subjects("t2")
        )
        as_dawid = make.as_(dawid)
        assert {r.values["subject"] for r in saved_views.run_view(as_dawid, "today").rows} == (
            world.subjects("t2 t3")
        )


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"registers": ["NOPE"]}, "registers"),
        ({"registers": "HN"}, "registers"),
        ({"statuses": ["open"]}, "statuses"),
        ({"priorities": []}, "priorities"),
        ({"assignee": "nobody"}, "assignee"),
        ({"group": "nikt"}, "group"),
        ({"customer_id": "1"}, "customer_id"),
        ({"customer_id": 999_999}, "customer_id"),
        ({"overdue": "yes"}, "overdue"),
        ({"due_from": "tomorrow"}, "due_from"),
        ({"created_to": "2026-13-01"}, "created_to"),
        ({"due_from": "2026-12-10", "due_to": "2026-12-01"}, "due_to"),
        ({"due_from": "+5", "due_to": "today"}, "due_to"),
        ({"fields": {"nope": "x"}}, "fields.nope"),
        ({"fields": {"wartosc": "dużo"}}, "fields.wartosc"),
        ({"fields": {"pilne": "może"}}, "fields.pilne"),
        ({"fields": []}, "fields"),
        ({"text": " "}, "text"),
        ({"statuses": ["done"], "include_closed": True}, "include_closed"),
    ],
)
def test_bad_definitions_name_the_key(
    uow: UnitOfWork, world: World, definition: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        saved_views.create_view(uow, name="bad", definition=definition, owner="anna")
    assert error.value.field == field


def test_mixed_relative_and_absolute_bounds_are_accepted(uow: UnitOfWork, world: World) -> None:
    """Whether "+5 .. 2026-12-01" is empty depends on the day it runs, so it is allowed."""
    view = saved_views.create_view(
        uow, name="v", definition={"due_from": "+5", "due_to": "2026-12-01"}, owner="anna"
    )
    assert view.definition == {"due_from": "+5", "due_to": "2026-12-01"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"columns": ["subject", "parent"]}, "columns"),
        ({"columns": ["subject", "subject"]}, "columns"),
        ({"columns": ["field:nope"]}, "columns"),
        ({"sort": ["field:partia"]}, "sort"),
        ({"sort": ["due", "-due"]}, "sort"),
        ({"audience": ViewAudience.GROUPS}, "groups"),
        ({"audience": ViewAudience.EVERYONE, "groups": ["sprzedaz"]}, "groups"),
        ({"audience": ViewAudience.GROUPS, "groups": ["nikt"]}, "groups"),
        ({"owner": "nobody"}, "owner"),
    ],
)
def test_bad_columns_sort_audience_and_names(
    uow: UnitOfWork, world: World, kwargs: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {"name": "v", "definition": {}, "owner": "anna"} | kwargs
    with pytest.raises(InvalidInput) as error:
        saved_views.create_view(uow, **values)
    assert error.value.field == field


def test_a_view_is_stored_normalised_with_its_defaults(uow: UnitOfWork, world: World) -> None:
    info = saved_views.create_view(
        uow,
        name="  Reklamacje  ",
        definition={"registers": ["rk", "RK"], "due_from": "TODAY", "overdue": True},
        owner="anna",
        description="Zaległe reklamacje",
    )
    assert (info.name, info.owner, info.audience, info.version) == (
        "Reklamacje",
        "anna",
        "private",
        1,
    )
    assert info.definition == {"due_from": "today", "overdue": True, "registers": ["RK"]}
    assert info.columns == [
        "number",
        "register",
        "subject",
        "status",
        "due",
        "responsible",
        "customer",
    ]
    assert info.sort == ["due", "number"]
    with pytest.raises(InvalidInput, match="exists"):
        saved_views.create_view(uow, name="Reklamacje", definition={}, owner="anna")
    stored = uow.session.get_one(SavedView, info.id)
    assert json.loads(stored.definition) == info.definition


def test_rows_carry_typed_values_custom_fields_and_overdue(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(
        uow,
        name="v",
        definition={"include_closed": True, "registers": ["RK", "HN"]},
        columns=["number", "due", "responsible", "overdue", "field:wartosc", "field:pilne"],
        sort=["number"],
        owner="anna",
    )
    with freeze_time(NOW):
        result = saved_views.run_view(uow, "v")
    assert result.columns == [
        "number",
        "due",
        "responsible",
        "overdue",
        "field:wartosc",
        "field:pilne",
    ]
    assert result.field_labels == {"wartosc": "Wartość", "pilne": "Pilne"}
    by_number = {row.values["number"]: row for row in result.rows}
    t1 = by_number[world.tasks["t1"].number]
    assert t1.values["due"] == dt.date(2026, 11, 26)
    assert t1.overdue and t1.values["overdue"] is True
    assert t1.values["responsible"] == world.anna.name == "Jan Testowy1"
    t2 = by_number[world.tasks["t2"].number]
    assert t2.values["due"] == dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    t4 = by_number[world.tasks["t4"].number]
    assert t4.values["field:wartosc"] == Decimal("1500.5")
    assert not t4.overdue
    assert by_number[world.tasks["t3"].number].values["field:pilne"] is True
    assert by_number[world.tasks["t5"].number].values["field:wartosc"] is None
    assert set(t1.values) == set(result.columns)


def test_sort_keys_directions_and_empty_values_last(uow: UnitOfWork, world: World) -> None:
    def order(sort: list[str]) -> list[str]:
        name = ",".join(sort)
        saved_views.create_view(uow, name=name, definition={}, sort=sort, owner="anna")
        with freeze_time(NOW):
            rows = saved_views.run_view(uow, name).rows
        keys = {t.subject: k for k, t in world.tasks.items()}
        return [keys[r.values["subject"]] for r in rows]

    assert order(["due", "number"]) == ["t1", "t2", "t3", "t6", "t5"]
    assert order(["-due"]) == ["t6", "t3", "t2", "t1", "t5"]
    assert order(["priority", "number"]) == ["t1", "t2", "t3", "t6", "t5"]
    assert order(["status", "-number"]) == ["t5", "t3", "t2", "t1", "t6"]
    assert order(["-overdue", "-number"]) == ["t2", "t1", "t6", "t5", "t3"]
    assert order(["responsible", "number"])[:1] == ["t1"]  # anna's surname sorts first


def test_limit_keeps_the_total(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(uow, name="v", definition={}, owner="anna")
    with freeze_time(NOW):
        limited = saved_views.run_view(uow, "v", limit=2)
        assert (len(limited.rows), limited.total) == (2, 5)
        assert saved_views.run_view(uow, "v").total == 5
        with pytest.raises(InvalidInput):
            saved_views.run_view(uow, "v", limit=0)


def test_who_may_use_a_view(uow: UnitOfWork, world: World, make: Factory) -> None:
    as_anna, as_bartek = make.as_(world.anna), make.as_(world.bartek)
    saved_views.create_view(as_anna, name="private", definition={})
    saved_views.create_view(
        as_anna,
        name="team",
        definition={},
        audience=ViewAudience.GROUPS,
        groups=["sprzedaz"],
    )
    saved_views.create_view(as_anna, name="all", definition={}, audience=ViewAudience.EVERYONE)
    assert [v.name for v in saved_views.list_views(as_anna)] == ["all", "private", "team"]
    assert [v.name for v in saved_views.list_views(as_bartek)] == ["all"]
    assert [v.name for v in saved_views.list_views(uow)] == ["all", "private", "team"]
    for name in ("private", "team", "does not exist"):
        with pytest.raises(NotFound, match="not found") as error:
            saved_views.get_view(as_bartek, name)
        assert error.value.message == f"view {name!r} not found"
        with pytest.raises(NotFound):
            saved_views.run_view(as_bartek, name)
    assert saved_views.get_view(as_anna, "team").groups == ["sprzedaz"]
    directory.add_member(uow, "sprzedaz", "bartek")
    assert "team" in [v.name for v in saved_views.list_views(as_bartek)]


def test_only_owner_or_admin_changes_a_view(uow: UnitOfWork, world: World, make: Factory) -> None:
    as_anna, as_bartek = make.as_(world.anna), make.as_(world.bartek)
    saved_views.create_view(as_anna, name="all", definition={}, audience=ViewAudience.EVERYONE)
    with pytest.raises(PermissionDenied):
        saved_views.update_view(as_bartek, "all", description="mine now")
    with pytest.raises(PermissionDenied):
        saved_views.delete_view(as_bartek, "all")
    with pytest.raises(PermissionDenied):
        saved_views.create_view(as_bartek, name="for anna", definition={}, owner="anna")
    with pytest.raises(PermissionDenied):
        saved_views.update_view(as_anna, "all", owner="bartek")
    assert saved_views.create_view(uow, name="by admin", definition={}, owner="bartek").owner == (
        "bartek"
    )
    with pytest.raises(InvalidInput) as error:
        saved_views.create_view(uow, name="ownerless", definition={})
    assert error.value.field == "owner"
    assert saved_views.update_view(uow, "all", owner="bartek").owner == "bartek"
    saved_views.update_view(as_bartek, "all", description="now mine")


def test_update_bumps_the_version_and_replaces_what_is_given(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(
        uow,
        name="v",
        definition={"registers": ["HN"]},
        audience=ViewAudience.GROUPS,
        groups=["sprzedaz"],
        owner="anna",
    )
    info = saved_views.update_view(uow, "v", new_name="w", sort=["-due"])
    assert (info.name, info.version, info.sort, info.definition) == (
        "w",
        2,
        ["-due"],
        {"registers": ["HN"]},
    )
    assert info.groups == ["sprzedaz"]
    info = saved_views.update_view(uow, "w", audience=ViewAudience.EVERYONE)
    assert (info.audience, info.groups, info.version) == ("everyone", [], 3)
    with pytest.raises(InvalidInput):
        saved_views.update_view(uow, "w", definition={"registers": ["NOPE"]})
    with pytest.raises(NotFound):
        saved_views.get_view(uow, "v")


def test_views_in_use_are_not_deleted_or_renamed(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(uow, name="v", definition={}, owner="anna")
    uow.session.add(
        ReportSchedule(
            name="poniedziałki",
            reports="overdue,view",
            params=json.dumps({"overdue": {}, "view": {"view": "v"}}),
            cron="0 8 * * MON",
            owner_id=world.anna.id,
        )
    )
    uow.session.flush()
    with pytest.raises(Conflict, match="poniedziałki"):
        saved_views.delete_view(uow, "v")
    with pytest.raises(Conflict, match="poniedziałki"):
        saved_views.update_view(uow, "v", new_name="w")
    saved_views.update_view(uow, "v", description="still usable")
    saved_views.create_view(uow, name="free", definition={}, owner="anna")
    saved_views.delete_view(uow, "free")
    with pytest.raises(NotFound):
        saved_views.get_view(uow, "free")


def test_rights_of_the_runner_apply_and_hidden_parents_never_leak(
    uow: UnitOfWork, world: World, make: Factory
) -> None:
    """cezary may not read RK; a sub-task delegated to him hiding its private parent shows
    alone, and a text search for the parent's subject finds nothing."""
    saved_views.create_view(
        uow,
        name="all",
        definition={"include_closed": True},
        columns=["number", "subject"],
        audience=ViewAudience.EVERYONE,
        owner="anna",
    )
    saved_views.create_view(
        uow,
        name="secret",
        definition={"text": "poufny"},
        audience=ViewAudience.EVERYONE,
        owner="anna",
    )
    secret = make.register("PV", default_access=AccessLevel.NONE)
    with freeze_time(NOW):
        parent = make.task(secret, world.anna, "Przetarg poufny", private=True)
        sub = add_subtask(uow, parent.id, subject="Ocena techniczna", responsible_id=world.anna.id)
        delegation.delegate(uow, sub.id, "cezary", DelegationMode.HIDE_PARENT)
        as_cezary = make.as_(world.cezary)
        seen = saved_views.run_view(as_cezary, "all")
        assert {r.values["subject"] for r in seen.rows} == world.subjects("t1 t2 t3 t5") | {
            "Ocena techniczna"
        }
        assert saved_views.run_view(as_cezary, "secret").rows == []
        assert {r.values["subject"] for r in saved_views.run_view(uow, "secret").rows} == {
            "Przetarg poufny"
        }
