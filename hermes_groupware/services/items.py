"""Task items: notes, files and ERP document links."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.models import StoredFile, TaskItem
from hermes_groupware.models.enums import ItemKind
from hermes_groupware.services import access

MAX_NOTE_CHARS = 100_000


@dataclass(frozen=True)
class MailOrigin:
    """Items that came by e-mail: the stored message, its outside sender, and whether the
    customer may see it (a reply to an internal notification never may)."""

    inbound_message_id: int
    sender: str | None = None
    is_public: bool = False


_UNSAFE_FILENAME = re.compile(r"[\\/:*?\"<>|]")


def add_note(
    uow: UnitOfWork, task_id: int, body: str, *, mail: MailOrigin | None = None
) -> TaskItem:
    """A note (summary of a call or meeting, an e-mail reply) by the actor."""
    access.editable_task(uow.session, uow.actor, task_id)
    body = body.strip()
    if not body:
        raise InvalidInput("body", "a note must not be empty")
    if len(body) > MAX_NOTE_CHARS:
        raise InvalidInput("body", f"at most {MAX_NOTE_CHARS} characters")
    return _add(uow, TaskItem(task_id=task_id, kind=ItemKind.NOTE, body=body), mail)


def safe_filename(name: str) -> str:
    """A display name that cannot traverse paths or hide its extension (RTL overrides)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    return name[:255] or "attachment"


def add_file(
    uow: UnitOfWork,
    task_id: int,
    *,
    filename: str,
    content_type: str,
    chunks: Iterable[bytes],
    mail: MailOrigin | None = None,
    inline: bool = False,
    once_per_task: bool = False,
) -> TaskItem:
    """Store a file (once per content) and attach it to the task.

    With ``once_per_task`` a content the task already has is not attached again (the same
    signature logo in twenty replies): the existing item is returned instead.
    """
    access.editable_task(uow.session, uow.actor, task_id)
    blob = uow.files.put(chunks)
    stored = uow.session.scalar(select(StoredFile).where(StoredFile.sha256 == blob.sha256))
    if stored is None:
        stored = StoredFile(sha256=blob.sha256, size=blob.size)
        uow.session.add(stored)
        uow.session.flush()
    elif once_per_task:
        present = uow.session.scalars(
            select(TaskItem).where(
                TaskItem.task_id == task_id,
                TaskItem.kind == ItemKind.FILE,
                TaskItem.file_id == stored.id,
            )
        ).first()
        if present is not None:
            return present
    item = TaskItem(
        task_id=task_id,
        kind=ItemKind.FILE,
        file_id=stored.id,
        filename=safe_filename(filename),
        content_type=content_type or "application/octet-stream",
        is_inline=inline,
    )
    return _add(uow, item, mail)


@dataclass(frozen=True)
class FileContent:
    """A file item's bytes with the name and type it was attached under."""

    filename: str
    content_type: str
    data: bytes


def file_content(uow: UnitOfWork, task_id: int, item_id: int) -> FileContent:
    """The bytes of a file attached to a task the actor may see.

    Raises:
        NotFound: the task is hidden or missing, or it has no file item ``item_id``.
    """
    access.readable_task(uow.session, uow.actor, task_id)
    found = uow.session.execute(
        select(TaskItem.filename, TaskItem.content_type, StoredFile.sha256)
        .join(StoredFile, StoredFile.id == TaskItem.file_id)
        .where(TaskItem.id == item_id, TaskItem.task_id == task_id, TaskItem.kind == ItemKind.FILE)
    ).first()
    if found is None:
        raise NotFound(f"file {item_id} not found")
    filename, content_type, sha256 = found
    return FileContent(
        filename=filename or "attachment",
        content_type=content_type or "application/octet-stream",
        data=uow.files.read(sha256),
    )


def add_document_link(
    uow: UnitOfWork,
    task_id: int,
    *,
    document_type: str,
    document_number: str,
    document_date: dt.date | None = None,
    amount: Decimal | None = None,
    currency: str = "PLN",
) -> TaskItem:
    """Link an ERP document (order, invoice…) to the task; amounts feed the turnover report."""
    access.editable_task(uow.session, uow.actor, task_id)
    if not document_type.strip() or not document_number.strip():
        raise InvalidInput("document", "type and number are required")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput("currency", "an ISO 4217 code such as PLN")
    return _add(
        uow,
        TaskItem(
            task_id=task_id,
            kind=ItemKind.DOCUMENT,
            document_type=document_type.strip(),
            document_number=document_number.strip(),
            document_date=document_date,
            document_amount=amount,
            currency=currency,
        ),
    )


def _add(uow: UnitOfWork, item: TaskItem, mail: MailOrigin | None = None) -> TaskItem:
    if mail is not None:
        item.inbound_message_id = mail.inbound_message_id
        item.sender = mail.sender
        item.is_public = mail.is_public
    item.author_id = uow.actor.employee_id
    item.source = uow.source
    item.created_at = uow.now()
    uow.session.add(item)
    uow.session.flush()
    return item
