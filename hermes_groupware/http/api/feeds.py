"""``/feeds``: subscription feeds (list, create, show links, rotate, revoke).

The service decides who may: administrators manage every feed, an employee only feeds they
own (and a feed never shows more than its owner may see). Links carry the token, so they are
in the answers of create, show and rotate only, never in lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.http.api.fields import Id, Text, When
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Operation
from hermes_groupware.models.enums import FeedProfile, Priority, Redaction, TaskStatus
from hermes_groupware.services import feeds
from hermes_groupware.services.feeds import FeedSpec

Name = Annotated[Text, Field(min_length=1, max_length=200)]
Short = Annotated[Text, Field(min_length=1, max_length=64)]


class FeedOut(BaseModel):
    """A feed as its owner or an administrator sees it (never its token)."""

    model_config = ConfigDict(from_attributes=True)

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
    active_links: int
    version: int


class FeedLinks(BaseModel):
    """One link in the three forms calendar apps take."""

    https: str
    webcal: str
    google: str


class FeedWithLinks(BaseModel):
    """A feed and its working links, newest first."""

    feed: FeedOut
    links: list[FeedLinks]


class FeedCreate(BaseModel):
    """A feed: exactly one scope (employee, group, registers, customer_id or view)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    owner: Short | None = Field(None, description="login; defaults to you")
    employee: Short | None = None
    group: Short | None = None
    registers: list[Annotated[Text, Field(min_length=1, max_length=10)]] = Field(
        default_factory=list, max_length=50
    )
    customer_id: Id | None = None
    view: Name | None = Field(None, description="name of a saved view the owner may use")
    statuses: list[TaskStatus] = Field(default_factory=list, max_length=5)
    priorities: list[Priority] = Field(default_factory=list, max_length=3)
    include_completed: bool = False
    days_back: int = Field(90, ge=0, le=3650)
    days_ahead: int = Field(365, ge=0, le=3650)
    max_items: int = Field(2000, ge=1, le=20_000)
    profile: FeedProfile = FeedProfile.EVENT_DUE
    redaction: Redaction = Redaction.FULL
    time_zone: Short = "Europe/Warsaw"
    ttl_minutes: int = Field(60, ge=5, le=7 * 24 * 60)
    colour: Annotated[Text, Field(max_length=7)] | None = Field(None, description="#RRGGBB")
    alarms: bool = False
    expires_at: When | None = None


class RotateBody(BaseModel):
    """How long the old links keep working, so subscribers can switch."""

    model_config = ConfigDict(extra="forbid")

    grace_hours: int = Field(0, ge=0, le=24 * 30)


FeedList = Page[FeedOut]


def register(api: Api) -> None:
    """Add the feed operations."""
    tag, one = "feeds", {"feed_id": ID_PARAM}
    api.add(Operation("GET", "/feeds", list_feeds, "Feeds you manage", tag, response=FeedList))
    api.add(Operation("POST", "/feeds", create_feed, "Create a feed and its first link", tag,
                      scope="write", body=FeedCreate, response=FeedWithLinks, status=201))
    api.add(Operation("GET", "/feeds/{feed_id}", get_feed, "A feed with its links", tag,
                      response=FeedWithLinks, params=one))
    api.add(Operation("POST", "/feeds/{feed_id}/rotate", rotate_feed, "A new link", tag,
                      scope="write", body=RotateBody, response=FeedWithLinks, params=one))
    api.add(Operation("POST", "/feeds/{feed_id}/revoke", revoke_feed, "Stop every link", tag,
                      scope="write", response=FeedOut, params=one))  # fmt: skip


def links(public_url: str, token: str) -> FeedLinks:
    """The https://, webcal:// and Google forms of a link (as ``feed show`` prints them)."""
    https = f"{public_url.rstrip('/')}/feeds/{token}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    google = "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")
    return FeedLinks(https=https, webcal=webcal, google=google)


def list_feeds(call: Call) -> FeedList:
    """All feeds for administrators, one's own otherwise."""
    with call.uow() as uow:
        rows = feeds.list_feeds(uow)
    return FeedList(items=[FeedOut.model_validate(r) for r in rows], next=None)


def create_feed(call: Call) -> FeedWithLinks:
    """The token is in the links of this answer, and nowhere else afterwards but ``GET``."""
    body = call.body_as(FeedCreate)
    spec = FeedSpec(
        **body.model_dump(exclude={"owner", "registers", "statuses", "priorities"}),
        owner=body.owner or call.principal.actor.login,
        registers=tuple(code.upper() for code in body.registers),
        statuses=tuple(body.statuses),
        priorities=tuple(body.priorities),
    )
    with call.uow(write=True) as uow:
        view, token = feeds.create_feed(uow, spec, secret=call.settings.secret_key)
    return FeedWithLinks(feed=FeedOut.model_validate(view), links=[_links(call, token)])


def get_feed(call: Call, feed_id: int) -> FeedWithLinks:
    """The feed and its working links."""
    with call.uow() as uow:
        view = feeds.get_feed(uow, feed_id)
        tokens = feeds.current_tokens(uow, feed_id, secret=call.settings.secret_key)
    return FeedWithLinks(feed=FeedOut.model_validate(view), links=[_links(call, t) for t in tokens])


def rotate_feed(call: Call, feed_id: int) -> FeedWithLinks:
    """A new link; the old ones end after ``grace_hours`` (at once by default)."""
    grace = dt.timedelta(hours=call.body_as(RotateBody).grace_hours)
    secret = call.settings.secret_key
    with call.uow(write=True) as uow:
        feeds.rotate(uow, feed_id, secret=secret, grace=grace)
        view = feeds.get_feed(uow, feed_id)
        tokens = feeds.current_tokens(uow, feed_id, secret=secret)
    return FeedWithLinks(feed=FeedOut.model_validate(view), links=[_links(call, t) for t in tokens])


def revoke_feed(call: Call, feed_id: int) -> FeedOut:
    """Every link answers 404 from now on."""
    with call.uow(write=True) as uow:
        feeds.revoke(uow, feed_id)
        return FeedOut.model_validate(feeds.get_feed(uow, feed_id))


def _links(call: Call, token: str) -> FeedLinks:
    return links(call.settings.feeds.public_url, token)
