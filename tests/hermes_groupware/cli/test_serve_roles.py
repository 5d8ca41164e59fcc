"""``serve --roles``: which roles run, from the flag, ``[server] roles`` and the sections."""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import smtplib
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hermes_groupware.cli.roles import parse_roles, plan_roles
from hermes_groupware.config import Settings, load_settings
from hermes_groupware.errors import ConfigError
from tests.hermes_groupware.cli.conftest import SCRIPT, Run, as_json
from tests.mail_gateway.dovecot import Dovecot, require_dovecot
from tests.ports import free_port


def _settings(*, smtp: bool = True, imap: bool = False, reports: bool = True) -> Settings:
    base = Settings()
    return dataclasses.replace(
        base,
        smtp_in=dataclasses.replace(base.smtp_in, enabled=smtp),
        imap_in=dataclasses.replace(base.imap_in, enabled=imap, host="imap.firma.pl", username="h"),
        reports=dataclasses.replace(base.reports, enabled=reports),
    )


def test_every_role_by_default_less_those_switched_off() -> None:
    plan = plan_roles(_settings())
    assert plan.run == ("http", "smtp", "worker", "scheduler")
    assert plan.off == {"imap": "[imap_in] enabled = false"}
    assert plan_roles(_settings(imap=True)).run == ("http", "smtp", "imap", "worker", "scheduler")


def test_the_flag_overrides_the_configured_list_but_not_a_section() -> None:
    configured = dataclasses.replace(
        _settings(), server=dataclasses.replace(Settings().server, roles=("http",))
    )
    assert plan_roles(configured).run == ("http",)
    assert plan_roles(configured, ("worker", "http")).run == ("http", "worker")  # fixed order
    plan = plan_roles(_settings(reports=False), ("scheduler", "smtp"))
    assert (plan.run, plan.off) == (("smtp",), {"scheduler": "[reports] enabled = false"})


def test_nothing_to_run_is_an_error_naming_the_reason() -> None:
    with pytest.raises(ConfigError) as raised:
        plan_roles(_settings(), ("imap",))
    assert raised.value.key == "--roles"
    assert "imap: [imap_in] enabled = false" in raised.value.message
    configured = dataclasses.replace(
        _settings(smtp=False), server=dataclasses.replace(Settings().server, roles=("smtp",))
    )
    with pytest.raises(ConfigError, match=r"\[server\] roles"):
        plan_roles(configured)


def test_role_names_are_checked_on_the_flag_and_in_the_file(tmp_path: Path) -> None:
    assert parse_roles(" http , worker ") == ("http", "worker")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown role 'web'"):
        parse_roles("http,web")
    with pytest.raises(argparse.ArgumentTypeError, match="at least one"):
        parse_roles(" , ")
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\nroles = ["http", "mailer"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env={})
    assert raised.value.key == "[server] roles" and raised.value.source == str(config)
    assert "unknown role 'mailer'" in raised.value.message
    config.write_text("[server]\ndemo = true\n", encoding="utf-8")
    env = {"HERMES_SERVER_ROLES": "http;worker"}
    assert load_settings(config, env=env).server.roles == ("http", "worker")


# -- the real command ---------------------------------------------------------------------


@contextmanager
def _serving(env: dict[str, str], *roles: str) -> Iterator[str]:
    """``serve`` with these arguments; yields its ready line, stops it with SIGTERM."""
    with subprocess.Popen(
        [SCRIPT, "serve", *roles],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdout is not None
        line = server.stdout.readline().strip()
        try:
            yield line
        finally:
            server.terminate()
            assert server.wait(timeout=30) == 0


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def ports(cli_env: dict[str, str]) -> dict[str, int]:
    chosen = {"http": free_port(), "smtp": free_port()}
    cli_env.update(
        HERMES_HTTP_PORT=str(chosen["http"]),
        HERMES_SMTP_IN_ENABLED="true",
        HERMES_SMTP_IN_PORT=str(chosen["smtp"]),
        HERMES_SMTP_IN_LMTP="false",
        HERMES_SMTP_OUT_PORT=str(free_port()),  # nobody listens: mail stays queued
    )
    return chosen


def test_http_alone_opens_no_mail_port_and_installs_no_rules(
    run: Run, cli_env: dict[str, str], ports: dict[str, int]
) -> None:
    run("db", "upgrade")
    with _serving(cli_env, "--roles", "http") as ready:
        assert ready == f"ready http://127.0.0.1:{ports['http']}/"
        assert _listening(ports["http"])
        assert not _listening(ports["smtp"])  # enabled in its section, but not this role
    assert as_json(run("rule", "list", "--json")) == []  # the worker installs them


def test_a_mail_instance_takes_mail_and_runs_the_worker_without_http(
    run: Run, cli_env: dict[str, str], ports: dict[str, int]
) -> None:
    run("db", "upgrade")
    run("demo-data", "--tasks", "5", "--seed", "3")
    with _serving(cli_env, "--roles", "smtp,worker") as ready:
        assert ready == f"ready smtp://127.0.0.1:{ports['smtp']} worker"
        assert not _listening(ports["http"])
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=10) as smtp:
            smtp.sendmail(
                "klient@awaria.pl",
                ["reklamacje@firma.pl"],
                b"From: klient@awaria.pl\r\nTo: reklamacje@firma.pl\r\nSubject: Role\r\n\r\nx\r\n",
            )
    assert {rule["event"] for rule in as_json(run("rule", "list", "--json"))} == {
        "assigned",
        "mail-note",
        "overdue",
    }
    (posted,) = [m for m in as_json(run("mail", "list", "--json")) if m["subject"] == "Role"]
    assert posted["status"] == "posted"


def test_roles_from_the_environment_and_the_scheduler_alone(
    run: Run, cli_env: dict[str, str], ports: dict[str, int]
) -> None:
    run("db", "upgrade")
    cli_env["HERMES_SERVER_ROLES"] = "scheduler;imap"  # imap is off in its section
    with _serving(cli_env) as ready:
        assert ready == "ready reports"
        assert not _listening(ports["http"]) and not _listening(ports["smtp"])


def test_bad_roles_stop_the_start_with_exit_2(
    run: Run, cli_env: dict[str, str], ports: dict[str, int]
) -> None:
    run("db", "upgrade")
    unknown = run("serve", "--roles", "http,web", expect=2)
    assert "--roles" in unknown.stderr and "unknown role 'web'" in unknown.stderr
    nothing = run("serve", "--roles", "imap", expect=2)
    assert nothing.stderr.count("\n") == 1
    assert "--roles" in nothing.stderr and "[imap_in] enabled = false" in nothing.stderr
    assert not _listening(ports["http"])


def test_an_instance_polling_imap_reports_its_last_good_sweep(
    run: Run, cli_env: dict[str, str], ports: dict[str, int]
) -> None:
    require_dovecot()
    dovecot = Dovecot()
    try:
        dovecot.start()
        user = dovecot.add_user()
        cli_env.update(dovecot.serve_env(user))
        run("db", "upgrade")
        mailbox = f"{user.name}@{dovecot.host}:{dovecot.port}/INBOX"
        with _serving(cli_env, "--roles", "http,imap") as ready:
            assert ready == f"ready http://127.0.0.1:{ports['http']}/ imap://{mailbox}"
            assert not _listening(ports["smtp"])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                text = _get(ports["http"], "/metrics")
                if "hermes_imap_last_success_timestamp_seconds{" in text:
                    break
                time.sleep(0.2)
    finally:
        dovecot.close()
    (line,) = [x for x in text.splitlines() if x.startswith("hermes_imap_last_success")]
    assert f'mailbox="{mailbox}"' in line
    assert abs(float(line.split()[-1]) - time.time()) < 60


def _get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()
