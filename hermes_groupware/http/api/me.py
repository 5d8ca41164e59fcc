"""``/me``: who the credential acts as, and with which scopes."""

from __future__ import annotations

from pydantic import BaseModel

from hermes_groupware.errors import PermissionDenied
from hermes_groupware.http.api.directory import EmployeeOut
from hermes_groupware.http.api.registry import Api, Call, Operation
from hermes_groupware.services import directory


class MeOut(BaseModel):
    """The caller: the employee, how they authenticated and what this credential may do."""

    employee: EmployeeOut
    authenticated_by: str
    scopes: list[str]


def register(api: Api) -> None:
    """Add the operation."""
    api.add(Operation("GET", "/me", get_me, "Who you are", "me", response=MeOut))


def get_me(call: Call) -> MeOut:
    """The employee behind the credential (tokens and app passwords always have one)."""
    principal = call.principal
    if principal.actor.employee_id is None:
        raise PermissionDenied("not an employee")
    with call.uow() as uow:
        employee = directory.get_employee(uow, principal.actor.login)
    return MeOut(
        employee=EmployeeOut.model_validate(employee),
        authenticated_by=principal.via,
        scopes=[s for s in ("read", "write", "admin") if s in principal.scopes],
    )
