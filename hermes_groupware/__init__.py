"""Hermes Groupware: the HermesSQL CRM's tasks in calendars, feeds and e-mail."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hermes-groupware")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
