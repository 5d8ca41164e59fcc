"""Where an inbound message came from: what the entry point knows before parsing it."""

from __future__ import annotations

from dataclasses import dataclass

from hermes_groupware.models.enums import MailChannel


@dataclass(frozen=True)
class Origin:
    """The envelope of one delivery; IMAP deliveries also carry their mailbox coordinates.

    ``mailbox``/``uidvalidity``/``uid`` identify an IMAP message across reconnects, so the same
    message fetched twice (a crash between commit and the IMAP move) is processed once.
    """

    channel: MailChannel
    envelope_from: str | None = None
    recipients: tuple[str, ...] = ()
    mailbox: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
