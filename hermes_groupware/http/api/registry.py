"""The route registry: each operation with its models, from which both the Flask routes and
the OpenAPI document are made (one description, no hand-kept copy)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Database, UnitOfWork
from hermes_groupware.http.api.auth import Principal
from hermes_groupware.login_cache import LoginCache
from hermes_groupware.models.enums import Source

PREFIX = "/api/v1"
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Download:
    """A non-JSON answer: bytes, their media type and the file name to save them as."""

    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class Upload:
    """A file sent as the raw body or as the ``file`` part of a form, read as it streams."""

    filename: str
    content_type: str
    chunks: Iterable[bytes]


Handler = Callable[..., BaseModel | Download | None]


@dataclass(frozen=True)
class PathParam:
    """A path parameter: its Flask converter and its JSON schema."""

    converter: str
    schema: dict[str, Any]
    description: str = ""


ID_PARAM = PathParam("int", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})


@dataclass(frozen=True)
class Operation:
    """One endpoint. ``scope`` None means public; ``response`` None means 204 No Content,
    unless ``produces`` names the media type of the bytes a :class:`Download` carries.
    ``upload``: the body is a file (:class:`Upload`), not JSON, and may be as large as
    ``[files] max_file_bytes``."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    scope: str | None = "read"
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    produces: str | None = None
    upload: bool = False
    params: dict[str, PathParam] = field(default_factory=dict)
    description: str = ""

    @property
    def name(self) -> str:
        """The operationId and Flask endpoint name."""
        return self.handler.__name__

    @property
    def rule(self) -> str:
        """The Flask URL rule: ``{task_id}`` becomes ``<int:task_id>``."""
        return PREFIX + re.sub(
            r"{(\w+)}", lambda m: f"<{self.params[m.group(1)].converter}:{m.group(1)}>", self.path
        )


class Api:
    """The operations of one API application, in registration order."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def add(self, operation: Operation) -> None:
        """Register an operation (names must be unique: they are operationIds)."""
        if any(op.name == operation.name for op in self.operations):
            raise ValueError(f"duplicate operation {operation.name}")
        self.operations.append(operation)


@dataclass
class Call:
    """What a handler gets: the caller, the parsed query and body, and the database."""

    principal: Principal
    database: Database
    settings: Settings
    logins: LoginCache
    query: BaseModel | None = None
    body: BaseModel | None = None
    upload: Upload | None = None

    def query_as(self, model: type[ModelT]) -> ModelT:
        """The parsed query string, typed."""
        if not isinstance(self.query, model):
            raise TypeError(f"operation has no {model.__name__} query")
        return self.query

    def body_as(self, model: type[ModelT]) -> ModelT:
        """The parsed JSON body, typed."""
        if not isinstance(self.body, model):
            raise TypeError(f"operation has no {model.__name__} body")
        return self.body

    @contextmanager
    def uow(self, *, write: bool = False) -> Iterator[UnitOfWork]:
        """One unit of work as the caller (read-only unless ``write``), source ``api``."""
        with self.database.unit_of_work(
            self.principal.actor, Source.API, read_only=not write
        ) as uow:
            yield uow
