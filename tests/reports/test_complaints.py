"""The complaints timeliness report: ages, median, breaches, rights, demo data."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware import demo
from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Task
from hermes_groupware.models.enums import (
    OPEN_STATUSES,
    AccessLevel,
    DelegationMode,
    Locale,
    TaskStatus,
)
from hermes_groupware.services import access, delegation, directory, registers
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from hermes_groupware.services.tasks import set_status
from reports import complaints
from tests.factories import Factory
from tests.reports.reading import (
    column,
    context,
    counted_queries,
    everything_readable,
    keys,
    labels,
    run_report,
    totals,
    utc,
)

NOW = utc("2026-03-11", "09:00")  # Wednesday 10:00 in Warsaw; 90 days back: 2025-12-11


@dataclass
class Desk:
    """The complaints register, an admin, a handler in the complaints group and an outsider."""

    boss: Actor
    anna: Actor
    jan: Actor
    numbers: dict[str, str]

    def of(self, *keys_: str) -> list[str]:
        return [self.numbers[key] for key in keys_]


@pytest.fixture
def desk(make: Factory, uow: UnitOfWork) -> Iterator[Desk]:
    with freeze_time(NOW):
        boss = make.employee("szef", first_name="Ewa", last_name="Szefowa", is_admin=True)
        anna = make.employee("anna", first_name="Anna", last_name="Nowak")
        ola = make.employee("ola", first_name="Aleksandra", last_name="Wójcik")
        jan = make.employee("jan", first_name="Jan", last_name="Kowalski")
        directory.add_group(uow, "reklamacje", "Reklamacje")
        directory.add_member(uow, "reklamacje", "anna")
        rek = make.register("REK", default_access=AccessLevel.NONE)
        registers.grant(uow, "REK", AccessLevel.READ, group="reklamacje")
        han = make.register("HAN")
        client = make.customer("Zakład Żółwi sp. z o.o.")
    numbers: dict[str, str] = {}

    def task(
        key: str, created: str, who: object, register: object = rek, **changes: object
    ) -> Task:
        with freeze_time(created):
            made = make.task(register, who, f"Reklamacja {key}", **changes)  # type: ignore[arg-type]
        numbers[key] = made.number
        return made

    task("c1", "2026-03-09 09:00", anna, due=utc("2026-03-20"), all_day=True)
    task("c2", "2026-03-01 09:00", anna, due=utc("2026-03-08"), all_day=True)
    task("c3", "2026-02-24 08:00", anna, customer_id=client.id)
    task("c4", "2026-02-25 10:00", ola)
    task("c5", "2026-01-01 09:00", ola, due=utc("2026-03-01", "10:00"))
    task("c6", "2026-02-01 09:00", ola)
    done = {"status": TaskStatus.DONE}
    task("d1", "2026-02-01 09:00", ola, completed_at=utc("2026-02-06", "09:00"), **done)
    task("d2", "2026-01-10 09:00", anna, completed_at=utc("2026-02-09", "09:00"), **done)
    task("d3", "2026-02-20 00:00", anna, completed_at=utc("2026-03-06", "12:00"), **done)
    task("d4", "2025-09-01 09:00", anna, completed_at=utc("2025-11-01", "09:00"), **done)
    task("cancelled", "2026-01-01 09:00", anna, status=TaskStatus.CANCELLED)
    task("other-register", "2026-01-01 09:00", anna, han)
    parent = task("parent", "2026-01-15 09:00", anna, private=True)
    sub = task("sub", "2026-03-05 09:00", anna, parent=parent)
    delegation.delegate(uow, sub.id, "jan", DelegationMode.HIDE_PARENT)
    with freeze_time(NOW):
        yield Desk(make.actor(boss), make.actor(anna), make.actor(jan), numbers)


def test_the_admin_sees_all_complaints_in_polish(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(complaints, uow, desk.boss)
    assert result.title == "Terminowość reklamacji (REK)"
    assert result.period == "Stan na 2026-03-11; zamknięte od 2025-12-11; cel: 14 dni"
    assert [(f.label, f.value, f.kind) for f in result.figures] == [
        ("Otwarte", 8, "int"),
        ("Mediana dni do zamknięcia", Decimal("14.5"), "decimal"),
        ("Zamknięte w okresie", 3, "int"),
        ("Przekroczenia celu", 6, "int"),
    ]
    ages, open_, breaches = result.tables
    assert (ages.title, labels(ages)) == (
        "Otwarte reklamacje według wieku",
        ["Wiek (dni)", "Liczba"],
    )
    assert [(r.values["age"], r.values["count"]) for r in ages.rows] == [
        ("0–7", 2),
        ("8–14", 2),
        ("15–30", 1),
        ("31–60", 2),
        (">60", 1),
        ("Razem", 8),
    ]
    assert open_.title == "Otwarte reklamacje"
    assert labels(open_) == [
        "Numer",
        "Temat",
        "Kontrahent",
        "Odpowiedzialny",
        "Utworzona",
        "Wiek (dni)",
        "Termin",
        "Po terminie",
    ]
    assert column(open_, "number") == desk.of("c5", "parent", "c6", "c3", "c4", "c2", "sub", "c1")
    assert column(open_, "age_days") == [69, 55, 38, 15, 13, 10, 6, 2]
    assert [row.overdue for row in open_.rows] == [True] + [False] * 4 + [True, False, False]
    assert column(open_, "overdue") == ["tak", "", "", "", "", "tak", "", ""]
    assert column(open_, "created")[3] == dt.date(2026, 2, 24)
    assert column(open_, "customer")[3] == "Zakład Żółwi sp. z o.o."
    assert column(open_, "responsible")[:2] == ["Aleksandra Wójcik", "Anna Nowak"]
    assert breaches.title == "Przekroczenia celu"
    assert keys(breaches) == [
        "number",
        "subject",
        "customer",
        "responsible",
        "created",
        "closed",
        "days",
        "state",
    ]
    assert column(breaches, "number") == desk.of("c5", "parent", "c6", "d2", "c3", "d3")
    assert column(breaches, "days") == [
        Decimal(v) for v in ("69.0", "55.0", "38.0", "30.0", "15.0", "14.5")
    ]
    assert column(breaches, "state") == ["otwarta"] * 3 + ["zamknięta", "otwarta", "zamknięta"]
    assert column(breaches, "closed")[3] == dt.date(2026, 2, 9)


def test_chart_and_crosstab_by_age(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(complaints, uow, desk.boss)
    assert result.chart is not None
    assert result.chart.categories == ["0–7", "8–14", "15–30", "31–60", ">60"]
    assert result.chart.series == {"Otwarte": [2.0, 2.0, 1.0, 2.0, 1.0]}
    crosstab = result.crosstab
    assert crosstab is not None
    assert keys(crosstab) == ["responsible", "0–7", "8–14", "15–30", "31–60", ">60", "total"]
    assert [list(row.values.values()) for row in crosstab.rows] == [
        ["Anna Nowak", 2, 1, 1, 1, 0, 5],
        ["Aleksandra Wójcik", 0, 1, 0, 1, 1, 3],
        ["Razem", 2, 2, 1, 2, 1, 8],
    ]


def test_english_and_other_targets(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(complaints, uow, desk.boss, locale=Locale.EN, target_days=30, days=30)
    assert result.title == "Complaints timeliness (REK)"
    assert result.period == "As of 2026-03-11; closed since 2026-02-09; target: 30 days"
    # d2 was closed right at the start of the window and took exactly 30 days: counted as
    # closed, not as a breach; the median of 30 and 14.5 days is rounded half up
    assert [(f.label, f.value) for f in result.figures] == [
        ("Open", 8),
        ("Median days to close", Decimal("22.3")),
        ("Closed in the period", 2),
        ("Target breaches", 3),
    ]
    assert [t.title for t in result.tables] == [
        "Open complaints by age",
        "Open complaints",
        "Target breaches",
    ]
    assert labels(result.tables[2])[-3:] == ["Closed", "Days", "State"]
    assert column(result.tables[2], "state") == ["open", "open", "open"]
    assert totals(result.tables[0])["age"] == "Total"


def test_readers_see_only_complaints_they_may_read(uow: UnitOfWork, desk: Desk) -> None:
    outsider = run_report(complaints, uow, desk.jan)
    assert [f.value for f in outsider.figures] == [1, None, 0, 0]
    assert column(outsider.tables[1], "number") == desk.of("sub")
    readable = everything_readable(outsider)
    for hidden in ("parent", "c5", "d2"):
        assert desk.numbers[hidden] not in readable
    assert "Reklamacja parent" not in readable

    handler = run_report(complaints, uow, desk.anna)  # the group may read; the private is hers
    assert handler.figures[0].value == 8
    assert set(column(handler.tables[1], "number")) == set(
        desk.of("c1", "c2", "c3", "c4", "c5", "c6", "parent", "sub")
    )


def test_an_empty_register_is_an_empty_report(uow: UnitOfWork, desk: Desk, make: Factory) -> None:
    make.register("PUSTY")
    result = run_report(complaints, uow, desk.boss, register="pusty")
    assert result.title == "Terminowość reklamacji (PUSTY)"
    assert result.is_empty
    assert [f.value for f in result.figures] == [0, None, 0, 0]
    assert all(table.rows == [] for table in result.tables)
    assert result.chart is None
    assert result.crosstab is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"target_days": 0}, "params.target_days"),
        ({"target_days": "dwa"}, "params.target_days"),
        ({"days": True}, "params.days"),
        ({"register": 5}, "params.register"),
        ({"target": 14}, "params.target"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        complaints.check_params(params)
    assert error.value.field == field


def test_parameters_are_normalised(uow: UnitOfWork, desk: Desk) -> None:
    assert complaints.check_params({}) == {"register": "REK", "target_days": 14, "days": 90}
    assert complaints.check_params({"register": "han", "target_days": "7"}) == {
        "register": "HAN",
        "target_days": 7,
        "days": 90,
    }
    with pytest.raises(InvalidInput) as error:
        run_report(complaints, uow, desk.boss, register="NOPE")
    assert error.value.field == "params.register"


def test_demo_data_matches_a_direct_count(uow: UnitOfWork) -> None:
    with freeze_time(NOW - dt.timedelta(days=40)):
        demo.load(uow, tasks=150, seed=3, demo_mode=False)
    rek = register_by_code(uow.session, "REK").id
    still_open = uow.session.scalars(
        select(Task.id)
        .where(Task.register_id == rek, Task.status.in_(OPEN_STATUSES))
        .order_by(Task.id)
    ).all()
    for task_id, days_ago in zip(still_open, (25, 10, 2), strict=False):
        with freeze_time(NOW - dt.timedelta(days=days_ago)):
            set_status(uow, task_id, TaskStatus.DONE)
    with freeze_time(NOW):
        reader = actor_for(employee_by_login(uow.session, "mzielinska"))
        ctx = context(complaints, uow, reader, target_days=20)
        with counted_queries(uow) as statements:
            result = complaints.build(ctx)
    visible = [
        task
        for task in uow.session.scalars(select(Task).where(Task.register_id == rek))
        if access.can_see(uow.session, reader, task.id)
    ]
    open_ = [t for t in visible if t.status in OPEN_STATUSES]
    took = [
        (t.completed_at - t.created_at).total_seconds() / 86400
        for t in visible
        if t.status == TaskStatus.DONE
        and t.completed_at is not None
        and t.completed_at >= NOW - dt.timedelta(days=90)
    ]
    late = [t for t in open_ if NOW - t.created_at > dt.timedelta(days=20)]
    assert [f.value for f in result.figures] == [
        len(open_),
        Decimal(f"{statistics.median(took):.1f}"),
        len(took),
        len(late) + sum(days > 20 for days in took),
    ]
    assert open_ and late and max(took) > 20  # the demo has something in each
    assert Counter(column(result.tables[1], "number")) == Counter(t.number for t in open_)
    assert totals(result.tables[0])["count"] == len(open_)
    assert len(statements) <= 4  # the register, the open, the closed, the names
