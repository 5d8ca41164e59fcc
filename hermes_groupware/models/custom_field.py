"""Custom fields (cechy): typed extra fields defined per register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, intpk
from hermes_groupware.db.types import text_enum
from hermes_groupware.models.enums import FieldType


class CustomFieldDefinition(Base):
    """A field a register's tasks may carry; ``key`` is stable, ``label`` is for people."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("register_id", "key"),)

    id: Mapped[intpk]
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    field_type: Mapped[FieldType] = mapped_column(text_enum(FieldType, 8))
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool_false]


class CustomFieldValue(Base):
    """One task's value of one field, in the column that matches the field's type."""

    __tablename__ = "custom_field_values"
    __table_args__ = (UniqueConstraint("task_id", "field_id"),)

    id: Mapped[intpk]
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE")
    )
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    value_date: Mapped[dt.date | None] = mapped_column(Date)
    value_bool: Mapped[bool | None]
