"""Configuration: file, environment overrides and one-line errors that name key and source."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hermes_groupware.config import DEFAULT_CONFIG, load_settings
from hermes_groupware.errors import ConfigError

REPO_CONFIG = Path(__file__).parents[2] / "config.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hermes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_in_demo_mode() -> None:
    settings = load_settings(REPO_CONFIG, env={})
    assert settings.server.demo is True
    assert settings.database.url == "sqlite:///var/hermes.db"
    assert settings.files_path == (REPO_CONFIG.parent / "var" / "files").resolve()


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\ndemo = true\n[http]\nport = 8000\n")
    settings = load_settings(
        path,
        env={
            "HERMES_HTTP_PORT": "9000",
            "HERMES_DATABASE_ECHO": "yes",
            "HERMES_DATABASE_URL": "postgresql+psycopg://db/h",
        },
    )
    assert settings.http.port == 9000
    assert settings.database.echo is True
    assert settings.database.url == "postgresql+psycopg://db/h"


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, '[server]\ndemo = true\n[http]\nhost = "0.0.0.0"\n')
    assert load_settings(None, env={"HERMES_CONFIG": str(path)}).http.host == "0.0.0.0"
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(None, env={"HERMES_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[server]\ndemo = true\n[http]\nprot = 1\n", {}, "[http] prot ({file}): unknown key"),
        ("[server]\ndemo = true\n[htp]\n", {}, "[htp] ({file}): unknown section"),
        (
            '[server]\ndemo = true\n[http]\nport = "eighty"\n',
            {},
            "[http] port ({file}): expected an integer, got 'eighty'",
        ),
        (
            "[server]\ndemo = true\n",
            {"HERMES_HTTP_PORT": "eighty"},
            "[http] port (environment variable HERMES_HTTP_PORT): expected an integer",
        ),
        (
            "[server]\ndemo = true\n",
            {"HERMES_HTTP_PROT": "1"},
            "[http] prot (environment variable HERMES_HTTP_PROT): unknown key",
        ),
        (
            "[server]\ndemo = false\n",
            {},
            "[security] secret_key ({file} (default)): required outside demo mode",
        ),
        (
            '[server]\ndemo = true\ndefault_time_zone = "Europe/Warszawa"\n',
            {},
            "[server] default_time_zone ({file}): unknown time zone",
        ),
        (
            '[server]\ndemo = true\n[http]\ntrusted_proxies = ["10.0.0.300"]\n',
            {},
            "[http] trusted_proxies ({file}): not an address or network",
        ),
        ("[server\n", {}, "(syntax) ({file})"),
    ],
)
def test_errors_name_the_key_and_its_source(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, env=env)
    assert message.format(file=path) in str(error.value)
    assert "\n" not in str(error.value)


def test_secret_from_environment_satisfies_production(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\ndemo = false\n")
    env = {"HERMES_SECURITY_SECRET_KEY": "s3cr3t-from-env", "HERMES_MAIL_REPLY_SECRET": "r3ply"}
    settings = load_settings(path, env=env)
    assert settings.secret_key == "s3cr3t-from-env"
    assert settings.reply_secret == b"r3ply"


def test_reply_secret_is_required_outside_demo(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\ndemo = false\n")
    with pytest.raises(ConfigError, match=r"\[mail\] reply_secret .*HERMES_MAIL_REPLY_SECRET"):
        load_settings(path, env={"HERMES_SECURITY_SECRET_KEY": "s3cr3t"})


def test_mail_settings_are_validated(tmp_path: Path) -> None:
    demo = "[server]\ndemo = true\n"
    with pytest.raises(ConfigError, match=r"\[smtp_in\] port"):
        load_settings(_write(tmp_path, demo + "[smtp_in]\nport = 0\n"), env={})
    with pytest.raises(ConfigError, match=r"\[imap_in\] security"):
        load_settings(_write(tmp_path, demo + "[imap_in]\nsecurity = 'tls'\n"), env={})
    with pytest.raises(ConfigError, match=r"\[mail\] domain"):
        load_settings(_write(tmp_path, demo + "[mail]\ndomain = 'a@b'\n"), env={})


def test_a_login_is_kept_at_least_as_long_as_it_is_trusted(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[server]\ndemo = true\n[caldav]\nlogin_cache_seconds = 900\nlogin_keep_seconds = 60\n",
    )
    with pytest.raises(ConfigError, match=r"\[caldav\] login_keep_seconds") as error:
        load_settings(path, env={})
    assert str(path) in str(error.value)
    kept = load_settings(path, env={"HERMES_CALDAV_LOGIN_KEEP_SECONDS": "3600"})
    assert kept.caldav.login_keep_seconds == 3600


def test_default_location_is_the_working_directory() -> None:
    assert Path("config.toml") == DEFAULT_CONFIG


def test_console_lifetimes_are_validated(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\ndemo = true\n[console]\nidle_minutes = 0\n")
    with pytest.raises(ConfigError, match=r"\[console\] idle_minutes") as error:
        load_settings(path, env={})
    assert str(path) in str(error.value)
    assert load_settings(path, env={"HERMES_CONSOLE_IDLE_MINUTES": "5"}).console.idle_minutes == 5


def test_secrets_in_a_file_others_may_read_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\n[security]\nsecret_key = "s3cret-for-test"\n')
    config.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="hermes_groupware.config"):
        load_settings(config, env={})
    assert "[security] secret_key" in caplog.text
    assert str(config) in caplog.text
    assert "s3cret-for-test" not in caplog.text  # the value itself is never logged
    caplog.clear()
    config.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="hermes_groupware.config"):
        load_settings(config, env={})
        config.write_text("[server]\ndemo = true\n")  # no secret in the file at all
        config.chmod(0o644)
        load_settings(config, env={"HERMES_SECURITY_SECRET_KEY": "from-the-environment"})
    assert caplog.text == ""
