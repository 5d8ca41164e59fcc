"""The API's one error translator: every failure becomes ``{"error": {code, message, field}}``.

Domain errors keep their stable ``code``; validation errors name the field; nothing a client
sends may produce a 500 (those are bugs, logged with their traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask import Flask, Response, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from hermes_groupware.db.outage import DATABASE_UNAVAILABLE, cause
from hermes_groupware.errors import (
    Conflict,
    HermesError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SchemaOutdated,
)

log = logging.getLogger(__name__)

_STATUS: dict[type[HermesError], int] = {
    NotFound: 404,
    PermissionDenied: 403,
    InvalidInput: 422,
    Conflict: 409,
    SchemaOutdated: 503,
}


class ErrorDetail(BaseModel):
    """What went wrong: a stable snake_case code, a message for people, the field if any."""

    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """Every error response has this shape."""

    error: ErrorDetail


class ApiError(Exception):
    """An HTTP-level failure raised by the adapter itself (authentication, bad cursor…)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.headers = field, headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The JSON error response."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    response = Response(body.model_dump_json(), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


@contextmanager
def fields_renamed(names: Mapping[str, str]) -> Iterator[None]:
    """Services name some fields as the CLI options (``to``); the API names its own fields."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field not in names:
            raise
        detail = exc.message.removeprefix(f"{exc.field}: ")
        raise InvalidInput(names[exc.field], detail) from exc


def install(app: Flask) -> None:
    """Register the translators on the Flask application."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HermesError, _domain_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, _database_unavailable)
    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(Exception, _unexpected)


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


def _domain_error(exc: HermesError) -> Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    field = exc.field if isinstance(exc, InvalidInput) else None
    return error_response(status, exc.code, exc.message, field)


def _validation_error(exc: ValidationError) -> Response:
    first = exc.errors(include_url=False)[0]
    # request models are flat: the field, then list indexes; pydantic's union member tags
    # ("constrained-int") are not part of what the client sent
    loc = first["loc"]
    path = ".".join(str(p) for p in loc[:1] + tuple(p for p in loc[1:] if isinstance(p, int)))
    field = path or None
    message = f"{field}: {first['msg']}" if field else first["msg"]
    return error_response(422, "invalid_input", message, field)


def too_large(limit: int) -> ApiError:
    """A body over the limit: refused before it is read."""
    return ApiError(413, "too_large", f"the request body is over the limit of {limit} bytes")


def _too_large(_exc: RequestEntityTooLarge) -> Response:
    """The body grew past the limit while it was read (no or a false Content-Length)."""
    return _api_error(too_large(request.max_content_length or 0))


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    return error_response(status, code, exc.description or exc.name or "error")


def _database_unavailable(exc: Exception) -> Response:
    log.warning("database unavailable: %s", cause(exc))
    message = "the database is unavailable; retry"
    return error_response(503, "database_unavailable", message, None, {"Retry-After": "5"})


def _data_error(exc: DataError) -> Response:
    log.info("value refused by the database: %s", exc.orig)
    return error_response(422, "invalid_input", "a value is out of range for the database")


def _integrity_error(exc: IntegrityError) -> Response:
    log.info("integrity conflict: %s", exc.orig)
    return error_response(409, "conflict", "the change conflicts with existing data; retry")


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error in the HTTP API", exc_info=exc)
    return error_response(500, "internal_error", "internal error; it has been logged")
