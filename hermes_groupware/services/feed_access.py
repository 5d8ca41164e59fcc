"""Serving a feed: resolving a link, its rate limit, its fingerprint and what it shows now.

Every render asks :func:`feed_tasks` with the *owner's current* rights, so a feed shrinks
the moment the owner loses access, and disappears (404) when the owner is deactivated. A feed
of a saved view is empty while its owner may not use the view.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import (
    ChangeJournal,
    ContactPerson,
    Customer,
    Employee,
    Feed,
    FeedToken,
    JournalCounter,
    Register,
    SavedView,
    Task,
    TaskItem,
    feed_registers,
    group_members,
)
from hermes_groupware.models.enums import (
    AccessLevel,
    FeedScope,
    ItemKind,
    Priority,
    TaskStatus,
    Visibility,
)
from hermes_groupware.services import access, saved_views
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.feeds import hash_token

_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class Fetch:
    """What a fetch of a link resolved to (the feed's id and how to render it)."""

    feed_id: int
    token_id: int
    retry_after: int | None = None
    owner_locale: str = "pl"


def resolve(uow: UnitOfWork, token: str, *, rate_limit: int) -> Fetch | None:
    """The feed behind a link, or None for unknown, revoked, expired or ownerless links.

    Every miss does the same work (hash, one lookup), so timing does not tell them apart.
    Counts the fetch for the per-link rate limit (``retry_after`` set when over it).
    """
    wanted = hash_token(token)
    now = uow.now()
    row = uow.session.execute(
        select(FeedToken, Feed, Employee)
        .join(Feed, Feed.id == FeedToken.feed_id)
        .join(Employee, Employee.id == Feed.owner_id)
        .where(FeedToken.token_hash == wanted)
    ).first()
    if row is None:
        hmac.compare_digest(wanted, wanted)
        return None
    link, feed, owner = row
    if not hmac.compare_digest(link.token_hash, wanted) or not _live(link, feed, owner, now):
        return None
    retry_after = _count(link, now, rate_limit)
    return Fetch(
        feed_id=feed.id, token_id=link.id, retry_after=retry_after, owner_locale=str(owner.locale)
    )


def _live(link: FeedToken, feed: Feed, owner: Employee, now: dt.datetime) -> bool:
    return (
        (link.valid_until is None or link.valid_until > now)
        and feed.revoked_at is None
        and (feed.expires_at is None or feed.expires_at > now)
        and owner.is_active
    )


def _count(link: FeedToken, now: dt.datetime, limit: int) -> int | None:
    if link.window_start is None or now - link.window_start >= dt.timedelta(minutes=1):
        link.window_start, link.window_count = now, 0
    link.window_count += 1
    if link.window_count > limit:
        return max(1, 60 - int((now - link.window_start).total_seconds()))
    return None


def record_fetch(uow: UnitOfWork, feed_id: int, user_agent: str | None) -> None:
    """Last fetch time and client, for admins ("which client reads this link")."""
    feed = uow.session.get_one(Feed, feed_id)
    feed.last_fetched_at = uow.now()
    feed.last_user_agent = (user_agent or "")[:300] or None
    uow.session.flush()


def fingerprint(uow: UnitOfWork, feed_id: int) -> tuple[str, dt.datetime]:
    """What the feed's content depends on, cheaply: its definition, the journal position, the
    directory version and the owner's rights. Equal fingerprints mean equal output, so a
    client's ``If-None-Match`` can be answered without rendering. Also the Last-Modified."""
    session = uow.session
    feed = session.get_one(Feed, feed_id)
    seq, directory = session.execute(
        select(JournalCounter.last_seq, JournalCounter.directory_version)
    ).one()
    owner = actor_for(session.get_one(Employee, feed.owner_id))
    levels = sorted((k, v.value) for k, v in access.register_levels(session, owner).items())
    groups = sorted(
        session.scalars(
            select(group_members.c.group_id).where(group_members.c.employee_id == feed.owner_id)
        )
    )
    raw = (
        f"{feed.id}:{feed.version}:{seq}:{directory}:{levels}:{groups}:{uow.now().date()}"
        f"{_view_stamp(session, feed, uow.now())}"
    )
    changed = session.scalar(select(ChangeJournal.changed_at).where(ChangeJournal.seq == seq))
    return hashlib.sha256(raw.encode()).hexdigest()[:32], changed or feed.created_at


def _view_stamp(session: Session, feed: Feed, now: dt.datetime) -> str:
    """What a view scope adds to the fingerprint: the view's version, and the moment its
    relative dates ("today" in the feed's zone) and its "overdue" filter were resolved at."""
    if feed.scope is not FeedScope.VIEW:
        return ""
    version, definition = session.execute(
        select(SavedView.version, SavedView.definition).where(SavedView.id == feed.view_id)
    ).one()
    local = now.astimezone(ZoneInfo(feed.time_zone))
    hour = f":{local:%H}" if "overdue" in json.loads(definition or "{}") else ""
    return f":view{version}:{local.date()}{hour}"


class FeedTask(NamedTuple):
    """One task of a feed with just the columns a render needs (a row of :func:`feed_tasks`)."""

    id: int
    number: str
    subject: str
    description: str
    status: TaskStatus
    priority: Priority
    planned_start: dt.datetime | None
    due: dt.datetime | None
    all_day: bool
    completed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    visibility: Visibility
    categories: str
    register_code: str
    register_name: str
    register_colour: str
    customer: str | None
    contact_first_name: str | None
    contact_last_name: str | None
    contact_email: str | None


#: The tables of a feed's rows, aliased so that the scope's subqueries of registers or
#: customers are not correlated with them; made once, not on every render.
_TASK, _REGISTER = aliased(Task), aliased(Register)
_CUSTOMER, _CONTACT = aliased(Customer), aliased(ContactPerson)
#: The columns of :class:`FeedTask`, in its order
_ROW_COLUMNS = (
    _TASK.id,
    _TASK.number,
    _TASK.subject,
    _TASK.description,
    _TASK.status,
    _TASK.priority,
    _TASK.planned_start,
    _TASK.due,
    _TASK.all_day,
    _TASK.completed_at,
    _TASK.created_at,
    _TASK.updated_at,
    _TASK.version,
    _TASK.visibility,
    _TASK.categories,
    _REGISTER.code,
    _REGISTER.name,
    _REGISTER.colour,
    _CUSTOMER.name,
    _CONTACT.first_name,
    _CONTACT.last_name,
    _CONTACT.email,
)


def visible_task_ids(uow: UnitOfWork, feed_id: int) -> tuple[list[int], set[int]]:
    """The tasks a feed shows now, by due date, capped; and which of them are private.

    Filtered by the owner's current rights, the scope, the filters and the date window
    (relative to today).
    """
    query = _visible(uow, feed_id, select(Task.id, Task.visibility))
    rows = uow.session.execute(query).all() if query is not None else []
    return [r.id for r in rows], {r.id for r in rows if str(r.visibility) == "private"}


def feed_tasks(uow: UnitOfWork, feed_id: int) -> list[FeedTask]:
    """The tasks of :func:`visible_task_ids` (same order and cap) with what a render needs.

    One query of plain columns: loading ORM objects with everything CalDAV needs took longer
    than the whole render of 10,000 tasks. The filter, sort and cap run over narrow rows (id
    and position); the wide rows come unsorted and are put in order here, because sorting
    10,000 wide rows took SQLite as long as reading them.
    """
    when = func.coalesce(Task.due, Task.planned_start)
    position = func.row_number().over(order_by=(when, Task.id)).label("position")
    chosen_query = _visible(uow, feed_id, select(Task.id, position))
    if chosen_query is None:
        return []
    chosen = chosen_query.subquery()
    query = (
        select(*_ROW_COLUMNS, chosen.c.position)
        .select_from(chosen)
        .join(_TASK, _TASK.id == chosen.c.id)
        .join(_REGISTER, _REGISTER.id == _TASK.register_id)
        .outerjoin(_CUSTOMER, _CUSTOMER.id == _TASK.customer_id)
        .outerjoin(_CONTACT, _CONTACT.id == _TASK.contact_id)
    )
    # Core execution: the ORM's result machinery costs a third more for plain columns
    rows = sorted(uow.session.connection().execute(query).all(), key=itemgetter(-1))
    return [FeedTask._make(row[:-1]) for row in rows]


def _visible(uow: UnitOfWork, feed_id: int, query: Select[*_Columns]) -> Select[*_Columns] | None:
    """``query`` limited to the tasks the feed shows now, by due date, capped; None when its
    owner may not use its saved view."""
    session = uow.session
    feed = session.get_one(Feed, feed_id)
    owner = actor_for(session.get_one(Employee, feed.owner_id))
    if feed.view_id is not None and not saved_views.may_use(session, owner, feed.view_id):
        return None
    query = query.where(
        access.visible_tasks_clause(session, owner, AccessLevel.READ),
        _scope_clause(session, feed, uow.now()),
        Task.status != TaskStatus.CANCELLED,
    )
    if not feed.include_completed:
        query = query.where(Task.status != TaskStatus.DONE)
    if feed.statuses:
        query = query.where(Task.status.in_(feed.statuses.split(",")))
    if feed.priorities:
        query = query.where(Task.priority.in_(feed.priorities.split(",")))
    today = uow.now()
    start, end = (
        today - dt.timedelta(days=feed.days_back),
        today + dt.timedelta(days=feed.days_ahead),
    )
    when = func.coalesce(Task.due, Task.planned_start)
    query = query.where(when.isnot(None), when >= start, when <= end)
    return query.order_by(when, Task.id).limit(feed.max_items)


def _scope_clause(session: Session, feed: Feed, now: dt.datetime) -> Any:
    if feed.scope is FeedScope.EMPLOYEE and feed.employee_id is not None:
        return access.assigned_to(feed.employee_id)
    if feed.scope is FeedScope.GROUP:
        members = select(group_members.c.employee_id).where(
            group_members.c.group_id == feed.group_id
        )
        return Task.responsible_id.in_(members)
    if feed.scope is FeedScope.CUSTOMER:
        return Task.customer_id == feed.customer_id
    if feed.scope is FeedScope.VIEW:
        view = session.get_one(SavedView, feed.view_id)
        return saved_views.view_clause(session, view, zone=ZoneInfo(feed.time_zone), now=now)
    registers = select(feed_registers.c.register_id).where(feed_registers.c.feed_id == feed.id)
    return Task.register_id.in_(registers)


def recent_notes(uow: UnitOfWork, task_ids: list[int], per_task: int = 3) -> dict[int, list[str]]:
    """The latest notes of each task (for feeds with full detail), newest last."""
    notes: dict[int, list[str]] = {}
    for task_id, body in uow.session.execute(
        select(TaskItem.task_id, TaskItem.body)
        .where(TaskItem.task_id.in_(task_ids), TaskItem.kind == ItemKind.NOTE)
        .order_by(TaskItem.task_id, TaskItem.created_at.desc(), TaskItem.id.desc())
    ):
        bucket = notes.setdefault(task_id, [])
        if len(bucket) < per_task and body:
            bucket.append(body)
    return {k: list(reversed(v)) for k, v in notes.items()}
