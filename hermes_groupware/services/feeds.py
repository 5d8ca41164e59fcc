"""Subscription feeds: their definitions and secret links (serving them: ``feed_access``).

A link token is HMAC-SHA256(secret key, random nonce), 192 bits; the database keeps the nonce
and the token's SHA-256 only. Changing ``[security] secret_key`` therefore invalidates every
link.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.models import (
    Customer,
    Employee,
    Feed,
    FeedToken,
    Group,
    Register,
    SavedView,
    feed_registers,
)
from hermes_groupware.models.enums import (
    FeedProfile,
    FeedScope,
    Priority,
    Redaction,
    TaskStatus,
)
from hermes_groupware.services import access, audit, saved_views
from hermes_groupware.services.directory import actor_for, validate_time_zone
from hermes_groupware.services.lookups import (
    customer_by_id,
    employee_by_login,
    group_by_slug,
    logins_by_id,
    register_by_code,
)
from hermes_groupware.services.registers import validate_colour

TOKEN_CHARS = 32  # 192 bits of URL-safe base64


@dataclass(frozen=True)
class FeedSpec:
    """What a feed shows; exactly one of employee, group, registers, customer or a saved view
    (its name) is its scope."""

    name: str
    owner: str
    employee: str | None = None
    group: str | None = None
    registers: tuple[str, ...] = ()
    customer_id: int | None = None
    view: str | None = None
    statuses: tuple[TaskStatus, ...] = ()
    priorities: tuple[Priority, ...] = ()
    include_completed: bool = False
    days_back: int = 90
    days_ahead: int = 365
    max_items: int = 2000
    profile: FeedProfile = FeedProfile.EVENT_DUE
    redaction: Redaction = Redaction.FULL
    time_zone: str = "Europe/Warsaw"
    ttl_minutes: int = 60
    colour: str | None = None
    alarms: bool = False
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class FeedView:
    """A feed as admins see it (never its token)."""

    id: int
    name: str
    owner: str
    scope: str
    scope_detail: str
    profile: str
    redaction: str
    time_zone: str
    ttl_minutes: int
    colour: str | None
    alarms: bool
    filters: dict[str, Any]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_fetched_at: dt.datetime | None
    last_user_agent: str | None
    active_links: int = 0
    version: int = 1


def hash_token(token: str) -> str:
    """The stored form of a link token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_token(secret: str, nonce: str) -> str:
    """The token of a link: unguessable without the server's secret key."""
    digest = hmac.new(secret.encode(), f"feed-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]


def create_feed(uow: UnitOfWork, spec: FeedSpec, *, secret: str) -> tuple[FeedView, str]:
    """Create a feed and its first link; the token is returned once, clear, never stored.

    Admins create feeds for anyone; an employee only feeds owned by themselves (a feed never
    shows more than its owner may see, whatever its scope).
    """
    session = uow.session
    owner = employee_by_login(session, spec.owner, field="owner")
    if not uow.actor.is_admin and uow.actor.employee_id != owner.id:
        access.require_admin(uow.actor)
    feed = Feed(name=spec.name.strip(), owner_id=owner.id, version=1)
    _apply_spec(session, feed, spec, owner)
    session.add(feed)
    session.flush()
    _set_registers(session, feed.id, spec.registers)
    token = _new_token(session, feed.id, secret)
    audit.record(uow, "feed.create", "feed", feed.id, name=feed.name, owner=spec.owner)
    return feed_view(session, feed), token


def _apply_spec(session: Session, feed: Feed, spec: FeedSpec, owner: Employee) -> None:
    if not spec.name.strip():
        raise InvalidInput("name", "must not be empty")
    scopes = [
        bool(spec.employee),
        bool(spec.group),
        bool(spec.registers),
        spec.customer_id is not None,
        bool(spec.view),
    ]
    if sum(scopes) != 1:
        raise InvalidInput(
            "scope", "give exactly one of employee, group, register(s), customer, view"
        )
    feed.scope = [
        FeedScope.EMPLOYEE,
        FeedScope.GROUP,
        FeedScope.REGISTERS,
        FeedScope.CUSTOMER,
        FeedScope.VIEW,
    ][scopes.index(True)]
    feed.employee_id = (
        employee_by_login(session, spec.employee, field="employee").id if spec.employee else None
    )
    feed.group_id = group_by_slug(session, spec.group).id if spec.group else None
    feed.customer_id = customer_by_id(session, spec.customer_id).id if spec.customer_id else None
    feed.view_id = _view_id(session, spec.view, owner) if spec.view else None
    for code in spec.registers:
        register_by_code(session, code)
    if not 0 <= spec.days_back <= 3650 or not 0 <= spec.days_ahead <= 3650:
        raise InvalidInput("window", "days back and ahead must be between 0 and 3650")
    if not 1 <= spec.max_items <= 20_000:
        raise InvalidInput("max_items", "between 1 and 20000")
    if not 5 <= spec.ttl_minutes <= 7 * 24 * 60:
        raise InvalidInput("ttl", "between 5 minutes and a week")
    feed.statuses = ",".join(s.value for s in spec.statuses)
    feed.priorities = ",".join(p.value for p in spec.priorities)
    feed.include_completed = spec.include_completed
    feed.days_back, feed.days_ahead, feed.max_items = (
        spec.days_back,
        spec.days_ahead,
        spec.max_items,
    )
    feed.profile, feed.redaction = spec.profile, spec.redaction
    feed.time_zone = validate_time_zone(spec.time_zone)
    feed.ttl_minutes = spec.ttl_minutes
    feed.colour = validate_colour(spec.colour) if spec.colour else None
    feed.alarms = spec.alarms
    feed.expires_at = spec.expires_at


def _view_id(session: Session, name: str, owner: Employee) -> int:
    """A view the feed's owner may use (the feed shows it with the owner's rights)."""
    try:
        return saved_views.usable_view(session, actor_for(owner), name).id
    except NotFound as exc:
        raise InvalidInput("view", f"no view {name!r} that {owner.login} may use") from exc


def _set_registers(session: Session, feed_id: int, codes: tuple[str, ...]) -> None:
    session.execute(delete(feed_registers).where(feed_registers.c.feed_id == feed_id))
    for code in dict.fromkeys(c.upper() for c in codes):
        register = register_by_code(session, code)
        session.execute(insert(feed_registers).values(feed_id=feed_id, register_id=register.id))


def _new_token(session: Session, feed_id: int, secret: str) -> str:
    nonce = secrets.token_hex(16)
    token = link_token(secret, nonce)
    session.add(FeedToken(feed_id=feed_id, token_hash=hash_token(token), nonce=nonce))
    session.flush()
    return token


def current_tokens(uow: UnitOfWork, feed_id: int, *, secret: str) -> list[str]:
    """The feed's working links, newest first (for ``feed show``)."""
    feed = _editable_feed(uow, feed_id)
    rows = uow.session.scalars(
        select(FeedToken)
        .where(FeedToken.feed_id == feed.id, _valid_after(uow.now()))
        .order_by(FeedToken.id.desc())
    )
    return [link_token(secret, row.nonce) for row in rows]


def _editable_feed(uow: UnitOfWork, feed_id: int) -> Feed:
    feed = uow.session.get(Feed, feed_id)
    if feed is None or (not uow.actor.is_admin and feed.owner_id != uow.actor.employee_id):
        raise NotFound(f"feed {feed_id} not found")
    return feed


def update_feed(uow: UnitOfWork, feed_id: int, spec: FeedSpec) -> FeedView:
    """Replace a feed's definition (its links stay); the ETag changes with ``version``."""
    feed = _editable_feed(uow, feed_id)
    owner = employee_by_login(uow.session, spec.owner, field="owner")
    if owner.id != feed.owner_id and not uow.actor.is_admin:
        access.require_admin(uow.actor)
    feed.owner_id = owner.id
    feed.name = spec.name.strip()
    _apply_spec(uow.session, feed, spec, owner)
    _set_registers(uow.session, feed.id, spec.registers)
    feed.version += 1
    uow.session.flush()
    audit.record(uow, "feed.update", "feed", feed.id, name=feed.name, owner=spec.owner)
    return feed_view(uow.session, feed)


def rotate(
    uow: UnitOfWork, feed_id: int, *, secret: str, grace: dt.timedelta = dt.timedelta(0)
) -> str:
    """A new link; the old ones keep working for ``grace`` (for subscribers to switch)."""
    feed = _editable_feed(uow, feed_id)
    ends = uow.now() + grace
    uow.session.execute(
        update(FeedToken)
        .where(
            FeedToken.feed_id == feed.id,
            _valid_after(ends),
        )
        .values(valid_until=ends)
    )
    audit.record(uow, "feed.rotate", "feed", feed.id, grace_seconds=grace.total_seconds())
    return _new_token(uow.session, feed.id, secret)


def _valid_after(moment: dt.datetime) -> Any:
    return or_(FeedToken.valid_until.is_(None), FeedToken.valid_until > moment)


def revoke(uow: UnitOfWork, feed_id: int) -> None:
    """Every link of the feed stops at once (404)."""
    feed = _editable_feed(uow, feed_id)
    feed.revoked_at = uow.now()
    uow.session.execute(
        update(FeedToken).where(FeedToken.feed_id == feed.id).values(valid_until=uow.now())
    )
    uow.session.flush()
    audit.record(uow, "feed.revoke", "feed", feed.id)


def delete_feed(uow: UnitOfWork, feed_id: int) -> None:
    """Remove a feed and its links."""
    feed = _editable_feed(uow, feed_id)
    uow.session.delete(feed)
    uow.session.flush()
    audit.record(uow, "feed.delete", "feed", feed_id, name=feed.name)


def list_feeds(uow: UnitOfWork) -> list[FeedView]:
    """All feeds for admins; an employee's own otherwise."""
    query = select(Feed).order_by(Feed.id)
    if not uow.actor.is_admin:
        query = query.where(Feed.owner_id == uow.actor.employee_id)
    return [feed_view(uow.session, f) for f in uow.session.scalars(query)]


def get_spec(uow: UnitOfWork, feed_id: int) -> FeedSpec:
    """The current definition of a feed, as :func:`update_feed` takes it."""
    session = uow.session
    feed = _editable_feed(uow, feed_id)
    names = logins_by_id(session, (feed.owner_id, feed.employee_id))
    detail = _scope_detail(session, feed)
    return FeedSpec(
        name=feed.name,
        owner=names[feed.owner_id],
        employee=names.get(feed.employee_id or 0),
        group=detail if feed.scope is FeedScope.GROUP else None,
        registers=tuple(detail.split(",")) if feed.scope is FeedScope.REGISTERS else (),
        customer_id=feed.customer_id,
        view=detail if feed.scope is FeedScope.VIEW else None,
        statuses=tuple(TaskStatus(s) for s in feed.statuses.split(",") if s),
        priorities=tuple(Priority(p) for p in feed.priorities.split(",") if p),
        include_completed=feed.include_completed,
        days_back=feed.days_back,
        days_ahead=feed.days_ahead,
        max_items=feed.max_items,
        profile=FeedProfile(feed.profile),
        redaction=Redaction(feed.redaction),
        time_zone=feed.time_zone,
        ttl_minutes=feed.ttl_minutes,
        colour=feed.colour,
        alarms=feed.alarms,
        expires_at=feed.expires_at,
    )


def get_feed(uow: UnitOfWork, feed_id: int) -> FeedView:
    """One feed (NotFound when missing or not the actor's)."""
    return feed_view(uow.session, _editable_feed(uow, feed_id))


def feed_view(session: Session, feed: Feed) -> FeedView:
    """The feed as a read model."""
    now = dt.datetime.now(dt.UTC)
    links = session.scalar(
        select(func.count())
        .select_from(FeedToken)
        .where(
            FeedToken.feed_id == feed.id,
            _valid_after(now),
        )
    )
    return FeedView(
        id=feed.id,
        name=feed.name,
        owner=logins_by_id(session, (feed.owner_id,))[feed.owner_id],
        scope=FeedScope(feed.scope).value,
        scope_detail=_scope_detail(session, feed),
        profile=FeedProfile(feed.profile).value,
        redaction=Redaction(feed.redaction).value,
        time_zone=feed.time_zone,
        ttl_minutes=feed.ttl_minutes,
        colour=feed.colour,
        alarms=feed.alarms,
        filters={
            "statuses": feed.statuses,
            "priorities": feed.priorities,
            "include_completed": feed.include_completed,
            "days_back": feed.days_back,
            "days_ahead": feed.days_ahead,
            "max_items": feed.max_items,
        },
        created_at=feed.created_at,
        expires_at=feed.expires_at,
        revoked_at=feed.revoked_at,
        last_fetched_at=feed.last_fetched_at,
        last_user_agent=feed.last_user_agent,
        active_links=links or 0,
        version=feed.version,
    )


def _scope_detail(session: Session, feed: Feed) -> str:
    if feed.scope is FeedScope.EMPLOYEE:
        return logins_by_id(session, (feed.employee_id,)).get(feed.employee_id or 0, "?")
    if feed.scope is FeedScope.GROUP:
        return session.scalar(select(Group.slug).where(Group.id == feed.group_id)) or "?"
    if feed.scope is FeedScope.CUSTOMER:
        return session.scalar(select(Customer.name).where(Customer.id == feed.customer_id)) or "?"
    if feed.scope is FeedScope.VIEW:
        return session.scalar(select(SavedView.name).where(SavedView.id == feed.view_id)) or "?"
    codes = session.scalars(
        select(Register.code)
        .join(feed_registers, feed_registers.c.register_id == Register.id)
        .where(feed_registers.c.feed_id == feed.id)
        .order_by(Register.code)
    )
    return ",".join(codes)
