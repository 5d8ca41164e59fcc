"""``token create|list|revoke``: the console script issues, lists and revokes API tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_groupware.db.session import Actor, Database, make_engine
from hermes_groupware.filestore import FileStore
from hermes_groupware.models.enums import Source
from hermes_groupware.services import api_tokens
from tests.hermes_groupware.cli.conftest import Run, as_json


@pytest.fixture
def people(run: Run) -> Run:
    run("db", "upgrade")
    run("employee", "add", "jan", "--first-name", "Jan", "--last-name", "Kowalski")
    run("employee", "add", "ola", "--first-name", "Ola", "--last-name", "Nowak")
    return run


def _owner_of(env: dict[str, str], token: str) -> str | None:
    """Who the token acts as, checked in the database the CLI wrote to."""
    engine = make_engine(env["HERMES_DATABASE_URL"])
    try:
        database = Database(engine, FileStore(Path(env["HERMES_FILES_PATH"]), 1024))
        with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            found = api_tokens.authenticate(uow, token)
            return found.actor.login if found else None
    finally:
        engine.dispose()


def test_create_list_revoke(people: Run, cli_env: dict[str, str]) -> None:
    created = as_json(
        people("token", "create", "--owner", "jan", "--name", "ERP", "--scopes", "read,write",
               "--days", "30", "--json")
    )  # fmt: skip
    token = created["token"]
    assert token.startswith("hgt_")
    assert created["scopes"] == ["read", "write"]
    assert _owner_of(cli_env, token) == "jan"

    plain = people("token", "create", "--owner", "ola", "--name", "skrypt")
    assert plain.stdout.splitlines()[0].startswith("hgt_")
    assert "shown only this once" in plain.stdout

    listed = as_json(people("token", "list", "--owner", "jan", "--json"))
    assert [t["name"] for t in listed] == ["ERP"]
    assert token not in str(listed)
    assert people("--as", "jan", "token", "list").stdout.count("ERP") == 1

    people("token", "revoke", str(created["id"]))
    assert _owner_of(cli_env, token) is None
    listed = as_json(people("token", "list", "--owner", "jan", "--json"))
    assert listed[0]["revoked_at"] is not None


def test_refusals_name_the_problem(people: Run) -> None:
    unknown = people("token", "create", "--owner", "jan", "--name", "x", "--scopes", "root",
                     expect=2)  # fmt: skip
    assert "scopes" in unknown.stderr
    not_admin = people("token", "create", "--owner", "jan", "--name", "x", "--scopes", "admin",
                       expect=4)  # fmt: skip
    assert "admin" in not_admin.stderr
    people("--as", "jan", "token", "create", "--owner", "ola", "--name", "x", expect=4)
    people("token", "create", "--owner", "nobody", "--name", "x", expect=2)
    people("token", "create", "--owner", "jan", "--name", "x", "--days", "0", expect=2)
    created = as_json(people("token", "create", "--owner", "ola", "--name", "x", "--json"))
    people("--as", "jan", "token", "revoke", str(created["id"]), expect=3)
