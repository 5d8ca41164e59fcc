"""The collections of an employee's home and the properties Radicale serves for them."""

from __future__ import annotations

from sqlalchemy import text

from caldav_backend.home import home
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Employee
from tests.factories import Factory


def test_a_register_list_has_the_register_colour_or_a_plain_one_for_junk(
    uow: UnitOfWork, make: Factory
) -> None:
    """The desktop application writes registers directly: its colour may be any text."""
    person = make.employee()
    green, odd = make.register(colour="#2e8b57"), make.register()
    uow.session.execute(
        text("UPDATE registers SET colour = 'zielony' WHERE id = :id"), {"id": odd.id}
    )
    employee = uow.session.get_one(Employee, person.id)
    colours = {c.key: c.meta["ICAL:calendar-color"] for c in home(uow, employee)}
    assert colours[f"register:{green.code}"] == "#2E8B57FF"
    assert colours[f"register:{odd.code}"] == "#546E7AFF"


def test_an_unknown_time_zone_of_the_employee_is_warsaw(uow: UnitOfWork, make: Factory) -> None:
    person = make.employee()
    uow.session.execute(
        text("UPDATE employees SET time_zone = 'Mars/Olympus' WHERE id = :id"), {"id": person.id}
    )
    employee = uow.session.get_one(Employee, person.id)
    uow.session.refresh(employee)
    collections = home(uow, employee)
    assert collections
    assert all("TZID:Europe/Warsaw" in c.meta["C:calendar-timezone"] for c in collections)


def test_a_register_code_written_by_plain_sql_is_one_ascii_path_segment(
    uow: UnitOfWork, make: Factory
) -> None:
    person, register = make.employee(), make.register()
    uow.session.execute(
        text("UPDATE registers SET code = 'Ż/planned_' WHERE id = :id"), {"id": register.id}
    )
    employee = uow.session.get_one(Employee, person.id)
    found = {c.key: c for c in home(uow, employee)}
    odd = found["register:Ż/planned_"]
    assert odd.slug == "register-_17c__2f_planned_5f_"
    assert odd.meta["C:supported-calendar-component-set"] == "VTODO"
    assert found[f"{person.login}/tasks"].slug == "tasks"
