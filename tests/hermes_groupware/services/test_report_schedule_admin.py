"""Saving report schedules: validation, several reports per schedule, who may do what, and
re-planning on every save."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import func, select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import ReportRecipient, ReportRun, ReportSchedule
from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind
from hermes_groupware.services import directory
from hermes_groupware.services.report_schedule_admin import (
    ScheduleSpec,
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    upcoming,
    update_schedule,
)
from hermes_groupware.services.report_schedules import run_now
from tests.factories import Factory

# Monday 30 November 2026, 06:59:30 in Warsaw (UTC+1)
NOW = dt.datetime(2026, 11, 30, 5, 59, 30, tzinfo=dt.UTC)


def _utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(NOW) as frozen:
        assert isinstance(frozen, FrozenDateTimeFactory)
        yield frozen


def _spec(**fields: object) -> ScheduleSpec:
    defaults: dict[str, object] = {
        "name": "Przeterminowane",
        "reports": [ReportKind.OVERDUE],
        "cron": "0 8 * * MON",
        "recipients": ["director"],
    }
    return ScheduleSpec(**(defaults | fields))  # type: ignore[arg-type]


def test_a_schedule_is_saved_with_defaults_and_planned(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    view = create_schedule(
        uow,
        _spec(
            formats=[ReportFormat.XLSX, ReportFormat.CSV], params={"overdue": {"register": "HAN"}}
        ),
    )
    assert view.time_zone == "Europe/Warsaw" and view.locale is Locale.PL
    assert view.formats == (ReportFormat.HTML, ReportFormat.CSV, ReportFormat.XLSX)
    assert view.owner == "director"  # the system actor is no employee: the first recipient
    assert view.reports == (ReportKind.OVERDUE,)
    assert view.recipients == ("director",) and view.params == {"overdue": {"register": "HAN"}}
    assert view.enabled and not view.skip_if_empty and view.grace_minutes is None
    assert view.next_fire_at == _utc(30, 7)  # today 08:00 local
    assert [f"{w:%d.%m %H:%M}" for w in upcoming(view, NOW, 2)] == ["30.11 08:00", "07.12 08:00"]
    assert view.version == 1 and view.last_run is None


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"cron": "0 8 * * MONDAY"}, "cron", "day-of-week"),
        ({"cron": "every monday"}, "cron", "5 fields"),
        ({"reports": ["forecast"]}, "reports", "unknown report 'forecast'"),
        ({"reports": ["overdue", "pipeline", "overdue"]}, "reports", "'overdue' is given twice"),
        ({"reports": []}, "reports", "required"),
        ({"time_zone": "Europe/Warszawa"}, "time_zone", "unknown time zone"),
        ({"recipients": ["nobody"]}, "to", "no employee or group 'nobody'"),
        ({"recipients": ["group:ghosts"]}, "to", "no group 'ghosts'"),
        ({"recipients": ["jan@@firma"]}, "to", "not an e-mail address"),
        ({"recipients": ["szef@klient.pl"]}, "to", "no register allows outside recipients"),
        ({"formats": ["docx"]}, "formats", "unknown formats 'docx'"),
        ({"grace_minutes": -1}, "grace_minutes", "0 to"),
        ({"params": ["not", "an", "object"]}, "params", "JSON object keyed by report"),
        ({"params": {"overdue": "register=HAN"}}, "params.overdue", "JSON object"),
        ({"params": {"pipeline": {}}}, "params.pipeline", "not a report of this schedule"),
        ({"cron": None}, "cron", "required"),
        ({"name": "  "}, "name", "1 to 200 characters"),
        (
            {"reports": ["overdue", "view"], "params": {"view": {"view": "Moje"}}},
            "params.view.view",
            "no saved view named 'Moje'",
        ),
    ],
)
def test_bad_input_is_rejected_when_saved(
    uow: UnitOfWork, make: Factory, fields: dict[str, object], field: str, words: str
) -> None:
    make.employee("director")
    with pytest.raises(InvalidInput) as caught:
        create_schedule(uow, _spec(**fields))
    assert caught.value.field == field
    assert words in caught.value.message


def test_an_owner_is_needed_when_nobody_can_be_inferred(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    directory.add_group(uow, "sales", "Handlowcy")
    with pytest.raises(InvalidInput) as caught:
        create_schedule(uow, _spec(recipients=["sales"]))
    assert caught.value.field == "owner"
    assert create_schedule(uow, _spec(recipients=["sales"], owner="director")).owner == "director"


def test_names_are_unique(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    create_schedule(uow, _spec())
    with pytest.raises(InvalidInput, match="already exists"):
        create_schedule(uow, _spec(name=" Przeterminowane "))


def test_an_employee_manages_own_schedules_sent_to_themselves(
    uow: UnitOfWork, make: Factory
) -> None:
    director = make.employee("director")
    rep = make.employee("rep", email="rep@firma.pl")
    theirs = create_schedule(uow, _spec())
    me = make.as_(rep)
    with pytest.raises(PermissionDenied, match="only to yourself"):
        create_schedule(me, _spec(name="Mine", recipients=["director"]))
    with pytest.raises(PermissionDenied, match="another owner"):
        create_schedule(me, _spec(name="Mine", recipients=["rep"], owner="director"))
    mine = create_schedule(me, _spec(name="Mine", recipients=["REP@firma.pl"]))
    assert mine.owner == "rep" and mine.recipients == ("rep",)
    assert [s.name for s in list_schedules(me)] == ["Mine"]
    assert [s.name for s in list_schedules(uow)] == ["Mine", "Przeterminowane"]
    for action in (
        lambda: get_schedule(me, theirs.id),
        lambda: update_schedule(me, theirs.id, ScheduleSpec(enabled=False)),
        lambda: delete_schedule(me, theirs.id),
        lambda: run_now(me, theirs.id),
    ):
        with pytest.raises(NotFound):
            action()
    assert update_schedule(me, mine.id, ScheduleSpec(cron="0 7 * * *")).cron == "0 7 * * *"
    assert director.login == get_schedule(uow, theirs.id).owner


def test_an_edit_re_plans_and_takes_effect_on_the_next_tick(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    view = create_schedule(uow, _spec())
    assert view.next_fire_at == _utc(30, 7)
    earlier = update_schedule(uow, view.id, ScheduleSpec(cron="0 7 * * MON"))
    assert earlier.next_fire_at == _utc(30, 6) and earlier.version == 2
    disabled = update_schedule(uow, view.id, ScheduleSpec(enabled=False))
    assert disabled.next_fire_at is None and upcoming(disabled, NOW) == []
    enabled = update_schedule(uow, view.id, ScheduleSpec(enabled=True, time_zone="UTC"))
    assert enabled.next_fire_at == _utc(30, 7) and enabled.version == 4


def test_an_edit_does_not_swallow_an_occurrence_already_due(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    make.employee("deputy")
    view = create_schedule(uow, _spec())
    clock.move_to(_utc(30, 7, 0) + dt.timedelta(seconds=10))  # 08:00:10, before the next tick
    edited = update_schedule(uow, view.id, ScheduleSpec(recipients=["deputy"]))
    assert edited.next_fire_at == _utc(30, 7)
    later = update_schedule(uow, view.id, ScheduleSpec(cron="0 9 * * MON"))
    assert later.next_fire_at == _utc(30, 8)


def test_update_changes_what_it_is_given_and_resets_grace(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    make.employee("deputy")
    view = create_schedule(uow, _spec(grace_minutes=60))
    changed = update_schedule(
        uow,
        view.id,
        ScheduleSpec(
            name="Zaległe",
            reports=[ReportKind.PIPELINE],
            params={"pipeline": {"months": 2}},
            recipients=["deputy"],
            formats=[ReportFormat.PDF],
            skip_if_empty=True,
            locale=Locale.EN,
            owner="deputy",
        ),
    )
    assert (changed.name, changed.reports) == ("Zaległe", (ReportKind.PIPELINE,))
    assert changed.params == {"pipeline": {"months": 2}}
    assert changed.recipients == ("deputy",) and changed.owner == "deputy"
    assert changed.formats == (ReportFormat.HTML, ReportFormat.PDF)
    assert changed.skip_if_empty and changed.locale is Locale.EN and changed.grace_minutes == 60
    assert update_schedule(uow, view.id, ScheduleSpec(default_grace=True)).grace_minutes is None
    with pytest.raises(InvalidInput):
        update_schedule(uow, view.id, ScheduleSpec(recipients=[]))


def test_several_reports_are_one_schedule_in_the_order_given(
    uow: UnitOfWork, make: Factory
) -> None:
    """The director's Monday: pipeline first, then overdue, parameters kept per report."""
    make.employee("director")
    view = create_schedule(
        uow,
        _spec(reports=["pipeline", ReportKind.OVERDUE], params={"pipeline": {"months": 3}}),
    )
    assert view.reports == (ReportKind.PIPELINE, ReportKind.OVERDUE)
    assert view.params == {"pipeline": {"months": 3}, "overdue": {}}
    row = uow.session.get_one(ReportSchedule, view.id)
    assert row.reports == "pipeline,overdue"
    assert json.loads(row.params) == {"overdue": {}, "pipeline": {"months": 3}}
    (listed,) = list_schedules(uow)
    assert listed.reports == view.reports and listed.params == view.params


def test_a_new_list_of_reports_keeps_the_parameters_of_those_that_stay(
    uow: UnitOfWork, make: Factory
) -> None:
    make.employee("director")
    view = create_schedule(
        uow,
        _spec(
            reports=["overdue", "pipeline"],
            params={"overdue": {"register": "HAN"}, "pipeline": {"months": 3}},
        ),
    )
    swapped = update_schedule(uow, view.id, ScheduleSpec(reports=["activity", "pipeline"]))
    assert swapped.reports == (ReportKind.ACTIVITY, ReportKind.PIPELINE)
    assert swapped.params == {"activity": {}, "pipeline": {"months": 3}}
    tuned = update_schedule(uow, view.id, ScheduleSpec(params={"activity": {"weeks": 2}}))
    assert tuned.params == {"activity": {"weeks": 2}, "pipeline": {"months": 3}}
    cleared = update_schedule(uow, view.id, ScheduleSpec(params={"pipeline": {}}))
    assert cleared.params == {"activity": {"weeks": 2}, "pipeline": {}}
    with pytest.raises(InvalidInput) as caught:
        update_schedule(uow, view.id, ScheduleSpec(params={"overdue": {"register": "HAN"}}))
    assert caught.value.field == "params.overdue"
    with pytest.raises(InvalidInput, match="at least one report"):
        update_schedule(uow, view.id, ScheduleSpec(reports=[]))
    assert get_schedule(uow, view.id).reports == (ReportKind.ACTIVITY, ReportKind.PIPELINE)


def test_delete_removes_recipients_and_runs(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    view = create_schedule(uow, _spec())
    run_now(uow, view.id)
    delete_schedule(uow, view.id)
    for model in (ReportRecipient, ReportRun):
        assert uow.session.scalar(select(func.count()).select_from(model)) == 0
    with pytest.raises(NotFound):
        get_schedule(uow, view.id)
