"""``/views``: the saved views (named task filters) the caller may use; create, change and
delete them. The service decides who may: an employee owns what they create, only the owner
or an administrator changes a view, and one the caller may not use is 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.errors import NotFound
from hermes_groupware.http.api.fields import JsonObject, Text, refuse_nulls
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import Api, Call, Operation, PathParam
from hermes_groupware.models.enums import ViewAudience
from hermes_groupware.services import saved_views

NAME_PARAM = PathParam("path", {"type": "string", "minLength": 1, "maxLength": 100})


class ViewOut(BaseModel):
    """A saved view: its filter definition, columns, sort and who may use it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    owner: str
    audience: str
    groups: list[str]
    definition: dict[str, Any]
    columns: list[str]
    sort: list[str]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


Name = Annotated[Text, Field(min_length=1, max_length=100)]
Short = Annotated[Text, Field(min_length=1, max_length=64)]
Description = Annotated[Text, Field(max_length=2000)]
Names = Annotated[list[Short], Field(max_length=50)]
Definition = Annotated[
    JsonObject,
    Field(max_length=30, description="filters, as ``view add`` takes them (docs/reports.md)"),
]


class ViewCreate(BaseModel):
    """A new view; without ``owner`` it is yours (only administrators name someone else)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    definition: Definition
    description: Description = ""
    owner: Short | None = Field(None, description="login; defaults to you")
    audience: ViewAudience = ViewAudience.PRIVATE
    groups: Names = Field(default_factory=list, description="group slugs, for audience groups")
    columns: Names = Field(default_factory=list, description="empty: the default columns")
    sort: Names = Field(default_factory=list, description="``column`` or ``-column``")


class ViewUpdate(BaseModel):
    """What to change; what is left out stays (``name`` renames the view)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    definition: Definition | None = None
    description: Description | None = None
    owner: Short | None = None
    audience: ViewAudience | None = None
    groups: Names | None = None
    columns: Names | None = None
    sort: Names | None = None


ViewList = Page[ViewOut]


def register(api: Api) -> None:
    """Add the view operations."""
    api.add(Operation("GET", "/views", list_views, "Saved views you may use", "views",
                      response=ViewList))
    api.add(Operation("POST", "/views", create_view, "Save a view", "views", scope="write",
                      body=ViewCreate, response=ViewOut, status=201))
    api.add(Operation("GET", "/views/{name}", get_view, "One saved view", "views",
                      response=ViewOut, params={"name": NAME_PARAM}))
    api.add(Operation("PATCH", "/views/{name}", update_view, "Change a view", "views",
                      scope="write", body=ViewUpdate, response=ViewOut,
                      params={"name": NAME_PARAM}))
    api.add(Operation("DELETE", "/views/{name}", delete_view, "Delete a view", "views",
                      scope="write", status=204, params={"name": NAME_PARAM}))  # fmt: skip


def list_views(call: Call) -> ViewList:
    """By name."""
    with call.uow() as uow:
        rows = saved_views.list_views(uow)
    return ViewList(items=[ViewOut.model_validate(r) for r in rows], next=None)


def create_view(call: Call) -> ViewOut:
    """Validated by the service; errors name the field (a filter by its key)."""
    body = call.body_as(ViewCreate)
    with call.uow(write=True) as uow:
        return ViewOut.model_validate(saved_views.create_view(uow, **body.model_dump()))


def get_view(call: Call, name: str) -> ViewOut:
    """By name; a view the caller may not use is 404."""
    with call.uow() as uow:
        return ViewOut.model_validate(saved_views.get_view(uow, _name(name)))


def update_view(call: Call, name: str) -> ViewOut:
    """Owner or administrator (403 for others who may use it); the version rises."""
    given = call.body_as(ViewUpdate).model_dump(exclude_unset=True)
    refuse_nulls(given)
    if "name" in given:
        given["new_name"] = given.pop("name")
    with call.uow(write=True) as uow:
        return ViewOut.model_validate(saved_views.update_view(uow, _name(name), **given))


def delete_view(call: Call, name: str) -> None:
    """Refused (409) while a feed shows it or a schedule sends it."""
    with call.uow(write=True) as uow:
        saved_views.delete_view(uow, _name(name))


def _name(name: str) -> str:
    """A name no view can have is 404 before the database sees it."""
    if "\x00" in name or len(name) > 100:
        raise NotFound(f"view {name!r} not found")
    return name
