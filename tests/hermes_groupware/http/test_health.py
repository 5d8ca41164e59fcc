"""``/healthz`` and ``/readyz`` through a real server, on the dialect under test."""

from __future__ import annotations

from pathlib import Path

from hermes_groupware.db import migrate
from hermes_groupware.db.session import make_engine
from tests.conftest import DatabaseFactory, migrated
from tests.hermes_groupware.http.conftest import ServeApp, settings_for
from tests.ports import free_port

OLDER = "0006"  # any revision before head: a deploy that forgot `db upgrade`


def test_ready_at_head(db_factory: DatabaseFactory, tmp_path: Path, serve_app: ServeApp) -> None:
    url = db_factory.new_url()
    engine = migrated(url)
    head = migrate.head_revision(engine)
    engine.dispose()
    with serve_app(settings_for(url, tmp_path)) as server:
        alive = server.request("GET", "/healthz")
        ready = server.request("GET", "/readyz")
        refused = server.request("POST", "/readyz")
    assert (alive.status, alive.body) == (200, b"ok\n")
    assert (ready.status, ready.json()) == (200, {"status": "ready", "schema": head})
    assert ready.headers["content-type"] == "application/json"
    assert ready.headers["cache-control"] == "no-store"
    assert (refused.status, refused.headers["allow"]) == (405, "GET, HEAD")


def test_not_ready_while_the_schema_is_behind_then_ready_after_upgrade(
    db_factory: DatabaseFactory, tmp_path: Path, serve_app: ServeApp
) -> None:
    url = db_factory.new_url()
    engine = make_engine(url)
    migrate.upgrade(engine, OLDER)
    head = migrate.head_revision(engine)
    try:
        with serve_app(settings_for(url, tmp_path)) as server:
            behind = server.request("GET", "/readyz")
            alive = server.request("GET", "/healthz")
            migrate.upgrade(engine)  # the operator runs `db upgrade`; no restart
            after = server.request("GET", "/readyz")
    finally:
        engine.dispose()
    assert behind.status == 503
    assert behind.json()["status"] == "unavailable"
    assert behind.json()["schema"] == OLDER
    assert f"at {OLDER}, this version needs {head}" in behind.json()["reason"]
    assert "hermes-groupware db upgrade" in behind.json()["reason"]
    assert alive.status == 200  # alive all along: nothing to restart
    assert (after.status, after.json()["schema"]) == (200, head)


def test_an_empty_database_is_not_ready(
    db_factory: DatabaseFactory, tmp_path: Path, serve_app: ServeApp
) -> None:
    with serve_app(settings_for(db_factory.new_url(), tmp_path)) as server:
        reply = server.request("GET", "/readyz")
    assert reply.status == 503
    assert "schema at (empty)" in reply.json()["reason"]


def test_healthz_needs_no_database_and_readyz_says_it_is_unreachable(
    tmp_path: Path, serve_app: ServeApp
) -> None:
    nowhere = f"postgresql+psycopg://hermes@127.0.0.1:{free_port()}/hermes"  # nobody listens
    with serve_app(settings_for(nowhere, tmp_path)) as server:
        alive = server.request("GET", "/healthz")
        ready = server.request("GET", "/readyz")
        head = server.request("HEAD", "/healthz")
    assert (alive.status, alive.body) == (200, b"ok\n")
    assert head.status == 200
    assert ready.status == 503
    assert ready.json() == {
        "status": "unavailable",
        "reason": "database unreachable (OperationalError)",
    }
