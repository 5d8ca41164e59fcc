"""The OpenAPI 3.1 document, generated from the route registry and the pydantic models."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hermes_groupware.http.api.errors import ErrorBody
from hermes_groupware.http.api.registry import PREFIX, Api, Operation

REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "malformed request",
    "401": "no or bad credentials",
    "403": "not allowed (scope or permission)",
    "404": "not found, or not visible to you",
    "409": "conflict: changed by someone else",
    "413": "request body over the size limit",
    "415": "not a JSON body",
    "422": "invalid input; ``field`` names it",
    "429": "too many failed logins",
    "503": "database unavailable; retry",
}


def document(api: Api) -> dict[str, Any]:
    """The whole document."""
    refs, components = _schemas(api)
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        paths.setdefault(PREFIX + op.path, {})[op.method.lower()] = _operation(op, refs, components)
    paths[f"{PREFIX}/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "the OpenAPI document"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hermes Groupware API",
            "version": "1",
            "description": "Tasks and their files, employees, registers, feeds, saved views, "
            "report schedules, notification rules, the mail queues and credentials of Hermes "
            "Groupware. "
            "Every error is {error: {code, message, field}}.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
    }


Key = tuple[type[BaseModel], JsonSchemaMode]


def _schemas(api: Api) -> tuple[dict[Key, dict[str, Any]], dict[str, Any]]:
    wanted: set[Key] = {(ErrorBody, "serialization")}
    for op in api.operations:
        wanted.update((m, "validation") for m in (op.query, op.body) if m is not None)
        if op.response is not None:
            wanted.add((op.response, "serialization"))
    ordered = sorted(wanted, key=lambda key: (key[0].__name__, key[1]))
    refs, defs = models_json_schema(ordered, ref_template=REF)
    return {(cast(type[BaseModel], m), mode): v for (m, mode), v in refs.items()}, defs.get(
        "$defs", {}
    )


def _operation(
    op: Operation, refs: dict[Key, dict[str, Any]], components: dict[str, Any]
) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}}
    responses: dict[str, Any] = {
        code: {"description": text, **error} for code, text in _ERRORS.items()
    }
    if op.produces is not None:
        responses[str(op.status)] = {
            "description": op.summary,
            "content": {op.produces: {"schema": _BINARY}},
        }
    elif op.response is None:
        responses[str(op.status)] = {"description": "done"}
    else:
        schema = refs[(op.response, "serialization")]
        responses[str(op.status)] = {
            "description": op.summary,
            "content": {"application/json": {"schema": schema}},
        }
    spec: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _path_parameters(op) + _query_parameters(op, refs, components),
        "responses": responses,
    }
    if op.description:
        spec["description"] = op.description
    if op.scope is not None:
        spec["x-scope"] = op.scope
    if op.upload:
        spec["requestBody"] = _UPLOAD
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return spec


_BINARY = {"type": "string", "format": "binary"}
_UPLOAD = {
    "required": True,
    "description": "the file as the raw body (its Content-Type; name it with ?filename=), "
    "or as the part 'file' of a form",
    "content": {
        "application/octet-stream": {"schema": _BINARY},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": _BINARY}, "required": ["file"]}
        },
    },
}


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": param.schema}
        | ({"description": param.description} if param.description else {})
        for name, param in op.params.items()
    ]


def _query_parameters(
    op: Operation, refs: dict[Key, dict[str, Any]], components: dict[str, Any]
) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    ref: str = refs[(op.query, "validation")]["$ref"]
    schema = components[ref.rsplit("/", 1)[-1]]
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_titles(prop),
        }
        | ({"description": prop["description"]} if "description" in prop else {})
        for name, prop in schema.get("properties", {}).items()
    ]


def _without_titles(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("title", "description")}
