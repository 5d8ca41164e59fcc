"""The core error hierarchy; adapters translate it at their edge (DAV status, SMTP reply, exit)."""

from __future__ import annotations


class HermesError(Exception):
    """Base of every error the domain raises on purpose; ``code`` is stable for APIs."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HermesError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"


class PermissionDenied(HermesError):
    """The actor may see the object but not do this to it."""

    code = "permission_denied"


class InvalidInput(HermesError):
    """A value the caller gave is wrong; ``field`` names it."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Conflict(HermesError):
    """Somebody else changed the object first (optimistic version check)."""

    code = "conflict"

    def __init__(self, message: str, *, expected: int | None = None, actual: int | None = None):
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class SchemaOutdated(HermesError):
    """The database schema is not the one this code expects (``db upgrade`` fixes it)."""

    code = "schema_outdated"

    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(
            f"the database schema is at {current or '(empty)'}, this version needs {head}; "
            "run: hermes-groupware db upgrade"
        )


class ConfigError(HermesError):
    """A configuration value is missing or wrong; names the key and where it came from."""

    code = "config_error"

    def __init__(self, key: str, source: str, problem: str) -> None:
        super().__init__(f"configuration error: {key} ({source}): {problem}")
        self.key = key
        self.source = source
