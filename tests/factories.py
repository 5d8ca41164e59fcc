"""Test data through the real services, with counters for unique names."""

from __future__ import annotations

import itertools
from typing import Any

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.models import Task
from hermes_groupware.models.enums import AccessLevel, Visibility
from hermes_groupware.services import customers, directory, registers
from hermes_groupware.services.customers import CustomerView
from hermes_groupware.services.directory import EmployeeView
from hermes_groupware.services.registers import RegisterView
from hermes_groupware.services.tasks import TaskChanges, create_task


class Factory:
    """``make.employee()``, ``make.register()``, ``make.task()``… in the test's unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._n = itertools.count(1)

    def employee(self, login: str | None = None, **kwargs: Any) -> EmployeeView:
        """An active employee (pass ``is_admin=True`` for an admin)."""
        n = next(self._n)
        login = login or f"user{n}"
        return directory.add_employee(
            self.uow,
            login=login,
            first_name=kwargs.pop("first_name", "Jan"),
            last_name=kwargs.pop("last_name", f"Testowy{n}"),
            email=kwargs.pop("email", f"{login}@firma.pl"),
            **kwargs,
        )

    def register(
        self,
        code: str | None = None,
        *,
        default_access: AccessLevel = AccessLevel.READ,
        **kwargs: Any,
    ) -> RegisterView:
        """A register with a distinct code and colour."""
        n = next(self._n)
        return registers.add_register(
            self.uow,
            code=code or f"R{n}",
            name=kwargs.pop("name", f"Rejestr {n}"),
            colour=kwargs.pop("colour", f"#{n * 40 % 256:02X}8040"),
            default_access=default_access,
            **kwargs,
        )

    def customer(self, name: str | None = None, **kwargs: Any) -> CustomerView:
        """A customer."""
        return customers.add_customer(
            self.uow, name=name or f"Firma {next(self._n)} sp. z o.o.", **kwargs
        )

    def task(
        self,
        register: RegisterView,
        responsible: EmployeeView,
        subject: str = "Zadanie",
        *,
        parent: Task | None = None,
        private: bool = False,
        actor: Actor | None = None,
        **changes: Any,
    ) -> Task:
        """A task created by ``actor`` (default: administrator)."""
        if private:
            changes["visibility"] = Visibility.PRIVATE
        uow = self.uow.acting_as(actor) if actor else self.uow
        return create_task(
            uow,
            register_id=register.id,
            subject=subject,
            responsible_id=responsible.id,
            parent_id=parent.id if parent else None,
            changes=TaskChanges(**changes),
        )

    def actor(self, employee: EmployeeView) -> Actor:
        """The actor an employee acts as."""
        return Actor(employee_id=employee.id, login=employee.login, is_admin=employee.is_admin)

    def as_(self, employee: EmployeeView) -> UnitOfWork:
        """The test's unit of work, continued as this employee."""
        return self.uow.acting_as(self.actor(employee))
