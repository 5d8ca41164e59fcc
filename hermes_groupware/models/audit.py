"""The audit log of admin actions, written in the same transaction as the action."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bigintpk, utc_now
from hermes_groupware.db.types import text_enum
from hermes_groupware.models.enums import AuditSource


class AuditEntry(Base):
    """One admin action: who (``None``: the CLI acting as the system), what, on which object.

    ``details`` is JSON text (never secrets: token values and passwords are not recorded).
    The actor link is cleared, not cascaded, when an employee is deleted, so history stays.
    """

    __tablename__ = "audit_log"

    id: Mapped[bigintpk]
    at: Mapped[utc_now] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    source: Mapped[AuditSource] = mapped_column(text_enum(AuditSource, 8))
