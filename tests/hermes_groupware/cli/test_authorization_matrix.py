"""``--as LOGIN``: every employee of the matrix office × every task, show / update / note,
refused exactly where ``tests.authz_world.EXPECTED`` says (exit 3 not found, 4 denied).

The matrix calls the CLI's ``main()`` in-process on the test's database (about 100 commands);
one run of the real console script checks that it answers the same.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hermes_groupware.cli import context as cli_context
from hermes_groupware.cli import main
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.models.enums import Source
from tests.authz_world import EXPECTED, HIDDEN_SUBJECT, LOGINS, AuthzWorld, build
from tests.conftest import DatabaseFactory, migrated
from tests.hermes_groupware.cli.conftest import SCRIPT

NOT_FOUND, DENIED = 3, 4


@dataclass(frozen=True)
class Office:
    """The committed office, the config file the CLI reads, and its database URL."""

    world: AuthzWorld
    config: Path
    url: str


@pytest.fixture(scope="module")
def office(
    db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Office]:
    """The office in a database of its own; the CLI in this process is given that database."""
    tmp = tmp_path_factory.mktemp("cli-authz")
    url = db_factory.new_url()
    engine = migrated(url)
    database = Database(engine, FileStore(tmp / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        world = build(uow)
    config = tmp / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nlevel = "WARNING"\n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:  # one engine, disposed below
        patch.setattr(cli_context, "database_from_settings", lambda _settings: database)
        yield Office(world, config, url)
    engine.dispose()


def _cli(office: Office, login: str, *args: str) -> int:
    return main(["--config", str(office.config), "--as", login, *args])


def _expected(login: str, key: str, *, write: bool) -> int:
    rights = EXPECTED[key]
    if login == "byly":
        return DENIED  # an inactive employee cannot act at all
    if not rights.may_read(login):
        return NOT_FOUND
    return DENIED if write and not rights.may_edit(login) else 0


@pytest.mark.parametrize("login", LOGINS)
def test_show_update_note_as_each_employee(
    office: Office, login: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, number in office.world.numbers.items():
        assert _cli(office, login, "task", "show", number) == _expected(login, key, write=False)
        assert _cli(office, login, "task", "update", number, "--priority", "high") == _expected(
            login, key, write=True
        ), (login, key)
        assert _cli(office, login, "task", "note", number, f"Notatka {login}") == _expected(
            login, key, write=True
        ), (login, key)
    capsys.readouterr()


def test_the_delegate_never_learns_the_hidden_parent(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    numbers = office.world.numbers
    assert _cli(office, "delegat", "task", "show", numbers["podzadanie"], "--json") == 0
    assert _cli(office, "delegat", "task", "list", "--register", "ZAS", "--json") == 0
    shown = capsys.readouterr().out
    assert numbers["podzadanie"] in shown
    assert numbers["ukryty_rodzic"] not in shown
    assert HIDDEN_SUBJECT not in shown


def test_the_console_script_refuses_the_same(office: Office) -> None:
    """A real process: the hidden parent is not found for the delegate, an edit is denied."""
    numbers = office.world.numbers
    env = {"HERMES_CONFIG": str(office.config), "HERMES_DATABASE_URL": office.url}
    for args, code in (
        (("task", "show", numbers["ukryty_rodzic"]), NOT_FOUND),
        (("task", "update", numbers["otwarte"], "--priority", "low"), DENIED),
    ):
        done = subprocess.run(  # noqa: PLW1510 - the exit code is the assertion
            [SCRIPT, "--as", "delegat", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert HIDDEN_SUBJECT not in done.stdout + done.stderr
