"""The feed's lean loading path and its cache of item texts, against the database.

A feed loads its tasks with one query of plain columns (not the CalDAV projection's loader)
and keeps rendered items in a per-process cache. These tests pin both down: the rows give the
same task data as the projection, in the order and cap of ``visible_task_ids``, and a change
to anything an item shows is rendered at once, cache or not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from caldav_backend import feeds_http
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Feed
from hermes_groupware.models.enums import AccessLevel, FeedProfile, Redaction, Visibility
from hermes_groupware.services import customers, feed_access, feeds, items
from hermes_groupware.services.feeds import FeedSpec
from hermes_groupware.services.tasks import TaskChanges, update_task
from sync import projection
from tests.factories import Factory

SECRET = "test-secret-key"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Tests share the process's cache, and rolled-back tests reuse ids: start empty."""
    feeds_http.ITEM_TEXTS.clear()
    yield
    feeds_http.ITEM_TEXTS.clear()


@pytest.fixture
def office(uow: UnitOfWork, make: Factory) -> dict[str, int]:
    """Register FR with tasks that use every column a feed shows; ids by name."""
    boss = make.employee("boss", is_admin=False)
    register = make.register("FR", name="Reklamacje, zwroty", default_access=AccessLevel.READ)
    customer = make.customer("Żabka; sp. z o.o.")
    with_mail = customers.add_contact(
        uow, customer.id, first_name="Łucja", last_name="Śliwa", email="lucja@zabka.pl"
    )
    without_mail = customers.add_contact(uow, customer.id, first_name="Jan", last_name="Nowak")
    now = uow.now().replace(microsecond=0)
    day = now.replace(hour=0, minute=0, second=0) + dt.timedelta(days=3)
    tasks = {
        "full": make.task(
            register,
            boss,
            "Pęknięta obudowa 🛠️, pilne; C:\\Nowy",
            description="Opis\nw dwóch liniach",
            due=now + dt.timedelta(days=2),
            planned_start=now,
            customer_id=customer.id,
            contact_id=with_mail.id,
            categories="vip, reklamacja ,",
        ),
        "all_day": make.task(
            register,
            boss,
            "Cały dzień",
            due=day,
            all_day=True,
            customer_id=customer.id,
            contact_id=without_mail.id,
        ),
        "private": make.task(register, boss, "Tajne", due=day, private=True),
        "same_due": make.task(register, boss, "Ten sam termin", due=day, all_day=True),
        "undated": make.task(register, boss, "Bez terminu"),
    }
    items.add_note(uow, tasks["full"].id, "pierwsza notatka")
    return {name: task.id for name, task in tasks.items()} | {"customer": customer.id}


def _feed(uow: UnitOfWork, **kwargs: object) -> Feed:
    values: dict[str, object] = {"name": "Feed", "owner": "boss", "registers": ("FR",)}
    values.update(kwargs)
    view, _ = feeds.create_feed(uow, FeedSpec(**values), secret=SECRET)  # type: ignore[arg-type]
    return uow.session.get_one(Feed, view.id)


def test_rows_give_the_projections_task_data(uow: UnitOfWork, office: dict[str, int]) -> None:
    feed = _feed(uow)
    rows = feed_access.feed_tasks(uow, feed.id)
    loaded = projection.task_data_for(uow.session, [row.id for row in rows])
    assert len(rows) == 4
    for row in rows:
        lean = feeds_http._task_data(row)
        assert lean == dataclasses.replace(loaded[row.id], custom_fields={}, url=None)
    private = next(row for row in rows if row.id == office["private"])
    assert private.visibility == Visibility.PRIVATE


@pytest.mark.parametrize("max_items", [1, 3, 2000])
def test_rows_come_in_the_order_and_cap_of_the_visible_ids(
    uow: UnitOfWork, office: dict[str, int], max_items: int
) -> None:
    feed = _feed(uow, max_items=max_items)
    ids, private = feed_access.visible_task_ids(uow, feed.id)
    rows = feed_access.feed_tasks(uow, feed.id)
    assert [row.id for row in rows] == ids
    assert len(ids) == min(max_items, 4)
    assert {row.id for row in rows if row.visibility == Visibility.PRIVATE} == private


def _render(uow: UnitOfWork, feed: Feed) -> bytes:
    return feeds_http._render(uow, feed, "pl")


def _cold(uow: UnitOfWork, feed: Feed) -> bytes:
    feeds_http.ITEM_TEXTS.clear()
    return _render(uow, feed)


def test_a_second_render_is_served_from_the_cache_and_is_the_same(
    uow: UnitOfWork, office: dict[str, int]
) -> None:
    feed = _feed(uow, profile=FeedProfile.BOTH, alarms=True)
    first = _render(uow, feed)
    assert len(feeds_http.ITEM_TEXTS) == 4  # the undated task has a VTODO in "both"
    assert _render(uow, feed) == first == _cold(uow, feed)


@pytest.mark.parametrize(
    "change",
    [
        "subject",
        "register name",
        "customer name",
        "contact email",
        "note",
        "private",
        "direct SQL",
    ],
)
def test_every_input_of_an_item_reaches_the_next_render(
    uow: UnitOfWork, office: dict[str, int], change: str
) -> None:
    feed = _feed(uow)
    before = _render(uow, feed)
    task_id = office["full"]
    session = uow.session
    if change == "subject":
        update_task(uow, task_id, TaskChanges(subject="Nowy temat"))
    elif change == "register name":
        session.execute(text("UPDATE registers SET name = 'Zwroty' WHERE code = 'FR'"))
    elif change == "customer name":
        session.execute(
            text("UPDATE customers SET name = 'Biedronka' WHERE id = :id"),
            {"id": office["customer"]},
        )
    elif change == "contact email":
        session.execute(text("UPDATE contact_persons SET email = 'nowy@zabka.pl'"))
    elif change == "note":
        items.add_note(uow, task_id, "druga notatka")
    elif change == "private":
        update_task(uow, task_id, TaskChanges(visibility=Visibility.PRIVATE))
    else:  # like the desktop application: no version bump, no service
        session.execute(
            text("UPDATE tasks SET description = 'Zmiana z SQL' WHERE id = :id"), {"id": task_id}
        )
    session.expire_all()
    after = _render(uow, feed)
    assert after != before
    assert after == _cold(uow, feed)


def test_feeds_with_other_settings_do_not_share_texts(
    uow: UnitOfWork, office: dict[str, int]
) -> None:
    full = _feed(uow)
    busy = _feed(uow, redaction=Redaction.BUSY)
    no_alarms = _feed(uow, profile=FeedProfile.EVENT_DUE)
    alarms = _feed(uow, profile=FeedProfile.EVENT_DUE, alarms=True)
    rendered = [_render(uow, feed) for feed in (full, busy, no_alarms, alarms)]
    assert "Pęknięta".encode() in rendered[0]
    assert "Pęknięta".encode() not in rendered[1]
    assert b"BEGIN:VALARM" in rendered[3]
    assert b"BEGIN:VALARM" not in rendered[2]
    for feed, body in zip((full, busy, no_alarms, alarms), rendered, strict=True):
        assert _cold(uow, feed) == body
