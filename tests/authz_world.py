"""One office for the authorization matrix of every surface, and the table of who may do what.

People (``LOGINS``): ``szef`` (admin), ``kierownik`` (manager of both registers, edit on
both), ``czytelnik`` (read on the restricted register), ``obcy`` (no access to it),
``delegat`` (like ``obcy``, plus the hidden-parent delegation of ``podzadanie``) and
``byly`` (inactive; before leaving they were responsible for ``otwarte`` and could edit OTW).

Registers: ``OTW`` (everyone reads) and ``ZAS`` (restricted: nobody by default).

The expected outcome of every surface comes from ``EXPECTED`` alone: who may read and who may
edit each task. Surfaces must agree with it; the table never asks ``access`` for the answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Employee, Task
from hermes_groupware.models.enums import AccessLevel, DelegationMode, ViewAudience
from hermes_groupware.services import delegation, directory, registers, saved_views
from tests.factories import Factory

LOGINS = ("szef", "kierownik", "czytelnik", "obcy", "delegat", "byly")
ACTIVE = LOGINS[:-1]
SUBJECTS = {
    "otwarte": "Oferta dla hurtowni",
    "zastrzezone": "Sprawa kadrowa",
    "prywatne": "Urlop na żądanie",
    "ukryty_rodzic": "Przetarg tajny na dostawę serwerów",
    "podzadanie": "Wycena szaf rack",
}
HIDDEN_SUBJECT = SUBJECTS["ukryty_rodzic"]
ALL_TASKS_VIEW = "wszystkie-zadania"
PRIVATE_VIEW = "teczka-kierownika"


@dataclass(frozen=True)
class Rights:
    """Who may read and who may edit one task (space-separated logins)."""

    read: str
    edit: str

    def may_read(self, login: str) -> bool:
        """Whether ``login`` may see the task."""
        return login in self.read.split()

    def may_edit(self, login: str) -> bool:
        """Whether ``login`` may change the task or add items."""
        return login in self.edit.split()


EXPECTED: dict[str, Rights] = {
    # OTW, normal: every active employee reads; the manager and the admin edit
    "otwarte": Rights(read="szef kierownik czytelnik obcy delegat", edit="szef kierownik"),
    # ZAS, normal: only those with a grant read
    "zastrzezone": Rights(read="szef kierownik czytelnik", edit="szef kierownik"),
    # OTW, private, czytelnik responsible: the register grant does not open it
    "prywatne": Rights(read="szef czytelnik", edit="szef czytelnik"),
    # ZAS, private parent of the delegated sub-task
    "ukryty_rodzic": Rights(read="szef kierownik", edit="szef kierownik"),
    # ZAS, normal sub-task, delegated to delegat hiding the parent
    "podzadanie": Rights(read="szef kierownik czytelnik delegat", edit="szef kierownik delegat"),
}


@dataclass(frozen=True)
class AuthzWorld:
    """Ids and numbers of the tasks by key, and each employee's app password."""

    task_ids: dict[str, int]
    numbers: dict[str, str]
    passwords: dict[str, str]

    def visible(self, login: str) -> set[str]:
        """Keys of the tasks ``login`` may see, by the table."""
        return {key for key, rights in EXPECTED.items() if rights.may_read(login)}

    def key_of(self, task_id: int) -> str:
        """The key of a task id."""
        return next(key for key, tid in self.task_ids.items() if tid == task_id)


def build(uow: UnitOfWork) -> AuthzWorld:
    """Create the office through the services (``uow`` acts as an administrator)."""
    make = Factory(uow)
    people = {
        "szef": make.employee("szef", is_admin=True),
        **{login: make.employee(login) for login in LOGINS[1:]},
    }
    otw = make.register("OTW", default_access=AccessLevel.READ, manager="kierownik")
    zas = make.register("ZAS", default_access=AccessLevel.NONE, manager="kierownik")
    for code in ("OTW", "ZAS"):
        registers.grant(uow, code, AccessLevel.EDIT, login="kierownik")
    registers.grant(uow, "ZAS", AccessLevel.READ, login="czytelnik")
    registers.grant(uow, "OTW", AccessLevel.EDIT, login="byly")
    boss = people["kierownik"]
    due = {"due": dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)}
    tasks: dict[str, Task] = {
        "otwarte": make.task(otw, people["byly"], "Oferta dla hurtowni", **due),
        "zastrzezone": make.task(zas, boss, "Sprawa kadrowa", **due),
        "prywatne": make.task(otw, people["czytelnik"], "Urlop na żądanie", private=True, **due),
        "ukryty_rodzic": make.task(zas, boss, HIDDEN_SUBJECT, private=True, **due),
    }
    tasks["podzadanie"] = make.task(
        zas, boss, "Wycena szaf rack", parent=tasks["ukryty_rodzic"], **due
    )
    delegation.delegate(uow, tasks["podzadanie"].id, "delegat", DelegationMode.HIDE_PARENT)
    saved_views.create_view(
        uow,
        name=ALL_TASKS_VIEW,
        definition={},
        audience=ViewAudience.EVERYONE,
        owner="szef",
    )
    saved_views.create_view(uow, name=PRIVATE_VIEW, definition={}, owner="kierownik")
    passwords = {login: directory.set_app_password(uow, login, label="authz") for login in LOGINS}
    gone = uow.session.scalar(select(Employee).where(Employee.login == "byly"))
    assert gone is not None
    gone.is_active = False
    uow.session.flush()
    return AuthzWorld(
        task_ids={key: task.id for key, task in tasks.items()},
        numbers={key: task.number for key, task in tasks.items()},
        passwords=passwords,
    )
