"""Task items (pozycje): notes, files, ERP document links and delegations, in one table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime, text_enum
from hermes_groupware.models.enums import DelegationMode, ItemKind, Source


class TaskItem(Base):
    """One item; the columns used depend on ``kind`` (checked by constraints)."""

    __tablename__ = "task_items"
    __table_args__ = (
        CheckConstraint("kind <> 'note' OR body IS NOT NULL", name="note_has_body"),
        CheckConstraint("kind <> 'file' OR file_id IS NOT NULL", name="file_has_blob"),
        CheckConstraint(
            "kind <> 'document' OR document_number IS NOT NULL", name="document_has_number"
        ),
        CheckConstraint(
            "kind <> 'delegation' OR (delegate_id IS NOT NULL AND delegation_mode IS NOT NULL)",
            name="delegation_has_delegate",
        ),
        Index("ix_task_items_delegate", "delegate_id", "kind"),
    )

    id: Mapped[intpk]
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ItemKind] = mapped_column(text_enum(ItemKind, 12))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    source: Mapped[Source] = mapped_column(
        text_enum(Source, 12), default=Source.DATABASE, server_default=Source.DATABASE.value
    )
    created_at: Mapped[utc_now]
    body: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(255))
    document_type: Mapped[str | None] = mapped_column(String(40))
    document_number: Mapped[str | None] = mapped_column(String(60))
    document_date: Mapped[dt.date | None] = mapped_column(Date)
    document_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    delegation_mode: Mapped[DelegationMode | None] = mapped_column(text_enum(DelegationMode))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # notes and files that came by e-mail: the raw message, the outside sender, and whether the
    # note may be shown to the customer (a reply to an internal notification never is)
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    sender: Mapped[str | None] = mapped_column(String(320))
    is_public: Mapped[bool_false]
    is_inline: Mapped[bool_false]
