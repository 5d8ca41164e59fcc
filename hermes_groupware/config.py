"""Settings: ``config.toml`` plus ``HERMES_<SECTION>_<KEY>`` overrides, validated once at start.

Every value remembers where it came from, so that a bad value is reported as one line naming
the key and its source (the file, or the environment variable), as Radicale does for its
sourced configuration. No module reads the file or the environment on its own: the CLI loads
:class:`Settings` and passes it down.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hermes_groupware.errors import ConfigError
from hermes_groupware.rule_syntax import parse_rule_line

log = logging.getLogger(__name__)

ENV_PREFIX = "HERMES_"
CONFIG_ENV = "HERMES_CONFIG"
DEFAULT_CONFIG = Path("config.toml")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
SERVER_ROLES = ("http", "smtp", "imap", "worker", "scheduler")
"""What ``serve`` can run; ``[server] roles`` and ``serve --roles`` pick among them."""


def _secret() -> Any:
    return field(default=None, metadata={"secret": True}, repr=False)


@dataclass(frozen=True)
class ServerSettings:
    """Process-wide switches."""

    demo: bool = False
    default_locale: str = "pl"
    default_time_zone: str = "Europe/Warsaw"
    roles: tuple[str, ...] = SERVER_ROLES


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the Hermes database lives; relative SQLite paths are relative to the config file."""

    url: str = "sqlite:///var/hermes.db"
    echo: bool = False
    pool_size: int = 5
    busy_timeout_ms: int = 10_000


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP listener of ``serve``: CalDAV and feeds."""

    host: str = "127.0.0.1"
    port: int = 5232
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaldavSettings:
    """CalDAV behaviour."""

    default_register: str = "WEW"
    delete_policy: str = "cancel"
    max_body_bytes: int = 5 * 1024 * 1024
    login_cache_seconds: int = 60
    login_keep_seconds: int = 12 * 3600
    lockout_failures: int = 5
    lockout_window_seconds: int = 900
    fast_path: bool = True


@dataclass(frozen=True)
class FeedsSettings:
    """Subscription feeds."""

    public_url: str = "http://127.0.0.1:5232"
    rate_limit_per_minute: int = 30
    address_limit_per_minute: int = 120


@dataclass(frozen=True)
class FilesSettings:
    """Content-addressed attachment store."""

    path: str = "var/files"
    max_file_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True)
class SecuritySettings:
    """Secrets; none of them has a working default outside demo mode."""

    secret_key: str | None = _secret()
    demo_secret_key: str = field(default="hermes-demo-secret-not-for-production", repr=False)


@dataclass(frozen=True)
class MailSettings:
    """The e-mail gateway: reply addresses, sender trust and limits."""

    domain: str = "hermes.localhost"
    reply_local: str = "hermes"
    from_address: str = ""
    reply_secret: str | None = _secret()
    demo_reply_secret: str = field(default="hermes-demo-reply-secret", repr=False)
    authserv_id: str = ""
    max_message_bytes: int = 30 * 1024 * 1024
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 50
    blocked_extensions: str = ".exe .scr .bat .cmd .com .pif .vbs .js .jse .wsf .msi .ps1 .hta .lnk"
    max_attempts: int = 5
    new_tasks_per_sender_per_hour: int = 10
    notes_per_task_per_hour: int = 30


@dataclass(frozen=True)
class SmtpInSettings:
    """The SMTP/LMTP listener an MTA relays to; started by ``serve`` when enabled."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8025
    lmtp: bool = True
    tls_cert: str = ""
    tls_key: str = ""
    require_starttls: bool = False
    sender_limit_per_minute: int = 20


@dataclass(frozen=True)
class ImapInSettings:
    """A mailbox at the company's provider, polled by ``serve`` when enabled."""

    enabled: bool = False
    host: str = ""
    port: int = 993
    security: str = "ssl"
    username: str = ""
    password: str | None = field(default=None, repr=False)
    folder: str = "INBOX"
    processed_folder: str = "Hermes/Processed"
    idle_seconds: int = 1500
    sweep_seconds: int = 300
    lease_seconds: int = 90


@dataclass(frozen=True)
class SmtpOutSettings:
    """The relay outgoing mail (acknowledgements, notifications) is handed to."""

    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"
    user: str = ""
    password: str | None = field(default=None, repr=False)
    timeout_seconds: int = 30


@dataclass(frozen=True)
class SmsSettings:
    """How notifications reach phones (checked in detail when ``serve`` starts)."""

    provider: str = "log"
    url: str = ""
    method: str = "POST"
    # "Bearer <token>" goes out as Authorization; "X-Api-Key: <token>" names its own header.
    auth_header: str = field(default="", repr=False)
    body_template: str = '{"to": "{to}", "message": "{message}", "from": "{sender}"}'
    content_type: str = "application/json"
    sender: str = "Hermes"
    max_segments: int = 3
    quiet_hours: str = "21:00-07:00"
    time_zone: str = "Europe/Warsaw"
    per_recipient_per_hour: int = 10
    timeout_seconds: int = 10


@dataclass(frozen=True)
class NotificationsSettings:
    """Rules installed once on a new database, and the evaluator's pace."""

    default_rules: tuple[str, ...] = (
        "assigned -> assignee",
        "mail-note -> assignee",
        "overdue@08:00 -> assignee",
    )
    interval_seconds: int = 30
    batch_seconds: int = 120


@dataclass(frozen=True)
class ReportsSettings:
    """Scheduled reports: the scheduler's pace, catching up after downtime, sizes."""

    enabled: bool = True
    tick_seconds: int = 30
    grace_minutes: int = 720
    lease_seconds: int = 600
    max_attempts: int = 3
    max_attachment_bytes: int = 10 * 1024 * 1024
    body_rows: int = 50


@dataclass(frozen=True)
class MetricsSettings:
    """Who may scrape ``/metrics``: these client addresses (networks), or a bearer token."""

    allow: tuple[str, ...] = ("127.0.0.1", "::1")
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ConsoleSettings:
    """Web console sessions: absolute lifetime and idle timeout."""

    session_hours: int = 12
    idle_minutes: int = 60


@dataclass(frozen=True)
class LoggingSettings:
    """Log level and format."""

    level: str = "INFO"
    format: str = "text"


@dataclass(frozen=True)
class Settings:
    """The whole configuration, one frozen dataclass per ``[section]``."""

    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    caldav: CaldavSettings = field(default_factory=CaldavSettings)
    feeds: FeedsSettings = field(default_factory=FeedsSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    mail: MailSettings = field(default_factory=MailSettings)
    smtp_in: SmtpInSettings = field(default_factory=SmtpInSettings)
    imap_in: ImapInSettings = field(default_factory=ImapInSettings)
    smtp_out: SmtpOutSettings = field(default_factory=SmtpOutSettings)
    notifications: NotificationsSettings = field(default_factory=NotificationsSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    reports: ReportsSettings = field(default_factory=ReportsSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def files_path(self) -> Path:
        """The file store directory, resolved against the config file's directory."""
        return (self.base_dir / self.files.path).resolve()

    @property
    def secret_key(self) -> str:
        """The master secret (validated at load time: present outside demo mode)."""
        return self.security.secret_key or self.security.demo_secret_key

    @property
    def reply_secret(self) -> bytes:
        """The HMAC key of reply addresses (validated at load time: present outside demo)."""
        return (self.mail.reply_secret or self.mail.demo_reply_secret).encode()


_SECTIONS: dict[str, type[Any]] = {
    name: hint for name, hint in get_type_hints(Settings).items() if name != "base_dir"
}


def config_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """``--config PATH``, else ``$HERMES_CONFIG``, else ``./config.toml``."""
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Load, override from the environment and validate.

    Raises:
        ConfigError: naming the key and where its value came from.
    """
    env = os.environ if env is None else env
    file = config_path(path, env)
    data = _read_toml(file, required=path is not None or CONFIG_ENV in env)
    values: dict[str, dict[str, tuple[Any, str]]] = {}
    for section, table in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"[{section}]", str(file), "unknown section")
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}]", str(file), "expected a table")
        values[section] = {key: (value, str(file)) for key, value in table.items()}
    for var, raw in env.items():
        if var.startswith(ENV_PREFIX) and var != CONFIG_ENV:
            section, key = _split_env_name(var)
            values.setdefault(section, {})[key] = (raw, f"environment variable {var}")
    sections = {name: _build_section(name, values.get(name, {})) for name in _SECTIONS}
    base_dir = file.resolve().parent if file.exists() else Path.cwd()
    settings = Settings(**sections, base_dir=base_dir)
    _validate(settings, values, str(file))
    _warn_if_others_may_read_secrets(file, values)
    return settings


def _warn_if_others_may_read_secrets(
    file: Path, values: dict[str, dict[str, tuple[Any, str]]]
) -> None:
    """Secrets belong in the environment or in a file only its owner reads. A warning, not a
    refusal (ssh refuses): a first run must not stop on a file mode."""
    exposed = [
        f"[{section}] {f.name}"
        for section, kind in _SECTIONS.items()
        for f in fields(kind)
        if f.metadata.get("secret")
        and values.get(section, {}).get(f.name, (None, ""))[1] == str(file)
    ]
    if exposed and file.stat().st_mode & 0o077:
        log.warning(
            "%s holds %s and other users may read it (mode %o): chmod 600 it, or set the "
            "secrets in the environment",
            file,
            ", ".join(exposed),
            file.stat().st_mode & 0o777,
        )


def _read_toml(file: Path, *, required: bool) -> dict[str, Any]:
    if not file.exists():
        if required:
            raise ConfigError("--config", str(file), "file not found")
        return {}
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(syntax)", str(file), str(exc)) from exc


def _split_env_name(var: str) -> tuple[str, str]:
    rest = var[len(ENV_PREFIX) :].lower()
    for section in sorted(_SECTIONS, key=len, reverse=True):
        if rest.startswith(section + "_"):
            return section, rest[len(section) + 1 :]
    raise ConfigError(var, "environment", "no such configuration section")


def _build_section(name: str, given: dict[str, tuple[Any, str]]) -> Any:
    cls = _SECTIONS[name]
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, (value, source) in given.items():
        if key not in known:
            raise ConfigError(f"[{name}] {key}", source, "unknown key")
        kwargs[key] = _coerce(value, hints[key], f"[{name}] {key}", source)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, key: str, source: str) -> Any:
    if get_origin(hint) in (Union, types.UnionType):
        if value in ("", None):
            return None
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    from_env = isinstance(value, str) and source.startswith("environment")
    if get_origin(hint) is tuple:
        return _string_list(value, key, source, from_env=from_env)
    if hint is bool:
        return _boolean(value, key, source, from_env=from_env)
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_env:
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(key, source, f"expected an integer, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(key, source, f"expected a string, got {value!r}")
    return value


def _boolean(value: Any, key: str, source: str, *, from_env: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_env and value.lower() in _TRUE | _FALSE:
        return bool(value.lower() in _TRUE)
    raise ConfigError(key, source, f"expected true or false, got {value!r}")


def _string_list(value: Any, key: str, source: str, *, from_env: bool) -> tuple[str, ...]:
    """A TOML list of strings, or ``;``-separated in an environment variable."""
    items = value.split(";") if from_env else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(key, source, f"expected a list of strings, got {value!r}")
    return tuple(i.strip() for i in items if i.strip())


def _validate(settings: Settings, values: dict[str, dict[str, tuple[Any, str]]], file: str) -> None:
    def source(section: str, key: str) -> str:
        return values.get(section, {}).get(key, (None, f"{file} (default)"))[1]

    if not settings.server.demo:
        for name in ("security", "mail"):
            section = getattr(settings, name)
            for f in fields(section):
                if f.metadata.get("secret") and not getattr(section, f.name):
                    raise ConfigError(
                        f"[{name}] {f.name}",
                        source(name, f.name),
                        "required outside demo mode (set it in the file or in "
                        f"HERMES_{name.upper()}_{f.name.upper()})",
                    )
    if settings.server.default_locale not in ("pl", "en"):
        raise ConfigError(
            "[server] default_locale", source("server", "default_locale"), "expected pl or en"
        )
    try:
        ZoneInfo(settings.server.default_time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            "[server] default_time_zone",
            source("server", "default_time_zone"),
            f"unknown time zone {settings.server.default_time_zone!r}",
        ) from exc
    if not 0 < settings.http.port < 65536:
        raise ConfigError("[http] port", source("http", "port"), "expected 1..65535")
    if settings.logging.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            "[logging] level", source("logging", "level"), "expected DEBUG, INFO, WARNING or ERROR"
        )
    _validate_caldav(settings, source)
    _validate_console(settings, source)
    _validate_mail(settings, source)
    _validate_operations(settings, source)
    _validate_rules(settings, source)
    _validate_reports(settings, source)
    if not settings.database.url.startswith(("sqlite", "postgresql")):
        raise ConfigError(
            "[database] url", source("database", "url"), "only sqlite and postgresql are supported"
        )


def _validate_caldav(settings: Settings, source: Any) -> None:
    if settings.caldav.delete_policy not in ("cancel", "delete", "refuse"):
        raise ConfigError(
            "[caldav] delete_policy",
            source("caldav", "delete_policy"),
            "expected cancel, delete or refuse",
        )
    if settings.caldav.login_keep_seconds < settings.caldav.login_cache_seconds:
        raise ConfigError(
            "[caldav] login_keep_seconds",
            source("caldav", "login_keep_seconds"),
            "expected at least login_cache_seconds",
        )


def _validate_console(settings: Settings, source: Any) -> None:
    for key in ("session_hours", "idle_minutes"):
        if getattr(settings.console, key) < 1:
            raise ConfigError(f"[console] {key}", source("console", key), "expected at least 1")


def _validate_operations(settings: Settings, source: Any) -> None:
    """``[server] roles``, ``[http] trusted_proxies`` and ``[metrics] allow``: checked here so a
    typo stops the start."""
    for role in settings.server.roles:
        if role not in SERVER_ROLES:
            raise ConfigError(
                "[server] roles",
                source("server", "roles"),
                f"unknown role {role!r}; expected some of {', '.join(SERVER_ROLES)}",
            )
    if settings.logging.format not in ("text", "json"):
        raise ConfigError("[logging] format", source("logging", "format"), "expected text or json")
    for network in settings.http.trusted_proxies:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(
                "[http] trusted_proxies",
                source("http", "trusted_proxies"),
                f"not an address or network: {exc}",
            ) from exc
    for network in settings.metrics.allow:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(
                "[metrics] allow", source("metrics", "allow"), f"not an address or network: {exc}"
            ) from exc


def _validate_rules(settings: Settings, source: Any) -> None:
    for line in settings.notifications.default_rules:
        try:
            parse_rule_line(line)
        except ValueError as exc:
            key = "[notifications] default_rules"
            raise ConfigError(key, source("notifications", "default_rules"), str(exc)) from exc


def _validate_reports(settings: Settings, source: Any) -> None:
    minimum = {"tick_seconds": 1, "grace_minutes": 0, "lease_seconds": 30, "max_attempts": 1}
    minimum |= {"max_attachment_bytes": 1024, "body_rows": 1}
    for key, least in minimum.items():
        if getattr(settings.reports, key) < least:
            raise ConfigError(f"[reports] {key}", source("reports", key), f"expected >= {least}")


_RELAY_SECURITY = ("none", "starttls", "tls")


def _validate_hardening(settings: Settings, source: Any) -> None:
    """Leases, STARTTLS files and rate limits (issue 8)."""
    if settings.imap_in.lease_seconds < 10:
        raise ConfigError(
            "[imap_in] lease_seconds", source("imap_in", "lease_seconds"), "expected >= 10"
        )
    smtp = settings.smtp_in
    if bool(smtp.tls_cert) != bool(smtp.tls_key):
        raise ConfigError(
            "[smtp_in] tls_cert", source("smtp_in", "tls_cert"), "tls_cert and tls_key go together"
        )
    if smtp.require_starttls and not smtp.tls_cert:
        raise ConfigError(
            "[smtp_in] require_starttls",
            source("smtp_in", "require_starttls"),
            "needs tls_cert and tls_key",
        )
    for section, key in (
        ("smtp_in", "sender_limit_per_minute"),
        ("feeds", "address_limit_per_minute"),
    ):
        if getattr(getattr(settings, section), key) < 0:
            raise ConfigError(f"[{section}] {key}", source(section, key), "expected >= 0 (0: off)")


def _validate_mail(settings: Settings, source: Any) -> None:
    for key, value in (("smtp_in", settings.smtp_in.port), ("imap_in", settings.imap_in.port)):
        if not 0 < value < 65536:
            raise ConfigError(f"[{key}] port", source(key, "port"), "expected 1..65535")
    for key, allowed in (("imap_in", ("ssl", "starttls", "none")), ("smtp_out", _RELAY_SECURITY)):
        if getattr(settings, key).security not in allowed:
            raise ConfigError(
                f"[{key}] security", source(key, "security"), f"expected {', '.join(allowed)}"
            )
    _validate_hardening(settings, source)
    if settings.imap_in.enabled and not (settings.imap_in.host and settings.imap_in.username):
        raise ConfigError(
            "[imap_in] host", source("imap_in", "host"), "host and username are required"
        )
    if "@" in settings.mail.domain or "." not in settings.mail.domain:
        raise ConfigError("[mail] domain", source("mail", "domain"), "expected a domain name")
    if not settings.mail.reply_local.isascii() or not settings.mail.reply_local.isalnum():
        raise ConfigError(
            "[mail] reply_local", source("mail", "reply_local"), "expected letters and digits"
        )
