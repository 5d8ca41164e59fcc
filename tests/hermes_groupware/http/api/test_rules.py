"""``/rules``: notification rules, administrators only; whole-rule validation names the field."""

from __future__ import annotations

import pytest

from tests.hermes_groupware.http.api.conftest import ApiServer

RULE = {
    "name": "Reklamacja <b>zmieniona</b>",
    "event": "status-changed",
    "recipients": ["assignee", "group:reklamacje", "kierownik@firma.pl"],
    "register": "rek",
    "to_status": "done",
    "field": {"key": "numer_partii", "value": "P-1234"},
}


@pytest.fixture(scope="module")
def admin(api_server: ApiServer) -> str:
    """A token with every scope."""
    return api_server.token("admin", ("read", "write", "admin"))


def test_only_administrators(api_server: ApiServer) -> None:
    jan = api_server.token("jkowalski")
    for method, path in (("GET", "/rules"), ("POST", "/rules"), ("DELETE", "/rules/1")):
        refused = api_server.call(method, path, token=jan, json=RULE)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "insufficient_scope"
    assert api_server.call("GET", "/rules", login="jkowalski").status_code == 403
    assert api_server.call("GET", "/rules", token=api_server.token("admin")).status_code == 403


def test_create_read_replace_delete(api_server: ApiServer, admin: str) -> None:
    created = api_server.call("POST", "/rules", token=admin, json=RULE)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["recipients"] == ["assignee", "group:reklamacje", "email:kierownik@firma.pl"]
    assert (rule["register"], rule["to_status"], rule["active"]) == ("REK", "done", True)
    assert rule["field"] == {"key": "numer_partii", "value": "P-1234"}
    path = f"/rules/{rule['id']}"
    assert api_server.call("GET", path, token=admin).json() == rule
    listed = api_server.call("GET", "/rules", token=admin).json()["items"]
    assert rule["id"] in {r["id"] for r in listed}

    due = {"event": "due-soon", "recipients": ["anowak"], "lead_minutes": 60, "active": False}
    replaced = api_server.call("PUT", path, token=admin, json=due)
    assert replaced.status_code == 200, replaced.text
    now = replaced.json()
    assert (now["name"], now["recipients"], now["register"]) == ("due-soon", ["login:anowak"], None)
    assert (now["lead_minutes"], now["field"], now["active"]) == (60, None, False)

    assert api_server.call("DELETE", path, token=admin).status_code == 204
    assert api_server.call("GET", path, token=admin).status_code == 404
    assert api_server.call("PUT", path, token=admin, json=due).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": ["nikt.taki"]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["group:nie-ma"]}, "recipients"),
        ({"event": "due-soon", "to_status": None}, "lead_minutes"),
        ({"event": "assigned"}, "from_status"),
        ({"register": "XYZ"}, "register"),
        ({"customer_id": 999999}, "customer_id"),
        ({"field": {"key": "typ_urzadzenia", "value": "x"}}, "field.key"),
        ({"event": "overdue", "to_status": None, "at_local_time": "25:00"}, "at_local_time"),
        ({"event": "meteor-strike"}, "event"),
        ({"name": "x\x00"}, "name"),
        ({"channel": "pigeon"}, "channel"),
    ],
)
def test_validation_names_the_field(
    api_server: ApiServer, admin: str, change: dict[str, object], field: str
) -> None:
    response = api_server.call("POST", "/rules", token=admin, json=RULE | change)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
