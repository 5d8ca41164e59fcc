"""The Flask application of the API, built once per process from the route registry."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, request
from pydantic import BaseModel

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Database
from hermes_groupware.errors import NotFound
from hermes_groupware.http.api import (
    credentials,
    directory,
    errors,
    feeds,
    mail,
    me,
    openapi,
    rules,
    schedules,
    task_files,
    tasks,
    uploads,
    views,
)
from hermes_groupware.http.api.auth import Verifier, authenticate
from hermes_groupware.http.api.errors import ApiError
from hermes_groupware.http.api.fields import MAX_ID
from hermes_groupware.http.api.registry import PREFIX, Api, Call, Download, Operation
from hermes_groupware.http.limits import upload_body_limit
from hermes_groupware.login_cache import LoginCache

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def build_api() -> Api:
    """Every operation, in the order the OpenAPI document lists them."""
    api = Api()
    modules = (tasks, task_files, me, credentials, directory, feeds, views, schedules, rules, mail)
    for module in modules:
        module.register(api)
    return api


def create_api(
    settings: Settings, database: Database, logins: LoginCache | None = None
) -> Flask:
    """The WSGI application serving ``/api/v1``; ``logins``: the process's cache of verified
    Basic logins, shared with CalDAV (a new one by default)."""
    verifier = Verifier(database, settings, logins or LoginCache())
    api = build_api()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.caldav.max_body_bytes
    errors.install(app)
    document = json.dumps(openapi.document(api), ensure_ascii=False)
    app.add_url_rule(
        f"{PREFIX}/openapi.json",
        endpoint="openapi",
        view_func=lambda: Response(document, mimetype="application/json"),
        methods=["GET"],
    )
    for operation in api.operations:
        app.add_url_rule(
            operation.rule,
            endpoint=operation.name,
            view_func=_view(operation, verifier),
            methods=[operation.method],
        )
    app.after_request(_secure)
    return app


def _view(operation: Operation, verifier: Verifier) -> Callable[..., Response]:
    settings, database = verifier.settings, verifier.database

    def view(**path: Any) -> Response:
        if operation.upload:
            request.max_content_length = upload_body_limit(settings)
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            raise errors.too_large(limit)
        for name, value in path.items():
            if isinstance(value, int) and value > MAX_ID:
                raise NotFound(f"{name} {value} not found")
        principal = authenticate(
            verifier, request.headers.get("Authorization"), request.remote_addr
        )
        if operation.scope is not None and operation.scope not in principal.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this credential lacks the {operation.scope!r} scope",
            )
        call = Call(principal, database, settings, verifier.logins)
        if operation.query is not None:
            call.query = operation.query.model_validate(request.args.to_dict())
        if operation.body is not None:
            call.body = operation.body.model_validate(_json_body())
        if operation.upload:
            call.upload = uploads.read_upload(request.args.get("filename"))
        result = operation.handler(call, **path)
        return _render(result, operation.status)

    view.__name__ = operation.name
    return view


def _json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body (application/json)")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "invalid_json", "the request body is not valid JSON")
    return body


def _render(result: BaseModel | Download | None, status: int) -> Response:
    if result is None:
        return Response(status=204)
    if isinstance(result, Download):
        response = Response(result.content, status=status, mimetype=result.media_type)
        response.headers["Content-Disposition"] = _attachment(result.filename)
        return response
    return Response(result.model_dump_json(), status=status, mimetype="application/json")


def _attachment(filename: str) -> str:
    """RFC 6266: an ASCII fallback (no quotes, controls or path parts) and the UTF-8 name."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip(" .") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _secure(response: Response) -> Response:
    response.headers.update(_SECURITY_HEADERS)
    return response
