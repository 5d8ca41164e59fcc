"""``/app-passwords`` and ``/tokens``: one's own credentials, shown once, stored hashed."""

from __future__ import annotations

import hashlib

import requests
from sqlalchemy import select

from hermes_groupware.models import ApiToken
from tests.hermes_groupware.http.api.conftest import ApiServer


def _error(response: requests.Response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field


def test_app_password_lifecycle(api_server: ApiServer) -> None:
    created = api_server.call(
        "POST", "/app-passwords", login="anowak", json={"label": "iPhone Agnieszki"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    password = body["password"]
    assert len(password) >= 20
    assert body["label"] == "iPhone Agnieszki"

    me = api_server.call("GET", "/me", login="anowak", password=password)
    assert me.status_code == 200
    listed = api_server.call("GET", "/app-passwords", login="anowak").json()["items"]
    assert {"iPhone Agnieszki", "demo"} <= {p["label"] for p in listed}
    assert password not in str(listed)
    assert all("password" not in p for p in listed)

    deleted = api_server.call("DELETE", f"/app-passwords/{body['id']}", login="anowak")
    assert deleted.status_code == 204
    assert api_server.call("GET", "/me", login="anowak", password=password).status_code == 401
    again = api_server.call("DELETE", f"/app-passwords/{body['id']}", login="anowak")
    _error(again, 404, "not_found")
    api_server.clear_login_failures()


def test_someone_elses_app_password_is_404(api_server: ApiServer) -> None:
    theirs = api_server.call("GET", "/app-passwords", login="mzielinska").json()["items"][0]
    response = api_server.call("DELETE", f"/app-passwords/{theirs['id']}", login="jkowalski")
    _error(response, 404, "not_found")
    assert api_server.call("GET", "/me", login="mzielinska").status_code == 200


def test_a_narrow_token_may_not_mint_an_app_password(api_server: ApiServer) -> None:
    read_write_of_admin = api_server.token("admin", ("read", "write"))
    response = api_server.call(
        "POST", "/app-passwords", token=read_write_of_admin, json={"label": "laptop"}
    )
    _error(response, 403, "permission_denied")
    full = api_server.token("jkowalski", ("read", "write"))
    ok = api_server.call("POST", "/app-passwords", token=full, json={"label": "laptop"})
    assert ok.status_code == 201


def test_bad_app_password_label_is_422(api_server: ApiServer) -> None:
    for body, field in (({"label": ""}, "label"), ({}, "label"), ({"label": "x" * 101}, "label")):
        response = api_server.call("POST", "/app-passwords", login="jkowalski", json=body)
        _error(response, 422, "invalid_input", field)


def test_token_lifecycle_and_only_a_hash_is_stored(api_server: ApiServer) -> None:
    created = api_server.call(
        "POST",
        "/tokens",
        login="pwisniewski",
        json={"name": "Integracja ERP", "scopes": ["read"], "expires_in_days": 7},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith("hgt_") and len(token) > 40
    assert body["scopes"] == ["read"]
    assert body["hint"] == token[:10]
    with api_server.uow() as uow:
        row = uow.session.get(ApiToken, body["id"])
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = [str(v) for v in row.__dict__.values()]
        assert all(token not in value for value in stored)
    listed = api_server.call("GET", "/tokens", token=token).json()["items"]
    assert body["id"] in {t["id"] for t in listed}
    assert token not in str(listed)

    revoked = api_server.call("DELETE", f"/tokens/{body['id']}", login="pwisniewski")
    assert revoked.status_code == 204
    assert api_server.call("GET", "/me", token=token).status_code == 401
    listed = api_server.call("GET", "/tokens", login="pwisniewski").json()["items"]
    assert next(t for t in listed if t["id"] == body["id"])["revoked_at"] is not None


def test_someone_elses_token_is_404(api_server: ApiServer) -> None:
    theirs = api_server.token("mzielinska")
    with api_server.uow() as uow:
        theirs_id = uow.session.scalars(select(ApiToken.id).order_by(ApiToken.id.desc())).first()
    _error(api_server.call("DELETE", f"/tokens/{theirs_id}", login="jkowalski"), 404, "not_found")
    assert api_server.call("GET", "/me", token=theirs).status_code == 200


def test_a_token_never_exceeds_its_creator(api_server: ApiServer) -> None:
    read_only = api_server.token("jkowalski", ("read",))
    # a read token cannot call POST at all; a read+write token cannot grant admin
    denied = api_server.call(
        "POST", "/tokens", token=read_only, json={"name": "x", "scopes": ["read"]}
    )
    _error(denied, 403, "insufficient_scope")
    admin_plain = api_server.token("admin", ("read", "write"))
    beyond = api_server.call(
        "POST", "/tokens", token=admin_plain, json={"name": "x", "scopes": ["admin"]}
    )
    _error(beyond, 403, "permission_denied")
    not_admin = api_server.call(
        "POST", "/tokens", login="jkowalski", json={"name": "x", "scopes": ["read", "admin"]}
    )
    _error(not_admin, 403, "permission_denied")
    admin_full = api_server.call(
        "POST", "/tokens", login="admin", json={"name": "x", "scopes": ["admin", "read"]}
    )
    assert admin_full.status_code == 201
    assert admin_full.json()["scopes"] == ["read", "admin"]


def test_bad_token_requests_are_422(api_server: ApiServer) -> None:
    cases = [
        ({"name": "x", "scopes": ["root"]}, "scopes.0"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 3651}, "expires_in_days"),
        ({"scopes": ["read"]}, "name"),
    ]
    for body, field in cases:
        response = api_server.call("POST", "/tokens", login="jkowalski", json=body)
        _error(response, 422, "invalid_input", field)
