"""Authentication: Basic with app passwords (lockout as CalDAV), bearer tokens (expired,
revoked, scopes), and the same 401 for every kind of failure."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from hermes_groupware.db.session import Actor
from hermes_groupware.models import AppPassword
from hermes_groupware.models.enums import Source, Visibility
from hermes_groupware.services import tasks as task_service
from hermes_groupware.services.directory import set_app_password
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from tests.hermes_groupware.http.api.conftest import PASSWORD, ApiServer


@pytest.fixture(autouse=True)
def _forget_failures(api_server: ApiServer) -> Iterator[None]:
    """Failed logins count per address too; every test starts from a clean count."""
    api_server.clear_login_failures()
    yield
    api_server.clear_login_failures()


def _assert_401(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.headers["Content-Type"] == "application/json"  # type: ignore[attr-defined]
    assert "Basic" in response.headers["WWW-Authenticate"]  # type: ignore[attr-defined]
    assert "Bearer" in response.headers["WWW-Authenticate"]  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "unauthorized"  # type: ignore[attr-defined]


def test_no_credentials_is_401_with_a_challenge(api_server: ApiServer) -> None:
    _assert_401(api_server.call("GET", "/tasks"))


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Bearer ",
        "Bearer hgt_" + "x" * 43,
        "Bearer not-even-our-prefix",
        "Digest username=admin",
    ],
)
def test_malformed_or_unknown_credentials_are_401(api_server: ApiServer, header: str) -> None:
    _assert_401(api_server.call("GET", "/me", headers={"Authorization": header}))


def test_basic_with_an_app_password(api_server: ApiServer) -> None:
    me = api_server.call("GET", "/me", login="jkowalski").json()
    assert me["employee"]["login"] == "jkowalski"
    assert me["authenticated_by"] == "basic"
    assert me["scopes"] == ["read", "write"]
    admin = api_server.call("GET", "/me", login="admin").json()
    assert admin["scopes"] == ["read", "write", "admin"]


def test_basic_with_a_wrong_password_is_401(api_server: ApiServer) -> None:
    _assert_401(api_server.call("GET", "/me", login="jkowalski", password="wrong-password-1"))
    _assert_401(api_server.call("GET", "/me", login="nobody", password="wrong-password-1"))


def test_lockout_after_repeated_failures_refuses_even_the_right_password(
    api_server: ApiServer,
) -> None:
    failures = api_server.settings.caldav.lockout_failures
    for _ in range(failures):
        _assert_401(api_server.call("GET", "/me", login="ebrown", password="guess-guess-1"))
    locked = api_server.call("GET", "/me", login="ebrown")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) >= 1
    assert api_server.call("GET", "/me", login="jkowalski").status_code == 200  # others go on


def test_token_acts_as_its_owner(api_server: ApiServer) -> None:
    token = api_server.token("jkowalski", ("read",))
    me = api_server.call("GET", "/me", token=token).json()
    assert (me["employee"]["login"], me["authenticated_by"], me["scopes"]) == (
        "jkowalski",
        "token",
        ["read"],
    )
    listed = api_server.call("GET", "/tokens", token=token).json()["items"]
    assert listed[0]["last_used_at"] is not None


def test_expired_token_is_401(api_server: ApiServer) -> None:
    with freeze_time(dt.datetime.now(dt.UTC) - dt.timedelta(days=2)):
        token = api_server.token("jkowalski", days=1)
    response = api_server.call("GET", "/me", token=token)
    _assert_401(response)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_token_is_401(api_server: ApiServer) -> None:
    token = api_server.token("jkowalski")
    token_id = api_server.call("GET", "/tokens", token=token).json()["items"][0]["id"]
    assert api_server.call("DELETE", f"/tokens/{token_id}", token=token).status_code == 204
    _assert_401(api_server.call("GET", "/me", token=token))


def test_read_token_may_not_write(api_server: ApiServer) -> None:
    token = api_server.token("jkowalski", ("read",))
    response = api_server.call(
        "POST", "/tasks", token=token, json={"register": "HAN", "subject": "Nie wolno"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert api_server.call("GET", "/tasks", token=token).status_code == 200


def test_admin_token_without_admin_scope_acts_as_a_plain_employee(api_server: ApiServer) -> None:
    """The admin's private-to-others task is visible with ``admin``, hidden without it."""
    with api_server.uow() as uow:
        task = task_service.create_task(
            uow,
            register_id=register_by_code(uow.session, "SER").id,
            subject="Poufne zlecenie serwisowe",
            responsible_id=employee_by_login(uow.session, "kwojcik").id,
            changes=task_service.TaskChanges(visibility=Visibility.PRIVATE),
        )
        task_id = task.id
    full = api_server.token("admin", ("read", "write", "admin"))
    plain = api_server.token("admin", ("read", "write"))
    assert api_server.call("GET", f"/tasks/{task_id}", token=full).status_code == 200
    hidden = api_server.call("GET", f"/tasks/{task_id}", token=plain)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    me = api_server.call("GET", "/me", token=plain).json()
    assert me["scopes"] == ["read", "write"]


def test_inactive_owner_token_is_401(api_server: ApiServer) -> None:
    from sqlalchemy import update

    from hermes_groupware.models import Employee

    token = api_server.token("tdabrowski")
    assert api_server.call("GET", "/me", token=token).status_code == 200
    with api_server.uow() as uow:
        uow.session.execute(
            update(Employee).where(Employee.login == "tdabrowski").values(is_active=False)
        )
    try:
        _assert_401(api_server.call("GET", "/me", token=token))
    finally:
        with api_server.uow() as uow:
            uow.session.execute(
                update(Employee).where(Employee.login == "tdabrowski").values(is_active=True)
            )


def test_basic_shares_the_caldav_login_cache(api_server: ApiServer) -> None:
    """A pair CalDAV verified moments ago needs no Argon2 in the API: while its login is locked
    out it still works there, as in CalDAV; a pair never verified is refused."""
    propfind = api_server.http.request(
        "PROPFIND", f"{api_server.base}/", auth=("kwojcik", PASSWORD),
        headers={"Depth": "0"}, timeout=30,
    )  # fmt: skip
    assert propfind.status_code == 207
    for login in ("kwojcik", "tdabrowski"):
        for _ in range(api_server.settings.caldav.lockout_failures):
            _assert_401(api_server.call("GET", "/me", login=login, password="guess-guess-1"))
    assert api_server.call("GET", "/me", login="kwojcik").status_code == 200
    assert api_server.call("GET", "/me", login="tdabrowski").status_code == 429


def test_basic_rechecks_a_known_pair_without_a_hash_and_sees_a_revocation(
    api_server: ApiServer,
) -> None:
    """After ``login_cache_seconds`` a pair is re-checked with one read (a full verification
    would write last_used_at again); an app password revoked meanwhile (by another instance,
    or in plain SQL) is refused."""
    with api_server.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        password = set_app_password(uow, "mzielinska", label="api-recheck")
    mine = select(AppPassword).where(AppPassword.label == "api-recheck")

    def last_used() -> dt.datetime | None:
        with api_server.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            return uow.session.scalars(mine).one().last_used_at

    pause = dt.timedelta(seconds=api_server.settings.caldav.login_cache_seconds + 1)
    with freeze_time(dt.datetime.now(dt.UTC), tick=True) as clock:
        assert api_server.call("GET", "/me", login="mzielinska", password=password).ok
        verified = last_used()
        clock.tick(pause)
        assert api_server.call("GET", "/me", login="mzielinska", password=password).ok
        assert last_used() == verified
        with api_server.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            uow.session.execute(
                update(AppPassword)
                .where(AppPassword.label == "api-recheck")
                .values(revoked_at=uow.now())
            )
        clock.tick(pause)
        _assert_401(api_server.call("GET", "/me", login="mzielinska", password=password))
