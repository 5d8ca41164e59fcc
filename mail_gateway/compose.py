"""Automatic mail the gateway sends itself: the register acknowledgement and command results.

Every message carries ``Auto-Submitted`` and our loop header, so that other systems' robots
(and another Hermes instance) do not answer it, and a Reply-To that routes back to the task.
"""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mail_gateway.addresses import new_message_id

LOOP_HEADER = "X-Hermes-Loop"

templates = Environment(
    loader=PackageLoader("mail_gateway", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    keep_trailing_newline=True,
)


def check_templates() -> list[str]:
    """Compile every template now, so a broken one stops ``serve`` at start, not at 8:00."""
    names = templates.list_templates(extensions=("txt", "html"))
    for name in names:
        templates.get_template(name)
    return names


def one_line(value: str) -> str:
    """Header values from task data must not carry line breaks (header injection)."""
    return " ".join(value.split())


def automatic_reply(
    *,
    sender: str,
    to: str,
    reply_to: str,
    subject: str,
    template: str,
    context: dict[str, object],
    domain: str,
    task_id: int | None,
    in_reply_to: str | None,
) -> tuple[str, bytes]:
    """A rendered automatic reply: its Message-ID and its bytes, ready for the outbox."""
    message = EmailMessage(policy=email.policy.SMTP)
    message_id = new_message_id(domain, task_id)
    message["From"] = sender
    message["To"] = to
    message["Reply-To"] = reply_to
    message["Subject"] = one_line(subject)
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message[LOOP_HEADER] = domain
    message.set_content(templates.get_template(template).render(**context))
    return message_id, message.as_bytes()
