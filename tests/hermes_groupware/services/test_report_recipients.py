"""Recipients of report schedules as typed: logins, groups, addresses, and who may use which."""

from __future__ import annotations

import pytest

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import Employee
from hermes_groupware.models.enums import ReportKind
from hermes_groupware.services import directory, registers
from hermes_groupware.services.registers import RegisterChanges
from hermes_groupware.services.report_recipients import Target, labels, parse_targets, store
from hermes_groupware.services.report_schedule_admin import ScheduleSpec, create_schedule
from tests.factories import Factory


def test_groups_by_prefix_or_bare_slug_and_a_login_wins(uow: UnitOfWork, make: Factory) -> None:
    director = make.employee("director")
    directory.add_group(uow, "sales", "Handlowcy")
    directory.add_group(uow, "director", "A group named like a login")
    targets = parse_targets(uow, ["sales", "group:director", "director", " director "])
    assert [t.employee_id for t in targets] == [None, None, director.id]
    assert labels_of(uow, targets) == ("group:sales", "group:director", "director")


def test_an_employees_address_is_that_employee(uow: UnitOfWork, make: Factory) -> None:
    director = make.employee("director", email="Dyrektor@Firma.pl")
    registers.update_register(uow, make.register().code, RegisterChanges(external_reports=True))
    targets = parse_targets(uow, ["DYREKTOR@firma.pl", "Szef@Klient.pl", "director"])
    assert targets == [Target(employee_id=director.id), Target(address="szef@klient.pl")]


def test_outside_addresses_need_a_register_that_allows_them(uow: UnitOfWork, make: Factory) -> None:
    reg = make.register()
    with pytest.raises(InvalidInput, match=r"szef@klient\.pl is outside the company"):
        parse_targets(uow, ["szef@klient.pl"])
    registers.update_register(uow, reg.code, RegisterChanges(external_reports=True))
    assert parse_targets(uow, ["szef@klient.pl"]) == [Target(address="szef@klient.pl")]


def test_unknown_inactive_or_no_recipients_are_refused(uow: UnitOfWork, make: Factory) -> None:
    gone = make.employee("gone")
    uow.session.get_one(Employee, gone.id).is_active = False
    for specs, words in (
        (["nobody"], "no employee or group 'nobody'"),
        (["group:nobody"], "no group 'nobody'"),
        (["gone"], "gone is not active"),
        (["gone@firma.pl"], "gone is not active"),
        (["a@b"], "not an e-mail address"),
        ([" ", ""], "at least one recipient"),
    ):
        with pytest.raises(InvalidInput) as caught:
            parse_targets(uow, specs)
        assert caught.value.field == "to" and words in caught.value.message


def test_an_employee_may_name_only_themselves(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee("rep", email="rep@firma.pl")
    make.employee("other")
    directory.add_group(uow, "sales", "Handlowcy")
    me = make.as_(rep)
    assert parse_targets(me, ["rep", "REP@firma.pl"]) == [Target(employee_id=rep.id)]
    for others in (["other"], ["sales"], ["rep", "x@firma.pl"]):
        with pytest.raises(PermissionDenied):
            parse_targets(me, others)


def test_storing_replaces_the_recipients(uow: UnitOfWork, make: Factory) -> None:
    make.employee("director")
    make.employee("deputy")
    spec = ScheduleSpec(
        name="R", reports=[ReportKind.OVERDUE], cron="0 8 * * *", recipients=["director"]
    )
    schedule = create_schedule(uow, spec)
    store(uow.session, schedule.id, parse_targets(uow, ["deputy"]))
    assert labels(uow.session, schedule.id) == ("deputy",)


def labels_of(uow: UnitOfWork, targets: list[Target]) -> tuple[str, ...]:
    """The labels of targets stored on a throwaway schedule."""
    spec = ScheduleSpec(
        name="L", reports=[ReportKind.OVERDUE], cron="0 8 * * *", recipients=["director"]
    )
    schedule = create_schedule(uow, spec)
    store(uow.session, schedule.id, targets)
    return labels(uow.session, schedule.id)
