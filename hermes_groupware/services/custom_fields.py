"""Custom fields (cechy): definitions per register and typed values on tasks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import CustomFieldDefinition, CustomFieldValue
from hermes_groupware.models.enums import FieldType
from hermes_groupware.services import access
from hermes_groupware.services.lookups import register_by_code

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TRUE, _FALSE = {"true", "yes", "tak", "1"}, {"false", "no", "nie", "0"}
Value = str | Decimal | dt.date | bool


@dataclass(frozen=True)
class FieldDefinitionView:
    """A custom field definition."""

    key: str
    label: str
    field_type: str
    choices: list[str] | None
    required: bool


def define_field(
    uow: UnitOfWork,
    register_code: str,
    *,
    key: str,
    label: str,
    field_type: FieldType,
    choices: list[str] | None = None,
    required: bool = False,
) -> FieldDefinitionView:
    """Add a field to a register (admins only)."""
    access.require_admin(uow.actor)
    register = register_by_code(uow.session, register_code)
    if not _KEY.match(key):
        raise InvalidInput("key", "lower-case letters, digits and '_', starting with a letter")
    if field_type is FieldType.CHOICE and not choices:
        raise InvalidInput("choices", "a choice field needs its choices")
    definition = CustomFieldDefinition(
        register_id=register.id,
        key=key,
        label=label,
        field_type=field_type,
        choices=choices if field_type is FieldType.CHOICE else None,
        required=required,
    )
    uow.session.add(definition)
    uow.session.flush()
    return _view(definition)


def set_values(uow: UnitOfWork, task_id: int, values: dict[str, Value | None]) -> None:
    """Set (or with None, clear) field values of a task; strings are parsed by field type."""
    task = access.editable_task(uow.session, uow.actor, task_id)
    definitions = {
        d.key: d
        for d in uow.session.scalars(
            select(CustomFieldDefinition).where(
                CustomFieldDefinition.register_id == task.register_id
            )
        )
    }
    for key, raw in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise InvalidInput(key, "no such custom field in this task's register")
        row = uow.session.scalar(
            select(CustomFieldValue).where(
                CustomFieldValue.task_id == task.id, CustomFieldValue.field_id == definition.id
            )
        )
        if raw is None:
            if definition.required:
                raise InvalidInput(key, "this field is required")
            if row is not None:
                uow.session.delete(row)
            continue
        if row is None:
            row = CustomFieldValue(task_id=task.id, field_id=definition.id)
            uow.session.add(row)
        _store(row, definition, raw)
    uow.session.flush()


def values_of(uow: UnitOfWork, task_id: int) -> dict[str, Value]:
    """A task's field values by key (callers have checked visibility)."""
    rows = uow.session.execute(
        select(CustomFieldDefinition, CustomFieldValue)
        .join(CustomFieldValue, CustomFieldValue.field_id == CustomFieldDefinition.id)
        .where(CustomFieldValue.task_id == task_id)
        .order_by(CustomFieldDefinition.key)
    ).all()
    result: dict[str, Value] = {}
    for definition, value in rows:
        typed = _typed(definition, value)
        if typed is not None:
            result[definition.key] = typed
    return result


def _store(row: CustomFieldValue, definition: CustomFieldDefinition, raw: Value) -> None:
    row.value_text = row.value_number = row.value_date = row.value_bool = None
    field_type = FieldType(definition.field_type)
    text = raw.strip() if isinstance(raw, str) else raw
    if field_type in (FieldType.TEXT, FieldType.CHOICE):
        if not isinstance(text, str):
            raise InvalidInput(definition.key, "expected text")
        if field_type is FieldType.CHOICE and text not in (definition.choices or []):
            raise InvalidInput(definition.key, f"one of {', '.join(definition.choices or [])}")
        row.value_text = text
    elif field_type is FieldType.NUMBER:
        try:
            row.value_number = Decimal(str(text).replace(",", "."))
        except InvalidOperation as exc:
            raise InvalidInput(definition.key, f"not a number: {raw!r}") from exc
    elif field_type is FieldType.DATE:
        try:
            row.value_date = text if isinstance(text, dt.date) else dt.date.fromisoformat(str(text))
        except ValueError as exc:
            raise InvalidInput(definition.key, f"expected YYYY-MM-DD, got {raw!r}") from exc
    elif isinstance(text, bool):
        row.value_bool = text
    elif str(text).lower() in _TRUE | _FALSE:
        row.value_bool = str(text).lower() in _TRUE
    else:
        raise InvalidInput(definition.key, f"expected yes or no, got {raw!r}")


def _typed(definition: CustomFieldDefinition, value: CustomFieldValue) -> Value | None:
    field_type = FieldType(definition.field_type)
    if field_type is FieldType.NUMBER:
        return value.value_number
    if field_type is FieldType.DATE:
        return value.value_date
    if field_type is FieldType.BOOLEAN:
        return value.value_bool
    return value.value_text


def _view(definition: CustomFieldDefinition) -> FieldDefinitionView:
    return FieldDefinitionView(
        key=definition.key,
        label=definition.label,
        field_type=FieldType(definition.field_type).value,
        choices=definition.choices,
        required=definition.required,
    )
