"""Saved views (widoki): named task filters with columns, sort order, owner and audience.

A view grants nothing: whoever runs it sees only the tasks they may see (a feed of a view: its
owner's current rights). An employee may *use* a view they own, one shared with everyone, or
one shared with a group they belong to; only its owner and admins may change it. A view that
does not exist and one the actor may not use give the same NotFound.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, false, insert, or_, select, true
from sqlalchemy.orm import Session

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import (
    Employee,
    Feed,
    Group,
    ReportSchedule,
    SavedView,
    group_members,
    saved_view_groups,
)
from hermes_groupware.models.enums import AccessLevel, ReportKind, ViewAudience
from hermes_groupware.services import access
from hermes_groupware.services.lookups import employee_by_login, group_by_slug, logins_by_id
from hermes_groupware.services.view_filter import check_definition, overdue_clause, view_clause
from hermes_groupware.services.view_rows import (
    FIELD_PREFIX,
    ViewRow,
    ViewRows,
    check_columns,
    check_sort,
    columns_of,
    select_rows,
    sort_of,
)

__all__ = [
    "FIELD_PREFIX",
    "ViewInfo",
    "ViewRow",
    "ViewRows",
    "actor_zone",
    "create_view",
    "delete_view",
    "get_view",
    "list_views",
    "may_use",
    "overdue_clause",
    "run_view",
    "select_rows",
    "update_view",
    "usable_view",
    "view_clause",
]

_NAME_LENGTH = 100
DEFAULT_ZONE = "Europe/Warsaw"


@dataclass(frozen=True)
class ViewInfo:
    """A view as people manage it; ``columns`` and ``sort`` are the effective ones."""

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


@dataclass(frozen=True)
class _Spec:
    """Everything a view is made of, before it is checked."""

    name: str
    definition: Mapping[str, Any]
    columns: Sequence[str]
    sort: Sequence[str]
    audience: ViewAudience
    groups: Sequence[str]
    description: str


def _usable_clause(session: Session, actor: Actor) -> ColumnElement[bool]:
    if actor.is_admin:
        return true()
    if actor.employee_id is None:
        return false()
    my_groups = select(group_members.c.group_id).where(
        group_members.c.employee_id == actor.employee_id
    )
    shared = select(saved_view_groups.c.view_id).where(saved_view_groups.c.group_id.in_(my_groups))
    return or_(
        SavedView.owner_id == actor.employee_id,
        SavedView.audience == ViewAudience.EVERYONE,
        and_(SavedView.audience == ViewAudience.GROUPS, SavedView.id.in_(shared)),
    )


def usable_view(session: Session, actor: Actor, name: str) -> SavedView:
    """The view, or NotFound when it is missing or the actor may not use it (same error)."""
    view = session.scalar(
        select(SavedView).where(SavedView.name == name, _usable_clause(session, actor))
    )
    if view is None:
        raise NotFound(f"view {name!r} not found")
    return view


def may_use(session: Session, actor: Actor, view_id: int) -> bool:
    """Whether the actor may use the view now (feeds re-check this on every render)."""
    found = select(SavedView.id).where(SavedView.id == view_id, _usable_clause(session, actor))
    return session.scalar(found) is not None


def create_view(
    uow: UnitOfWork,
    *,
    name: str,
    definition: Mapping[str, Any],
    columns: Sequence[str] = (),
    sort: Sequence[str] = (),
    audience: ViewAudience = ViewAudience.PRIVATE,
    groups: Sequence[str] = (),
    description: str = "",
    owner: str | None = None,
) -> ViewInfo:
    """Save a view; admins may create one for anyone, others own what they create."""
    session = uow.session
    view = SavedView(owner_id=_owner_id(uow, owner), version=1)
    spec = _Spec(name, definition, columns, sort, audience, groups, description)
    group_ids = _apply(session, view, spec)
    session.add(view)
    session.flush()
    _set_groups(session, view.id, group_ids)
    return _info(session, view)


def _owner_id(uow: UnitOfWork, owner: str | None) -> int:
    if owner is None:
        if uow.actor.employee_id is None:
            raise InvalidInput("owner", "give the login of the employee who owns the view")
        return uow.actor.employee_id
    employee = employee_by_login(uow.session, owner, field="owner")
    if employee.id != uow.actor.employee_id:
        access.require_admin(uow.actor)
    return employee.id


def _apply(session: Session, view: SavedView, spec: _Spec) -> list[int]:
    """Check the spec and put it on the view; returns the ids of the groups it is shared with."""
    name = spec.name.strip()
    if not name or len(name) > _NAME_LENGTH:
        raise InvalidInput("name", f"1 to {_NAME_LENGTH} characters")
    taken = select(SavedView.id).where(SavedView.name == name, SavedView.id != (view.id or 0))
    if session.scalar(taken) is not None:
        raise InvalidInput("name", f"a view named {name!r} exists")
    view.name = name
    view.definition = json.dumps(check_definition(session, spec.definition), ensure_ascii=False)
    view.columns = ",".join(check_columns(session, spec.columns))
    view.sort = ",".join(check_sort(spec.sort))
    view.audience = ViewAudience(spec.audience)
    view.description = spec.description.strip()
    if view.audience is not ViewAudience.GROUPS:
        if spec.groups:
            raise InvalidInput("groups", "share with groups only with audience 'groups'")
        return []
    if not spec.groups:
        raise InvalidInput("groups", "audience 'groups' needs at least one group")
    return list(dict.fromkeys(group_by_slug(session, g, field="groups").id for g in spec.groups))


def _set_groups(session: Session, view_id: int, group_ids: list[int]) -> None:
    session.execute(delete(saved_view_groups).where(saved_view_groups.c.view_id == view_id))
    for group_id in group_ids:
        session.execute(insert(saved_view_groups).values(view_id=view_id, group_id=group_id))


def _managed_view(uow: UnitOfWork, name: str) -> SavedView:
    """A view the actor may change: their own, or any for admins."""
    view = usable_view(uow.session, uow.actor, name)
    if not uow.actor.is_admin and view.owner_id != uow.actor.employee_id:
        raise PermissionDenied(f"only the owner of view {name!r} or an administrator may change it")
    return view


def update_view(
    uow: UnitOfWork,
    name: str,
    *,
    new_name: str | None = None,
    definition: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    sort: Sequence[str] | None = None,
    audience: ViewAudience | None = None,
    groups: Sequence[str] | None = None,
    description: str | None = None,
    owner: str | None = None,
) -> ViewInfo:
    """Change what is given (owner or admin); the version rises, so feeds of it change ETag.

    A view that schedules name cannot be renamed (they would stop finding it).
    """
    session = uow.session
    view = _managed_view(uow, name)
    current = _info(session, view)
    if audience is not None and audience is not ViewAudience.GROUPS and groups is None:
        groups = ()
    spec = _Spec(
        name=current.name if new_name is None else new_name,
        definition=current.definition if definition is None else definition,
        columns=current.columns if columns is None else columns,
        sort=current.sort if sort is None else sort,
        audience=ViewAudience(current.audience) if audience is None else audience,
        groups=current.groups if groups is None else groups,
        description=current.description if description is None else description,
    )
    if spec.name.strip() != view.name and (schedules := _schedules_using(session, view.name)):
        raise Conflict(f"view {view.name!r} is sent by schedule(s) {', '.join(schedules)}")
    if owner is not None:
        view.owner_id = _owner_id(uow, owner)
    _set_groups(session, view.id, _apply(session, view, spec))
    view.version += 1
    view.updated_at = uow.now()
    session.flush()
    return _info(session, view)


def delete_view(uow: UnitOfWork, name: str) -> None:
    """Remove a view (owner or admin); refused while a feed shows it or a schedule sends it."""
    session = uow.session
    view = _managed_view(uow, name)
    feeds = [
        f"{feed_id} ({feed_name})"
        for feed_id, feed_name in session.execute(
            select(Feed.id, Feed.name).where(Feed.view_id == view.id).order_by(Feed.id)
        )
    ]
    if feeds:
        raise Conflict(f"view {name!r} is the scope of feed(s) {', '.join(feeds)}")
    if schedules := _schedules_using(session, view.name):
        raise Conflict(f"view {name!r} is sent by schedule(s) {', '.join(schedules)}")
    _set_groups(session, view.id, [])
    session.delete(view)
    session.flush()


def _schedules_using(session: Session, name: str) -> list[str]:
    """Report schedules of this view (their view report names it in its parameters)."""
    view = ReportKind.VIEW.value
    schedules = session.execute(
        select(ReportSchedule.name, ReportSchedule.reports, ReportSchedule.params).where(
            ReportSchedule.reports.contains(view)
        )
    )
    return [
        schedule
        for schedule, reports, params in schedules
        if view in reports.split(",")
        and (json.loads(params or "{}").get(view) or {}).get("view") == name
    ]


def list_views(uow: UnitOfWork) -> list[ViewInfo]:
    """The views the actor may use, by name."""
    session = uow.session
    views = session.scalars(
        select(SavedView).where(_usable_clause(session, uow.actor)).order_by(SavedView.name)
    )
    return [_info(session, view) for view in views]


def get_view(uow: UnitOfWork, name: str) -> ViewInfo:
    """One view the actor may use (NotFound otherwise)."""
    return _info(uow.session, usable_view(uow.session, uow.actor, name))


def run_view(
    uow: UnitOfWork, name: str, *, limit: int | None = None, zone: ZoneInfo | None = None
) -> ViewRows:
    """The view's rows under the actor's own rights.

    Relative dates are resolved in ``zone``: by default the actor's own time zone.
    """
    session = uow.session
    view = usable_view(session, uow.actor, name)
    if limit is not None and limit < 1:
        raise InvalidInput("limit", "at least 1")
    return select_rows(
        session,
        view,
        scope=access.visible_tasks_clause(session, uow.actor, AccessLevel.READ),
        zone=zone or actor_zone(session, uow.actor),
        now=uow.now(),
        limit=limit,
    )


def actor_zone(session: Session, actor: Actor) -> ZoneInfo:
    """The employee's own time zone; Europe/Warsaw for the system."""
    if actor.employee_id is None:
        return ZoneInfo(DEFAULT_ZONE)
    return ZoneInfo(session.get_one(Employee, actor.employee_id).time_zone)


def _info(session: Session, view: SavedView) -> ViewInfo:
    groups = session.scalars(
        select(Group.slug)
        .join(saved_view_groups, saved_view_groups.c.group_id == Group.id)
        .where(saved_view_groups.c.view_id == view.id)
        .order_by(Group.slug)
    )
    return ViewInfo(
        id=view.id,
        name=view.name,
        description=view.description,
        owner=logins_by_id(session, (view.owner_id,))[view.owner_id],
        audience=ViewAudience(view.audience).value,
        groups=list(groups),
        definition=json.loads(view.definition or "{}"),
        columns=columns_of(view),
        sort=sort_of(view),
        version=view.version,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )
