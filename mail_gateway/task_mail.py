"""The envelope every mail about a task shares: threading, reply address and robot headers.

A stable root Message-ID in ``In-Reply-To``/``References``, ``Thread-Topic``/``Thread-Index``
for Outlook, the task number in the subject, a signed ``Reply-To`` for an employee or contact
(a reply becomes a note on the task), and ``Auto-Submitted`` plus our loop header so that no
robot answers it. Notifications and reminders both build on it.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import email.utils
import hashlib
from email.message import EmailMessage

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Task
from mail_gateway.addresses import RecipientKind, ReplyToken, new_message_id
from mail_gateway.compose import LOOP_HEADER, one_line
from mail_gateway.processing import GatewayConfig


def threaded_message(
    uow: UnitOfWork,
    task: Task,
    *,
    to_name: str,
    to_address: str,
    reply_to: str | None,
    config: GatewayConfig,
) -> tuple[str, EmailMessage]:
    """A message about the task with its headers set (the caller adds the body), and its
    Message-ID; ``reply_to`` is the recipient's signed reply address, if they have one."""
    message = EmailMessage(policy=email.policy.SMTP)
    message_id = new_message_id(config.domain, task.id)
    root = f"task-{task.id}.root@{config.domain}"
    message["From"] = f"Hermes <{config.replies.local}@{config.domain}>"
    message["To"] = email.utils.formataddr((one_line(to_name), to_address))
    message["Subject"] = one_line(f"[{task.number}] {task.subject}")
    message["Date"] = email.utils.format_datetime(uow.now())
    message["Message-ID"] = f"<{message_id}>"
    message["In-Reply-To"] = f"<{root}>"
    message["References"] = f"<{root}>"
    message["Thread-Topic"] = task.number
    message["Thread-Index"] = thread_index(task, uow.now())
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message[LOOP_HEADER] = config.domain
    return message_id, message


def reply_address(
    config: GatewayConfig, task_id: int, kind: RecipientKind, recipient_id: int
) -> str:
    """The signed reply address of one recipient of a task's mail (contacts' notes are public)."""
    public = kind is RecipientKind.CONTACT
    return config.replies.address(ReplyToken(task_id, kind, recipient_id, public))


_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)


def thread_index(task: Task, now: dt.datetime) -> str:
    """Outlook's conversation header: the same 22-byte root for every mail of a task, plus a
    5-byte child block from the time since the task's creation."""
    created = task.created_at
    ticks = int((created - _FILETIME_EPOCH).total_seconds() * 10_000_000)
    guid = hashlib.sha256(f"hermes-task-{task.id}".encode()).digest()[:16]
    root = b"\x01" + ticks.to_bytes(8, "big")[1:6] + guid
    delta = max(0, int((now - created).total_seconds() * 10_000_000)) >> 18
    child = (delta & 0x7FFFFFFF).to_bytes(4, "big") + b"\x00"
    return base64.b64encode(root + child).decode()
