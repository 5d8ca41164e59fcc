"""Registers (rejestry): kinds of case, with colour, numbering and access."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, bool_true, intpk
from hermes_groupware.db.types import Colour, text_enum
from hermes_groupware.models.enums import AccessLevel


class Register(Base):
    """A register; ``default_access`` applies to every active employee without a grant."""

    __tablename__ = "registers"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    colour: Mapped[str] = mapped_column(Colour)
    inbound_email: Mapped[str | None] = mapped_column(String(254), unique=True)
    default_assignee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    default_access: Mapped[AccessLevel] = mapped_column(
        text_enum(AccessLevel, 8), default=AccessLevel.READ, server_default=AccessLevel.READ.value
    )
    is_active: Mapped[bool_true]
    # lets authenticated employees change tasks with "#status: done" lines in e-mail replies
    email_commands: Mapped[bool_false]
    # assignment mails of planned tasks carry a calendar invitation (iMIP) for the assignee
    send_invitations: Mapped[bool_false]
    # scheduled reports may show this register's tasks to addresses outside the company
    external_reports: Mapped[bool_false]


class RegisterPermission(Base):
    """A grant on a register to one employee or to a whole group."""

    __tablename__ = "register_permissions"
    __table_args__ = (
        CheckConstraint("(employee_id IS NULL) <> (group_id IS NULL)", name="employee_xor_group"),
        UniqueConstraint("register_id", "employee_id", "group_id"),
    )

    id: Mapped[intpk]
    register_id: Mapped[int] = mapped_column(
        ForeignKey("registers.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    level: Mapped[AccessLevel] = mapped_column(text_enum(AccessLevel, 8))


class RegisterCounter(Base):
    """Last task number handed out per register and year (``REK/2026/0042``)."""

    __tablename__ = "register_counters"

    register_id: Mapped[int] = mapped_column(
        ForeignKey("registers.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
