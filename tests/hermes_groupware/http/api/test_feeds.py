"""``/feeds``: create (links shown), fetch the link for real, rotate, revoke; owners only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.hermes_groupware.http.api.conftest import ApiServer


@pytest.fixture(scope="module")
def admin(api_server: ApiServer) -> str:
    """A token with every scope."""
    return api_server.token("admin", ("read", "write", "admin"))


def _fetch(api_server: ApiServer, link: dict[str, str]) -> requests.Response:
    return api_server.http.get(api_server.base + urlsplit(link["https"]).path, timeout=30)


def _create(api_server: ApiServer, token: str, **body: Any) -> requests.Response:
    return api_server.call("POST", "/feeds", token=token, json=body)


def test_create_fetch_rotate_revoke(api_server: ApiServer, admin: str) -> None:
    created = _create(
        api_server, admin, name="Reklamacje dla dyrektora", registers=["rek"], owner="admin"
    )
    assert created.status_code == 201, created.text
    feed, (link,) = created.json()["feed"], created.json()["links"]
    assert (feed["scope"], feed["scope_detail"], feed["owner"]) == ("registers", "REK", "admin")
    assert link["webcal"].startswith("webcal://") and "calendar.google.com" in link["google"]
    fetched = _fetch(api_server, link)
    assert fetched.status_code == 200
    assert fetched.text.startswith("BEGIN:VCALENDAR")

    shown = api_server.call("GET", f"/feeds/{feed['id']}", token=admin).json()
    assert shown["links"] == [link]
    listed = api_server.call("GET", "/feeds", token=admin)
    assert feed["id"] in {f["id"] for f in listed.json()["items"]}
    assert urlsplit(link["https"]).path.split("/")[-1] not in listed.text  # no tokens in lists

    rotated = api_server.call("POST", f"/feeds/{feed['id']}/rotate", token=admin, json={})
    assert rotated.status_code == 200
    (new_link,) = rotated.json()["links"]
    assert new_link != link
    assert _fetch(api_server, link).status_code == 404
    assert _fetch(api_server, new_link).status_code == 200

    revoked = api_server.call("POST", f"/feeds/{feed['id']}/revoke", token=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert _fetch(api_server, new_link).status_code == 404


def test_employees_manage_only_their_own_feeds(api_server: ApiServer, admin: str) -> None:
    jan = api_server.token("jkowalski")
    own = _create(api_server, jan, name="Moje zadania", employee="jkowalski")
    assert own.status_code == 201, own.text
    assert own.json()["feed"]["owner"] == "jkowalski"
    for_someone_else = _create(api_server, jan, name="Cudze", employee="anowak", owner="anowak")
    assert for_someone_else.status_code == 403
    admins = _create(api_server, admin, name="Serwis", registers=["SER"]).json()["feed"]
    assert api_server.call("GET", f"/feeds/{admins['id']}", token=jan).status_code == 404
    rotate = api_server.call("POST", f"/feeds/{admins['id']}/rotate", token=jan, json={})
    assert rotate.status_code == 404
    listed = {f["id"] for f in api_server.call("GET", "/feeds", token=jan).json()["items"]}
    assert own.json()["feed"]["id"] in listed and admins["id"] not in listed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "scope"),
        ({"name": "x", "registers": ["REK"], "employee": "anowak"}, "scope"),
        ({"name": "x", "registers": ["NOPE"]}, "register"),
        ({"name": "x", "employee": "nobody"}, "employee"),
        ({"name": "x", "registers": ["REK"], "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "x", "registers": ["REK"], "colour": "red"}, "colour"),
        ({"name": "x", "registers": ["REK"], "ttl_minutes": 1}, "ttl_minutes"),
        ({"name": "x", "registers": ["REK"], "profile": "vevent"}, "profile"),
        ({"name": "", "registers": ["REK"]}, "name"),
        ({"name": "x", "registers": ["REK"], "link": "mine"}, "link"),
    ],
)
def test_bad_feed_input_is_422_naming_the_field(
    api_server: ApiServer, admin: str, body: dict[str, Any], field: str
) -> None:
    response = _create(api_server, admin, **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_unknown_feed_is_404(api_server: ApiServer, admin: str) -> None:
    for method, path in (("GET", "/feeds/999999"), ("POST", "/feeds/999999/revoke")):
        response = api_server.call(method, path, token=admin)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
