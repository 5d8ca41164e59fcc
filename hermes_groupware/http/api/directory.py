"""``/employees`` and ``/registers``: the directory, read-only.

Both lists are small and come whole, in the same ``{items, next}`` envelope as paged lists
(``next`` is always null). Registers you may not read are 404, as if they did not exist.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.errors import NotFound
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import Api, Call, Operation, PathParam
from hermes_groupware.services import directory, registers

LOGIN_PARAM = PathParam("string", {"type": "string", "minLength": 1, "maxLength": 64})
CODE_PARAM = PathParam("string", {"type": "string", "minLength": 1, "maxLength": 10})


class EmployeeOut(BaseModel):
    """An employee as the directory shows them."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    login: str
    name: str
    email: str | None
    mobile: str | None
    locale: str
    time_zone: str
    is_active: bool
    is_admin: bool
    substitute: str | None
    groups: list[str]


class RegisterOut(BaseModel):
    """A register you may read."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    colour: str
    inbound_email: str | None
    default_assignee: str | None
    manager: str | None
    default_access: str
    is_active: bool


class EmployeeQuery(BaseModel):
    """Whether to include employees who left."""

    include_inactive: bool = Field(False, description="also employees no longer active")


EmployeeList = Page[EmployeeOut]
RegisterList = Page[RegisterOut]


def register(api: Api) -> None:
    """Add the directory operations."""
    api.add(Operation("GET", "/employees", list_employees, "The employee directory",
                      "directory", query=EmployeeQuery, response=EmployeeList))
    api.add(Operation("GET", "/employees/{login}", get_employee, "One employee", "directory",
                      response=EmployeeOut, params={"login": LOGIN_PARAM}))
    api.add(Operation("GET", "/registers", list_registers, "Registers you may read",
                      "directory", response=RegisterList))
    api.add(Operation("GET", "/registers/{code}", get_register, "One register", "directory",
                      response=RegisterOut, params={"code": CODE_PARAM}))  # fmt: skip


def list_employees(call: Call) -> EmployeeList:
    """Everyone, by login."""
    query = call.query_as(EmployeeQuery)
    with call.uow() as uow:
        rows = directory.list_employees(uow, include_inactive=query.include_inactive)
    return EmployeeList(items=[EmployeeOut.model_validate(r) for r in rows], next=None)


def get_employee(call: Call, login: str) -> EmployeeOut:
    """By login."""
    if "\x00" in login:
        raise NotFound(f"employee {login!r} not found")
    with call.uow() as uow:
        return EmployeeOut.model_validate(directory.get_employee(uow, login))


def list_registers(call: Call) -> RegisterList:
    """The registers the caller may read, by code."""
    with call.uow() as uow:
        rows = registers.list_registers(uow)
    return RegisterList(items=[RegisterOut.model_validate(r) for r in rows], next=None)


def get_register(call: Call, code: str) -> RegisterOut:
    """By code; a register the caller may not read is 404."""
    with call.uow() as uow:
        found = [r for r in registers.list_registers(uow) if r.code == code.upper()]
    if not found:
        raise NotFound(f"register {code!r} not found")
    return RegisterOut.model_validate(found[0])
