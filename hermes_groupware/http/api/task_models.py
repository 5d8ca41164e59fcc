"""Request and response models of the task endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from hermes_groupware.http.api.fields import Id, Text, When
from hermes_groupware.http.api.paging import Page, PageQuery
from hermes_groupware.models.enums import Priority, TaskStatus

Subject = Annotated[Text, Field(min_length=1, max_length=500)]
Description = Annotated[Text, Field(max_length=100_000)]
Code = Annotated[Text, Field(min_length=1, max_length=10)]
Login = Annotated[Text, Field(min_length=1, max_length=64)]


class TaskOut(BaseModel):
    """A task in a list; ``parent`` is null when you may not see the parent."""

    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    id: int
    number: str
    register_code: str = Field(alias="register")
    subject: str
    status: str
    priority: str
    planned_start: dt.datetime | None
    due: dt.datetime | None
    all_day: bool
    completed_at: dt.datetime | None
    responsible: str
    customer: str | None
    parent: str | None
    overdue: bool
    version: int


TaskPage = Page[TaskOut]


class ItemOut(BaseModel):
    """A note, file, document link or delegation of a task."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    author: str | None
    source: str
    created_at: dt.datetime
    body: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    document: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    delegate: str | None = None
    mode: str | None = None
    revoked_at: dt.datetime | None = None


class HistoryOut(BaseModel):
    """One recorded field change (ids shown as logins, codes and numbers)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    field: str
    old: str | None
    new: str | None
    source: str
    actor: str | None
    changed_at: dt.datetime


class TaskDetailOut(BaseModel):
    """A task with its items, visible sub-tasks and history."""

    model_config = ConfigDict(from_attributes=True)

    task: TaskOut
    description: str
    creator: str | None
    contact: str | None
    visibility: str
    recurrence: str | None
    opportunity: dict[str, Any] | None
    custom_fields: dict[str, Any]
    notes: list[ItemOut]
    files: list[ItemOut]
    documents: list[ItemOut]
    delegations: list[ItemOut]
    subtasks: list[TaskOut]
    history: list[HistoryOut]


class TaskQuery(PageQuery):
    """Filters of the task list; all given conditions must hold."""

    register_code: Code | None = Field(None, alias="register", description="e.g. REK")
    status: TaskStatus | None = None
    responsible: Login | None = Field(None, description="login of the responsible employee")
    due_before: When | None = Field(None, description="due strictly before this time")
    due_after: When | None = Field(None, description="due at or after this time")
    overdue: bool = Field(False, description="due passed and still open")
    customer: Id | None = Field(None, description="customer id")
    q: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="part of the subject"
    )


class TaskCreate(BaseModel):
    """A new task; ``responsible`` defaults to the register's default assignee, then you."""

    model_config = ConfigDict(extra="forbid")

    register_code: Code = Field(alias="register", description="register code, e.g. REK")
    subject: Subject
    description: Description = ""
    status: TaskStatus = TaskStatus.NEW
    priority: Priority = Priority.NORMAL
    responsible: Login | None = None
    planned_start: When | None = None
    due: When | None = None
    all_day: bool = Field(False, description="dates only: give them as T00:00:00Z")
    customer_id: Id | None = None
    parent_id: Id | None = Field(None, description="make it a sub-task of this task")


class TaskUpdate(BaseModel):
    """Fields to change; leave a field out to keep it, send null to clear a nullable one."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    status: TaskStatus | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    responsible: Login | SkipJsonSchema[None] = None
    register_code: Code | SkipJsonSchema[None] = Field(
        None, alias="register", description="move to another register (code)"
    )
    planned_start: When | None = None
    due: When | None = None
    all_day: bool | SkipJsonSchema[None] = None
    customer_id: Id | None = None
    expected_version: Id | SkipJsonSchema[None] = Field(
        None, description="refuse with 409 when the task's version differs"
    )

    @field_validator(
        "subject", "description", "status", "priority", "responsible", "register_code", "all_day",
        "expected_version", mode="before",
    )  # fmt: skip
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Only the nullable fields may be cleared with null."""
        if value is None:
            raise ValueError("must not be null")
        return value


class NoteCreate(BaseModel):
    """A note on a task (the summary of a call or meeting)."""

    model_config = ConfigDict(extra="forbid")

    body: Annotated[Text, Field(min_length=1, max_length=100_000)]
