"""Fixtures of the console-script tests: a separate process against a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DatabaseFactory

SCRIPT = str(Path(sys.executable).with_name("hermes-groupware"))
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(db_factory: DatabaseFactory, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nlevel = "WARNING"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    env.update(
        HERMES_CONFIG=str(config),
        HERMES_DATABASE_URL=db_factory.new_url(),
        HERMES_FILES_PATH=str(tmp_path / "files"),
    )
    return env


@pytest.fixture
def run(cli_env: dict[str, str]) -> Run:
    def _run(
        *args: str, expect: int = 0, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: PLW1510 - the exit code is checked below
            [SCRIPT, *args], env=cli_env, capture_output=True, text=True, input=stdin, timeout=120
        )
        assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result

    return _run


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def demo(run: Run) -> Run:
    run("db", "upgrade")
    run("demo-data", "--tasks", "80", "--seed", "7")
    return run
