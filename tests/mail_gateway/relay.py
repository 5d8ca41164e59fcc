"""A real SMTP relay for tests (aiosmtpd): records what it accepts, answers as told."""

from __future__ import annotations

from typing import Any


class Relay:
    """Records accepted messages as (mail from, recipients, bytes); ``answer`` replies to DATA."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.answer = "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer.startswith("250"):
            self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return self.answer
