"""Feeds whose scope is a saved view: the view's filter, the owner's rights, the ETag."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from freezegun import freeze_time

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import Conflict, InvalidInput
from hermes_groupware.models.enums import ViewAudience
from hermes_groupware.services import directory, feed_access, feeds, saved_views
from hermes_groupware.services.feeds import FeedSpec
from tests.factories import Factory
from tests.hermes_groupware.services.view_world import NOW, World, build_world

SECRET = "test-secret-key"


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def _feed(uow: UnitOfWork, view: str, owner: str = "anna", **kwargs: Any) -> int:
    spec = FeedSpec(name=f"feed of {view}", owner=owner, view=view, **kwargs)
    created, _ = feeds.create_feed(uow, spec, secret=SECRET)
    return created.id


def _shown(uow: UnitOfWork, world: World, feed_id: int) -> set[str]:
    ids, _ = feed_access.visible_task_ids(uow, feed_id)
    by_id = {task.id: task.subject for task in world.tasks.values()}
    return {by_id[i] for i in ids}


def test_a_feed_shows_its_view_within_its_window(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(uow, name="anny", definition={"assignee": "anna"}, owner="anna")
    feed_id = _feed(uow, "anny")
    shown = feeds.get_feed(uow, feed_id)
    assert (shown.scope, shown.scope_detail) == ("view", "anny")
    assert feeds.get_spec(uow, feed_id).view == "anny"
    with freeze_time(NOW):
        assert _shown(uow, world, feed_id) == world.subjects("t1 t3 t6")  # t5 has no date


def test_relative_dates_use_the_feeds_zone(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(
        uow, name="dziś", definition={"due_from": "today", "due_to": "today"}, owner="anna"
    )
    warsaw, utc = _feed(uow, "dziś"), _feed(uow, "dziś", time_zone="UTC")
    with freeze_time(NOW):
        assert _shown(uow, world, warsaw) == world.subjects("t2")
        assert _shown(uow, world, utc) == world.subjects("t2 t3")
        before_midnight = feed_access.fingerprint(uow, warsaw)[0]
    with freeze_time(dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)):  # 00:30 in Warsaw
        assert _shown(uow, world, warsaw) == world.subjects("t3")
        assert feed_access.fingerprint(uow, warsaw)[0] != before_midnight


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"view": "nope"}, "view"),
        ({"view": "anny", "owner": "bartek"}, "view"),
        ({"view": "anny", "registers": ("HN",)}, "scope"),
    ],
)
def test_the_owner_must_be_able_to_use_the_view(
    uow: UnitOfWork, world: World, spec: dict[str, Any], field: str
) -> None:
    saved_views.create_view(uow, name="anny", definition={"assignee": "anna"}, owner="anna")
    values: dict[str, Any] = {"name": "f", "owner": "anna"} | spec
    with pytest.raises(InvalidInput) as error:
        feeds.create_feed(uow, FeedSpec(**values), secret=SECRET)
    assert error.value.field == field


def test_the_feed_follows_changes_of_the_view_and_its_etag_changes(
    uow: UnitOfWork, world: World
) -> None:
    saved_views.create_view(uow, name="anny", definition={"assignee": "anna"}, owner="anna")
    feed_id = _feed(uow, "anny")
    with freeze_time(NOW):
        tag = feed_access.fingerprint(uow, feed_id)[0]
        assert feed_access.fingerprint(uow, feed_id)[0] == tag
        saved_views.update_view(uow, "anny", definition={"assignee": "bartek"})
        assert feed_access.fingerprint(uow, feed_id)[0] != tag
        assert _shown(uow, world, feed_id) == world.subjects("t2")


def test_a_feed_is_empty_while_its_owner_may_not_use_the_view(
    uow: UnitOfWork, world: World
) -> None:
    saved_views.create_view(
        uow,
        name="zespół",
        definition={},
        audience=ViewAudience.GROUPS,
        groups=["sprzedaz"],
        owner="anna",
    )
    directory.add_member(uow, "sprzedaz", "bartek")
    feed_id = _feed(uow, "zespół", owner="bartek")
    with freeze_time(NOW):
        assert _shown(uow, world, feed_id) == world.subjects("t1 t2 t3 t6")
        tag = feed_access.fingerprint(uow, feed_id)[0]
        saved_views.update_view(uow, "zespół", audience=ViewAudience.PRIVATE)
        assert _shown(uow, world, feed_id) == set()
        assert feed_access.fingerprint(uow, feed_id)[0] != tag


def test_the_owners_rights_limit_a_view_feed(uow: UnitOfWork, world: World) -> None:
    """cezary may not read RK: a feed of an "RK" view he owns shows nothing."""
    saved_views.create_view(
        uow,
        name="reklamacje",
        definition={"registers": ["RK"]},
        audience=ViewAudience.EVERYONE,
        owner="anna",
    )
    cezary, anna = _feed(uow, "reklamacje", owner="cezary"), _feed(uow, "reklamacje")
    with freeze_time(NOW):
        assert _shown(uow, world, cezary) == set()
        assert _shown(uow, world, anna) == world.subjects("t6")


def test_a_view_shown_by_a_feed_is_not_deleted(uow: UnitOfWork, world: World) -> None:
    saved_views.create_view(uow, name="anny", definition={"assignee": "anna"}, owner="anna")
    feed_id = _feed(uow, "anny")
    with pytest.raises(Conflict, match=f"feed\\(s\\) {feed_id} \\(feed of anny\\)"):
        saved_views.delete_view(uow, "anny")
    feeds.delete_feed(uow, feed_id)
    saved_views.delete_view(uow, "anny")
