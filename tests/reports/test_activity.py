"""The activity report on three hand-made weeks of work (Warsaw time), and on demo data.

Weeks 2026-W10 (03-02..03-08), W11 and W12 (03-16..03-22); "now" is Wednesday 2026-03-18.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from hermes_groupware import demo
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Employee, InboundMessage, Task, TaskItem
from hermes_groupware.models.enums import (
    AccessLevel,
    DelegationMode,
    ItemKind,
    Locale,
    MailChannel,
    TaskStatus,
)
from hermes_groupware.services import delegation, directory, items, mailbox
from hermes_groupware.services.directory import EmployeeView
from hermes_groupware.services.items import MailOrigin
from hermes_groupware.services.tasks import set_status
from reports import activity
from reports.model import ReportResult, Table
from reports.scope import reader_context
from tests.factories import Factory

WARSAW = ZoneInfo("Europe/Warsaw")
W10 = dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC)
W11 = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
W11_FIRST_MINUTES = dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC)  # Monday 00:30 in Warsaw
BEFORE = dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC)  # Sunday 23:30 in Warsaw, week W09
W12 = dt.datetime(2026, 3, 17, 9, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 18, 10, tzinfo=dt.UTC)


@contextmanager
def at(uow: UnitOfWork, when: dt.datetime, who: EmployeeView | None = None) -> Iterator[UnitOfWork]:
    """Acting as ``who`` (default: the test's administrator) at ``when``."""
    with freeze_time(when):
        actor = Factory(uow).actor(who) if who else uow.actor
        yield uow.acting_as(actor)


@dataclass
class Team:
    rep_a: EmployeeView
    rep_b: EmployeeView
    manager: EmployeeView
    delegate: EmployeeView


def mail_from(uow: UnitOfWork, task_id: int, sender: str, n: int) -> None:
    """An e-mail that became a note on the task, as the intake pipeline leaves it."""
    stored = mailbox.store_raw(
        uow,
        f"Subject: {n}\r\n\r\nbody {n}".encode(),
        channel=MailChannel.SMTP,
        envelope_from=sender,
        recipients=["hermes@firma.pl"],
    )
    row = uow.session.get(InboundMessage, stored.id)
    assert row is not None
    row.sender_address = sender
    items.add_note(uow, task_id, f"mail {n}", mail=MailOrigin(stored.id, sender=sender))


def mail_to(uow: UnitOfWork, task_id: int, recipient: str, n: int) -> None:
    mailbox.enqueue(
        uow,
        message_id=f"<out{n}@firma.pl>",
        recipient=recipient,
        raw=b"x",
        kind="notification",
        task_id=task_id,
    )


@pytest.fixture
def team(uow: UnitOfWork, make: Factory) -> Team:
    """A (Adamski) and B (Bielska) sell, C (Cichy) is silent; all three in ``sprzedaz``.
    X (Xiński) is not in the group. HAN is readable by all, SEC by nobody."""
    directory.add_group(uow, "sprzedaz", "Sprzedaż")
    rep_a = make.employee("adamski", first_name="Adam", last_name="Adamski", groups=("sprzedaz",))
    rep_b = make.employee("bielska", first_name="Beata", last_name="Bielska", groups=("sprzedaz",))
    make.employee("cichy", first_name="Cezary", last_name="Cichy", groups=("sprzedaz",))
    rep_x = make.employee("xinski", first_name="Xawery", last_name="Xiński")
    manager = make.employee("kierownik", first_name="Marek", last_name="Kierownik")
    deleg = make.employee("serwisant", first_name="Sebastian", last_name="Serwisant")
    han = make.register("HAN", default_access=AccessLevel.EDIT)
    sec = make.register("SEC", default_access=AccessLevel.NONE)
    k1, k2, k3 = (make.customer(f"Klient {n}").id for n in (1, 2, 3))
    with at(uow, BEFORE, rep_a) as as_a:
        early = make.task(han, rep_a, "wcześniejszy", actor=as_a.actor, customer_id=k2)
        items.add_note(as_a, early.id, "przed oknem")  # week W09: outside the report
    with at(uow, W10, rep_a) as as_a:
        t1 = make.task(
            han,
            rep_a,
            "t1",
            actor=as_a.actor,
            customer_id=k1,
            due=dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC),
        )
        items.add_note(as_a, t1.id, "rozmowa z klientem")
        t2 = make.task(
            han,
            rep_b,
            "t2",
            actor=as_a.actor,
            customer_id=k2,
            due=dt.datetime(2026, 3, 6, tzinfo=dt.UTC),
            all_day=True,
        )
        t3 = make.task(han, rep_a, "t3", actor=as_a.actor, customer_id=k3)
    with at(uow, W11_FIRST_MINUTES, rep_a) as as_a:
        items.add_note(as_a, t3.id, "nocna notatka")
    with at(uow, W11, rep_b) as as_b:
        set_status(as_b, t2.id, TaskStatus.DONE)
        items.add_note(as_b, t2.id, "zrobione")
    with at(uow, W11) as admin:
        mail_from(admin, t1.id, "zakupy@klient1.pl", 1)
        mail_from(admin, t1.id, "bielska@firma.pl", 2)  # a colleague: not customer contact
    with at(uow, W12) as admin:
        mail_to(admin, t1.id, "zakupy@klient1.pl", 1)
        mail_to(admin, t1.id, "ADAMSKI@firma.pl", 2)  # a colleague
        secret = make.task(sec, rep_a, "poufne", customer_id=k2)
        parent = make.task(han, rep_a, "Przetarg poufny", private=True, customer_id=k3)
        sub = make.task(han, rep_a, "Ocena techniczna", parent=parent)
        delegation.delegate(admin, sub.id, deleg.login, DelegationMode.HIDE_PARENT)
    with at(uow, W12, rep_a) as as_a:
        set_status(as_a, t3.id, TaskStatus.DONE)
        items.add_note(as_a, secret.id, "w rejestrze poufnym")
        items.add_note(as_a, parent.id, "w ukrytym rodzicu")
    with at(uow, W12, rep_x) as as_x:
        make.task(han, rep_x, "od Xa", actor=as_x.actor)
    return Team(rep_a, rep_b, manager, deleg)


def report(
    uow: UnitOfWork, reader: EmployeeView | None, locale: Locale = Locale.PL, **params: Any
) -> ReportResult:
    with freeze_time(NOW):
        as_reader = uow.acting_as(Factory(uow).actor(reader)) if reader else uow
        ctx = reader_context(
            as_reader, locale=locale, zone=WARSAW, params=activity.check_params(params)
        )
        return activity.build(ctx)


MEASURES = ("created", "completed", "overdue", "notes", "mails_in", "mails_out", "customers")


def weekly(table: Table) -> dict[tuple[str, str], tuple[int, ...]]:
    return {
        (r.values["rep"], r.values["week"]): tuple(r.values[m] for m in MEASURES)
        for r in table.rows
    }


def totals(table: Table) -> dict[str, tuple[int, ...]]:
    return {r.values["rep"]: tuple(r.values[m] for m in MEASURES) for r in table.rows}


def test_golden_structure_in_polish(uow: UnitOfWork, team: Team):
    result = report(uow, team.manager, weeks=3)

    assert result.title == "Aktywność handlowców"
    assert result.period == "Tygodnie 2026-W10 – 2026-W12 (2026-03-02 – 2026-03-22)"
    by_week, per_rep = result.tables
    assert by_week.title == "Aktywność w tygodniach"
    assert [c.label for c in by_week.columns] == [
        "Handlowiec",
        "Tydzień",
        "Od",
        "Utworzone",
        "Zakończone",
        "Zaległe na koniec tygodnia",
        "Notatki",
        "E-maile przychodzące",
        "E-maile wychodzące",
        "Kontrahenci z kontaktem",
    ]
    assert [(r.values["rep"], r.values["week"], r.values["week_start"]) for r in by_week.rows] == [
        (name, week, start)
        for name in ("Adam Adamski", "Beata Bielska", "Xawery Xiński")
        for week, start in (
            ("2026-W10", dt.date(2026, 3, 2)),
            ("2026-W11", dt.date(2026, 3, 9)),
            ("2026-W12", dt.date(2026, 3, 16)),
        )
    ]
    assert per_rep.title == "Podsumowanie handlowców"
    assert per_rep.columns[3].label == "Zaległe teraz"
    assert [r.values["rep"] for r in per_rep.rows] == [
        "Adam Adamski",
        "Beata Bielska",
        "Xawery Xiński",
        "Razem",
    ]
    assert [r.total for r in per_rep.rows] == [False, False, False, True]
    assert [f.label for f in result.figures] == [
        "Utworzone",
        "Zakończone",
        "Zaległe teraz",
        "Notatki",
        "E-maile przychodzące",
        "E-maile wychodzące",
        "Kontrahenci z kontaktem",
    ]
    assert result.chart is not None
    assert result.chart.kind == "line"
    assert result.chart.categories == ["2026-W10", "2026-W11", "2026-W12"]
    assert result.crosstab is not None
    assert [c.label for c in result.crosstab.columns] == [
        "Handlowiec",
        "2026-W10",
        "2026-W11",
        "2026-W12",
        "Razem",
    ]


def test_golden_structure_in_english(uow: UnitOfWork, team: Team):
    result = report(uow, team.manager, Locale.EN, weeks=3)

    assert result.title == "Activity of sales reps"
    assert result.period == "Weeks 2026-W10 – 2026-W12 (2026-03-02 – 2026-03-22)"
    assert [t.title for t in result.tables] == ["Activity by week", "Totals per rep"]
    assert [c.label for c in result.tables[1].columns] == [
        "Sales rep",
        "Created",
        "Completed",
        "Overdue now",
        "Notes",
        "E-mails in",
        "E-mails out",
        "Customers contacted",
    ]
    assert result.tables[1].rows[-1].values["rep"] == "Total"
    assert result.chart is not None
    assert result.chart.title == "Completed tasks per week"


def test_numbers_per_rep_and_week(uow: UnitOfWork, team: Team):
    result = report(uow, team.manager, weeks=3)
    by_week, per_rep = result.tables

    #        created completed overdue notes in out customers
    assert weekly(by_week) == {
        ("Adam Adamski", "2026-W10"): (3, 0, 1, 1, 0, 0, 1),  # t1 t2 t3; t1 late; note t1 (K1)
        ("Adam Adamski", "2026-W11"): (0, 0, 1, 1, 1, 0, 2),  # Monday 00:30 note t3; mail in t1
        ("Adam Adamski", "2026-W12"): (0, 1, 1, 0, 0, 1, 1),  # t3 done; mail out t1
        ("Beata Bielska", "2026-W10"): (0, 0, 1, 0, 0, 0, 0),  # t2 all-day 03-06, done later
        ("Beata Bielska", "2026-W11"): (0, 1, 0, 1, 0, 0, 1),
        ("Beata Bielska", "2026-W12"): (0, 0, 0, 0, 0, 0, 0),
        ("Xawery Xiński", "2026-W10"): (0, 0, 0, 0, 0, 0, 0),
        ("Xawery Xiński", "2026-W11"): (0, 0, 0, 0, 0, 0, 0),
        ("Xawery Xiński", "2026-W12"): (1, 0, 0, 0, 0, 0, 0),
    }
    assert totals(per_rep) == {
        "Adam Adamski": (3, 1, 1, 2, 1, 1, 2),  # customers K1 and K3, each once
        "Beata Bielska": (0, 1, 0, 1, 0, 0, 1),
        "Xawery Xiński": (1, 0, 0, 0, 0, 0, 0),
        "Razem": (4, 2, 1, 3, 1, 1, 3),
    }
    assert [f.value for f in result.figures] == [4, 2, 1, 3, 1, 1, 3]
    assert result.chart is not None
    assert result.chart.series == {
        "Adam Adamski": [0.0, 0.0, 1.0],
        "Beata Bielska": [0.0, 1.0, 0.0],
        "Xawery Xiński": [0.0, 0.0, 0.0],
    }
    assert result.crosstab is not None
    assert [tuple(r.values.values()) for r in result.crosstab.rows] == [
        ("Adam Adamski", 0, 0, 1, 1),
        ("Beata Bielska", 0, 1, 0, 1),
        ("Xawery Xiński", 0, 0, 0, 0),
        ("Razem", 0, 1, 1, 2),
    ]


def test_a_group_lists_its_silent_members_and_only_them(uow: UnitOfWork, team: Team):
    result = report(uow, team.manager, weeks=3, group="sprzedaz")

    assert list(totals(result.tables[1])) == [
        "Adam Adamski",
        "Beata Bielska",
        "Cezary Cichy",
        "Razem",
    ]
    assert totals(result.tables[1])["Cezary Cichy"] == (0,) * 7
    assert totals(result.tables[1])["Razem"] == (3, 2, 1, 3, 1, 1, 3)


def test_the_register_filter(uow: UnitOfWork, team: Team):
    admin_sec = report(uow, None, weeks=3, register="SEC")

    assert totals(admin_sec.tables[1]) == {
        "Adam Adamski": (0, 0, 0, 1, 0, 0, 1),
        "Razem": (0, 0, 0, 1, 0, 0, 1),
    }


def test_readers_never_count_what_they_may_not_see(uow: UnitOfWork, team: Team):
    admin = weekly(report(uow, None, weeks=3).tables[0])
    manager = weekly(report(uow, team.manager, weeks=3).tables[0])
    deleg = weekly(report(uow, team.delegate, weeks=3, register="HAN").tables[0])

    a_w12 = ("Adam Adamski", "2026-W12")
    # the administrator also counts the notes in SEC (customer K2) and on the private parent (K3)
    assert admin[a_w12] == (0, 1, 1, 2, 0, 1, 3)
    assert manager[a_w12] == (0, 1, 1, 0, 0, 1, 1)
    # the delegate of the sub-task sees HAN, but never the hidden parent's note
    assert deleg[a_w12] == (0, 1, 1, 0, 0, 1, 1)


def test_no_activity_is_empty(uow: UnitOfWork, make: Factory):
    reader = make.employee()

    result = report(uow, reader)

    assert result.is_empty
    assert result.chart is None
    assert result.crosstab is None
    assert [f.value for f in result.figures] == [0] * 7


def test_parameters_are_checked(uow: UnitOfWork):
    assert activity.check_params({"weeks": "8", "group": "sprzedaz"}) == {
        "weeks": 8,
        "register": None,
        "group": "sprzedaz",
    }
    for bad in ({"weeks": 0}, {"weeks": "many"}, {"week": 2}, {"group": 5}):
        with pytest.raises(InvalidInput) as error:
            activity.check_params(bad)
        assert error.value.field == f"params.{next(iter(bad))}"
    with pytest.raises(InvalidInput) as unknown_group:
        report(uow, None, group="nobody")
    assert unknown_group.value.field == "params.group"


def test_demo_data_matches_a_direct_count(uow: UnitOfWork):
    with freeze_time(NOW):
        demo.load(uow, tasks=200, seed=4, demo_mode=False)
    created = dict(
        uow.session.execute(
            select(Employee.login, func.count(Task.id))
            .join(Task, Task.creator_id == Employee.id)
            .group_by(Employee.login)
        ).all()
    )
    notes = dict(
        uow.session.execute(
            select(Employee.login, func.count(TaskItem.id))
            .join(TaskItem, TaskItem.author_id == Employee.id)
            .where(TaskItem.kind == ItemKind.NOTE)
            .group_by(Employee.login)
        ).all()
    )
    names = {e.login: e.full_name for e in uow.session.scalars(select(Employee))}

    result = report(uow, None, Locale.EN, weeks=2)

    per_rep = {r.values["rep"]: r.values for r in result.tables[1].data_rows}
    assert {login: per_rep[names[login]]["created"] for login in created} == created
    assert {login: per_rep[names[login]]["notes"] for login in notes} == notes
    assert sum(created.values()) == result.figures[0].value == 200
