"""Every employee × every task × read/write through the real JSON API and the real feed links.

The expected answers come from ``tests.authz_world.EXPECTED`` only: read → 200 else 404 (a
hidden task is never told apart from a missing one); write → 2xx when editable, 403 when only
readable, 404 when invisible; an inactive employee's credentials are a 401 everywhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from icalendar import Calendar

from tests.authz_world import (
    ACTIVE,
    ALL_TASKS_VIEW,
    EXPECTED,
    HIDDEN_SUBJECT,
    LOGINS,
    PRIVATE_VIEW,
    AuthzWorld,
    build,
)
from tests.hermes_groupware.http.api.conftest import ApiServer

ADMIN_ONLY = ("/quarantine", "/outbox", "/rules")


@pytest.fixture(scope="module")
def world(api_server: ApiServer) -> AuthzWorld:
    """The matrix office, committed next to the demo data (it uses registers of its own)."""
    with api_server.uow() as uow:
        return build(uow)


def _as(
    api_server: ApiServer, world: AuthzWorld, login: str, method: str, path: str, **kw: Any
) -> requests.Response:
    if login == "byly":  # each 401 counts as a failed login: keep it from turning into 429
        api_server.clear_login_failures()
    return api_server.call(method, path, login=login, password=world.passwords[login], **kw)


def _write_status(login: str, key: str, created: int) -> int:
    rights = EXPECTED[key]
    if login == "byly":
        return 401
    if rights.may_edit(login):
        return created
    return 403 if rights.may_read(login) else 404


def _read_status(login: str, key: str) -> int:
    if login == "byly":
        return 401
    return 200 if EXPECTED[key].may_read(login) else 404


@pytest.mark.parametrize("login", LOGINS)
def test_task_reads(api_server: ApiServer, world: AuthzWorld, login: str) -> None:
    for key, task_id in world.task_ids.items():
        for path in (
            f"/tasks/{task_id}",
            f"/tasks/{world.numbers[key]}",
            f"/tasks/{task_id}/files",
        ):
            got = _as(api_server, world, login, "GET", path)
            assert got.status_code == _read_status(login, key), (login, key, path, got.text)


def test_a_hidden_task_reads_like_a_missing_one(api_server: ApiServer, world: AuthzWorld) -> None:
    missing = _as(api_server, world, "obcy", "GET", "/tasks/999999999")
    hidden = _as(api_server, world, "obcy", "GET", f"/tasks/{world.task_ids['ukryty_rodzic']}")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


@pytest.fixture(scope="module")
def files(api_server: ApiServer, world: AuthzWorld) -> dict[str, int]:
    """One file on every task, attached by the admin: item ids by task key."""
    attached = {}
    for key, task_id in world.task_ids.items():
        sent = _as(
            api_server, world, "szef", "POST", f"/tasks/{task_id}/files",
            params={"filename": f"{key}.txt"}, data=key.encode(),
            headers={"Content-Type": "text/plain"},
        )  # fmt: skip
        assert sent.status_code == 201, sent.text
        attached[key] = sent.json()["id"]
    return attached


@pytest.mark.parametrize("login", LOGINS)
def test_file_downloads(
    api_server: ApiServer, world: AuthzWorld, files: dict[str, int], login: str
) -> None:
    for key, item_id in files.items():
        got = _as(api_server, world, login, "GET", f"/tasks/{world.task_ids[key]}/files/{item_id}")
        assert got.status_code == _read_status(login, key), (login, key, got.text)
        if got.status_code == 200:
            assert got.content == key.encode()


@pytest.mark.parametrize("login", ACTIVE)
def test_task_list_holds_exactly_the_visible(
    api_server: ApiServer, world: AuthzWorld, login: str
) -> None:
    listed: set[int] = set()
    for code in ("OTW", "ZAS"):
        page = _as(api_server, world, login, "GET", "/tasks", params={"register": code})
        if page.status_code == 200:
            listed |= {item["id"] for item in page.json()["items"]}
        else:  # an unreadable register may be refused as a filter; then nothing is listed
            assert page.status_code in (403, 404), page.text
    assert {world.key_of(i) for i in listed} == world.visible(login)


@pytest.mark.parametrize("login", LOGINS)
def test_task_writes(api_server: ApiServer, world: AuthzWorld, login: str) -> None:
    for key, task_id in world.task_ids.items():
        patched = _as(
            api_server, world, login, "PATCH", f"/tasks/{task_id}", json={"priority": "high"}
        )
        assert patched.status_code == _write_status(login, key, 200), (login, key, patched.text)
        note = _as(
            api_server, world, login, "POST", f"/tasks/{task_id}/notes",
            json={"body": f"Notatka od {login}"},
        )  # fmt: skip
        assert note.status_code == _write_status(login, key, 201), (login, key, note.text)
        upload = _as(
            api_server, world, login, "POST", f"/tasks/{task_id}/files",
            params={"filename": "notatka.txt"}, data=b"tresc",
            headers={"Content-Type": "text/plain"},
        )  # fmt: skip
        assert upload.status_code == _write_status(login, key, 201), (login, key, upload.text)


@pytest.mark.parametrize("login", LOGINS)
def test_admin_surfaces(api_server: ApiServer, world: AuthzWorld, login: str) -> None:
    for path in ADMIN_ONLY:
        got = _as(api_server, world, login, "GET", path)
        expected = {"szef": 200, "byly": 401}.get(login, 403)
        assert got.status_code == expected, (login, path, got.text)


def test_the_delegate_never_learns_the_hidden_parent(
    api_server: ApiServer, world: AuthzWorld
) -> None:
    parent_number = world.numbers["ukryty_rodzic"]
    sub = _as(api_server, world, "delegat", "GET", f"/tasks/{world.task_ids['podzadanie']}")
    assert sub.status_code == 200
    assert sub.json()["task"]["parent"] is None
    listed = _as(api_server, world, "delegat", "GET", "/tasks", params={"register": "ZAS"})
    searched = _as(api_server, world, "delegat", "GET", "/tasks", params={"q": "Przetarg tajny"})
    assert searched.json()["items"] == []
    for answer in (sub, listed, searched):
        assert HIDDEN_SUBJECT not in answer.text
        assert parent_number not in answer.text
    # the manager, who may see both, is shown the parent: the rule hides, it does not lose
    boss = _as(api_server, world, "kierownik", "GET", f"/tasks/{world.task_ids['podzadanie']}")
    assert parent_number in boss.text
    found = _as(api_server, world, "kierownik", "GET", "/tasks", params={"q": "Przetarg tajny"})
    assert [t["number"] for t in found.json()["items"]] == [parent_number]


#: feed scopes, and the keys of the tasks each would show to someone who may see everything
FEED_SCOPES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "view": ({"view": ALL_TASKS_VIEW}, set(EXPECTED)),
    "employee": ({"employee": "kierownik"}, {"zastrzezone", "ukryty_rodzic", "podzadanie"}),
    "registers": ({"registers": ["ZAS"]}, {"zastrzezone", "ukryty_rodzic", "podzadanie"}),
}


@pytest.fixture(scope="module")
def feed_links(api_server: ApiServer, world: AuthzWorld) -> dict[tuple[str, str], str]:
    """A feed of every scope owned by each active employee (made by the admin): link paths."""
    links = {}
    for login in ACTIVE:
        for scope, (spec, _keys) in FEED_SCOPES.items():
            created = _as(
                api_server, world, "szef", "POST", "/feeds",
                json={"name": f"Macierz {login} {scope}", "owner": login, "profile": "both",
                      **spec},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            links[login, scope] = urlsplit(created.json()["links"][0]["https"]).path
    return links


@pytest.mark.parametrize("scope", FEED_SCOPES)
@pytest.mark.parametrize("login", ACTIVE)
def test_feeds_show_only_what_their_owner_may_see(
    api_server: ApiServer,
    world: AuthzWorld,
    feed_links: dict[tuple[str, str], str],
    login: str,
    scope: str,
) -> None:
    body = api_server.http.get(api_server.base + feed_links[login, scope], timeout=30)
    assert body.status_code == 200
    uids = {str(c["UID"]) for c in Calendar.from_ical(body.text).walk() if "UID" in c}
    ids = {int(uid.split("-")[1]) for uid in uids}
    ours = {key for key, task_id in world.task_ids.items() if task_id in ids}
    assert ours == world.visible(login) & FEED_SCOPES[scope][1], (login, uids)
    if not EXPECTED["ukryty_rodzic"].may_read(login):
        # no subject, no number, no RELATED-TO (the UIDs carry the task id)
        assert HIDDEN_SUBJECT not in body.text
        assert world.numbers["ukryty_rodzic"] not in body.text
        assert f"hermes-{world.task_ids['ukryty_rodzic']}-" not in body.text


@pytest.mark.parametrize("login", ACTIVE)
def test_feed_management_is_for_owners_and_admins(
    api_server: ApiServer, world: AuthzWorld, feed_links: dict[tuple[str, str], str], login: str
) -> None:
    listed = _as(api_server, world, login, "GET", "/feeds").json()["items"]
    assert f"Macierz {login} view" in {feed["name"] for feed in listed}
    if login != "szef":
        assert {feed["owner"] for feed in listed} == {login}
    everyone = _as(api_server, world, "szef", "GET", "/feeds").json()["items"]
    for feed in [f for f in everyone if f["name"].startswith("Macierz ")]:
        allowed = login in ("szef", feed["owner"])
        got = _as(api_server, world, login, "GET", f"/feeds/{feed['id']}")
        assert got.status_code == (200 if allowed else 404), (login, feed, got.text)
        if not allowed:
            rotate = _as(api_server, world, login, "POST", f"/feeds/{feed['id']}/rotate", json={})
            assert rotate.status_code == 404, (login, feed, rotate.text)


@pytest.fixture(scope="module")
def schedule_id(api_server: ApiServer, world: AuthzWorld) -> int:
    """A report schedule of the manager (not an admin), mailed to the manager."""
    created = _as(
        api_server, world, "kierownik", "POST", "/schedules",
        json={"name": "Zaległe kierownika", "reports": ["overdue"], "cron": "0 8 * * MON",
              "recipients": ["kierownik"]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.mark.parametrize("login", LOGINS)
def test_views_and_schedules(
    api_server: ApiServer, world: AuthzWorld, schedule_id: int, login: str
) -> None:
    manager_or_admin = {"szef": 200, "kierownik": 200, "byly": 401}
    view = _as(api_server, world, login, "GET", f"/views/{ALL_TASKS_VIEW}")
    assert view.status_code == (401 if login == "byly" else 200), (login, view.text)
    private = _as(api_server, world, login, "GET", f"/views/{PRIVATE_VIEW}")
    assert private.status_code == manager_or_admin.get(login, 404), (login, private.text)
    one = _as(api_server, world, login, "GET", f"/schedules/{schedule_id}")
    assert one.status_code == manager_or_admin.get(login, 404), (login, one.text)
    if login not in manager_or_admin:
        for method, path in (("POST", "/run-now"), ("DELETE", "")):
            refused = _as(api_server, world, login, method, f"/schedules/{schedule_id}{path}")
            assert refused.status_code == 404, (login, method, refused.text)
