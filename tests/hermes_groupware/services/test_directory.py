"""Employees and app passwords."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import AppPassword, Employee
from hermes_groupware.services import directory
from tests.factories import Factory


def test_generated_app_password_checks_and_is_stored_hashed(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee("jkowalski")
    password = directory.set_app_password(uow, "jkowalski", label="iPhone")
    assert len(password) >= 24
    stored = uow.session.scalar(select(AppPassword.password_hash))
    assert stored and stored.startswith("$argon2id$") and password not in stored
    found = directory.check_app_password(uow, "jkowalski", password)
    assert found is not None and found.actor.employee_id == rep.id
    assert directory.app_login_in_force(uow, found.password_id) == found.actor
    assert directory.check_app_password(uow, "jkowalski", password + "x") is None
    assert directory.check_app_password(uow, "nobody", password) is None


def test_same_label_replaces_and_other_labels_stay(uow: UnitOfWork, make: Factory) -> None:
    make.employee("anowak")
    phone = directory.set_app_password(uow, "anowak", label="phone")
    laptop = directory.set_app_password(uow, "anowak", label="laptop")
    new_phone = directory.set_app_password(uow, "anowak", label="phone")
    assert directory.check_app_password(uow, "anowak", phone) is None
    assert directory.check_app_password(uow, "anowak", laptop) is not None
    assert directory.check_app_password(uow, "anowak", new_phone) is not None


def test_an_app_login_stays_in_force_until_revoked_or_the_employee_leaves(
    uow: UnitOfWork, make: Factory
) -> None:
    rep = make.employee("kwojcik")
    old = directory.set_app_password(uow, "kwojcik", label="phone")
    first = directory.check_app_password(uow, "kwojcik", old)
    assert first is not None
    assert directory.app_login_in_force(uow, first.password_id) == first.actor
    new = directory.set_app_password(uow, "kwojcik", label="phone")  # revokes the old one
    assert directory.app_login_in_force(uow, first.password_id) is None
    second = directory.check_app_password(uow, "kwojcik", new)
    assert second is not None
    uow.session.get_one(Employee, rep.id).is_active = False
    assert directory.app_login_in_force(uow, second.password_id) is None


def test_inactive_employee_cannot_log_in(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee("ex")
    password = directory.set_app_password(uow, "ex", password="correct horse battery")
    uow.session.get_one(Employee, rep.id).is_active = False
    assert directory.check_app_password(uow, "ex", password) is None


def test_only_admins_or_oneself_set_passwords(uow: UnitOfWork, make: Factory) -> None:
    a, b = make.employee(), make.employee()
    directory.set_app_password(make.as_(a), a.login)
    with pytest.raises(PermissionDenied):
        directory.set_app_password(make.as_(a), b.login)
    with pytest.raises(InvalidInput, match="12"):
        directory.set_app_password(uow, a.login, password="short")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"login": "Jan Kowalski"}, "login"),
        ({"login": "ok", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"login": "ok", "email": "not-an-address"}, "email"),
    ],
)
def test_employee_validation(uow: UnitOfWork, kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        directory.add_employee(uow, first_name="A", last_name="B", **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_duplicate_login_and_email(uow: UnitOfWork, make: Factory) -> None:
    make.employee("jan", email="jan@firma.pl")
    with pytest.raises(InvalidInput, match="taken"):
        make.employee("jan")
    with pytest.raises(InvalidInput, match="another employee"):
        make.employee("jan2", email="jan@FIRMA.pl")
