"""Feed definitions, links and what a feed may show."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import Employee, FeedToken
from hermes_groupware.models.enums import AccessLevel, TaskStatus
from hermes_groupware.services import feed_access, feeds, items
from hermes_groupware.services.directory import EmployeeView, employee_view
from hermes_groupware.services.feeds import FeedSpec
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.tasks import set_status
from tests.factories import Factory

SECRET = "test-secret-key"


def _spec(**kwargs: object) -> FeedSpec:
    values: dict[str, object] = {"name": "Feed", "owner": "boss", "registers": ("RK",)}
    values.update(kwargs)
    return FeedSpec(**values)  # type: ignore[arg-type]


@pytest.fixture
def setup(make: Factory) -> Factory:
    make.employee("boss", is_admin=False)
    make.register("RK", default_access=AccessLevel.READ)
    return make


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"registers": (), "employee": None}, "scope"),
        ({"employee": "boss"}, "scope"),
        ({"time_zone": "Europa/Warszawa"}, "time_zone"),
        ({"colour": "red"}, "colour"),
        ({"ttl_minutes": 1}, "ttl"),
        ({"registers": ("NOPE",)}, "register"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_definitions_name_the_field(
    uow: UnitOfWork, setup: Factory, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        feeds.create_feed(uow, _spec(**kwargs), secret=SECRET)
    assert error.value.field == field


def test_token_is_stored_only_as_a_hash_and_can_be_shown_again(
    uow: UnitOfWork, setup: Factory
) -> None:
    view, token = feeds.create_feed(uow, _spec(), secret=SECRET)
    assert len(token) == 32
    stored = uow.session.scalar(select(FeedToken).where(FeedToken.feed_id == view.id))
    assert stored is not None
    assert token not in (stored.token_hash, stored.nonce)
    assert stored.token_hash == feeds.hash_token(token)
    assert feeds.current_tokens(uow, view.id, secret=SECRET) == [token]
    assert feeds.current_tokens(uow, view.id, secret="another-key") != [token]


def test_employees_create_only_their_own_feeds(uow: UnitOfWork, setup: Factory) -> None:
    other = setup.employee("other")
    as_boss = uow.acting_as(setup.actor(_view(uow, "boss")))
    feeds.create_feed(as_boss, _spec(), secret=SECRET)
    with pytest.raises(PermissionDenied):
        feeds.create_feed(as_boss, _spec(owner=other.login), secret=SECRET)


def _view(uow: UnitOfWork, login: str) -> EmployeeView:
    return employee_view(uow.session, employee_by_login(uow.session, login))


def test_revoked_expired_and_ownerless_links_resolve_to_nothing(
    uow: UnitOfWork, setup: Factory
) -> None:
    view, token = feeds.create_feed(uow, _spec(), secret=SECRET)
    assert feed_access.resolve(uow, token, rate_limit=10) is not None
    assert (
        feed_access.resolve(uow, token[:-1] + ("A" if token[-1] != "A" else "B"), rate_limit=10)
        is None
    )
    boss = uow.session.scalar(select(Employee).where(Employee.login == "boss"))
    assert boss is not None
    boss.is_active = False
    assert feed_access.resolve(uow, token, rate_limit=10) is None
    boss.is_active = True
    with freeze_time(dt.datetime(2099, 1, 1, tzinfo=dt.UTC)):
        _, expiring = feeds.create_feed(
            uow, _spec(expires_at=dt.datetime(2099, 1, 2, tzinfo=dt.UTC)), secret=SECRET
        )
        assert feed_access.resolve(uow, expiring, rate_limit=10) is not None
    with freeze_time(dt.datetime(2099, 1, 3, tzinfo=dt.UTC)):
        assert feed_access.resolve(uow, expiring, rate_limit=10) is None
    feeds.revoke(uow, view.id)
    assert feed_access.resolve(uow, token, rate_limit=10) is None
    with pytest.raises(NotFound):
        feeds.get_feed(uow.acting_as(setup.actor(setup.employee("stranger"))), view.id)


def test_visible_tasks_follow_filters_window_and_cap(uow: UnitOfWork, setup: Factory) -> None:
    boss = _view(uow, "boss")
    register = setup.register("RZ")
    now = uow.now()
    soon = setup.task(register, boss, "soon", due=now + dt.timedelta(days=2))
    later = setup.task(register, boss, "later", due=now + dt.timedelta(days=400))
    setup.task(register, boss, "undated")
    done = setup.task(register, boss, "done", due=now + dt.timedelta(days=3))
    set_status(uow, done.id, TaskStatus.DONE)
    view, _ = feeds.create_feed(uow, _spec(registers=("RZ",)), secret=SECRET)
    ids, private = feed_access.visible_task_ids(uow, view.id)
    assert ids == [soon.id]
    assert private == set()
    wide, _ = feeds.create_feed(
        uow, _spec(registers=("RZ",), include_completed=True, days_ahead=500), secret=SECRET
    )
    assert feed_access.visible_task_ids(uow, wide.id)[0] == [soon.id, done.id, later.id]
    capped, _ = feeds.create_feed(
        uow, _spec(registers=("RZ",), include_completed=True, max_items=2), secret=SECRET
    )
    assert feed_access.visible_task_ids(uow, capped.id)[0] == [soon.id, done.id]
    items.add_note(uow, soon.id, "pierwsza")
    items.add_note(uow, soon.id, "druga")
    assert feed_access.recent_notes(uow, [soon.id]) == {soon.id: ["pierwsza", "druga"]}


def test_every_kind_of_miss_does_the_same_work(uow: UnitOfWork, setup: Factory) -> None:
    """Unknown, revoked and expired links run the same statements, so neither the answer nor
    the database work tells an attacker which kind of link they hold."""
    view, revoked = feeds.create_feed(uow, _spec(), secret=SECRET)
    feeds.revoke(uow, view.id)
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    _, expired = feeds.create_feed(uow, _spec(expires_at=past), secret=SECRET)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = uow.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        shapes = []
        for token in ("A" * 32, revoked, expired):
            statements.clear()
            assert feed_access.resolve(uow, token, rate_limit=10) is None
            shapes.append(list(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert shapes[0] == shapes[1] == shapes[2]
