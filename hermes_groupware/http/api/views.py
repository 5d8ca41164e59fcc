"""``/views``: the saved views (named task filters) the caller may use, read-only for now;
creating and changing them stays with ``view add|update`` until its endpoints land."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from hermes_groupware.errors import NotFound
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import Api, Call, Operation, PathParam
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


ViewList = Page[ViewOut]


def register(api: Api) -> None:
    """Add the view operations."""
    api.add(Operation("GET", "/views", list_views, "Saved views you may use", "views",
                      response=ViewList))
    api.add(Operation("GET", "/views/{name}", get_view, "One saved view", "views",
                      response=ViewOut, params={"name": NAME_PARAM}))  # fmt: skip


def list_views(call: Call) -> ViewList:
    """By name."""
    with call.uow() as uow:
        rows = saved_views.list_views(uow)
    return ViewList(items=[ViewOut.model_validate(r) for r in rows], next=None)


def get_view(call: Call, name: str) -> ViewOut:
    """By name; a view the caller may not use is 404."""
    if "\x00" in name or len(name) > 100:
        raise NotFound(f"view {name!r} not found")
    with call.uow() as uow:
        return ViewOut.model_validate(saved_views.get_view(uow, name))
