"""Failures an entry point must translate into its protocol's answer."""

from __future__ import annotations


class TemporaryFailure(Exception):
    """The message could not be stored or processed now; the sender must try again.

    SMTP/LMTP answer ``451``, ``mail deliver`` exits 75, the IMAP poller leaves the message in
    the mailbox for the next sweep.
    """


class UnknownRecipient(Exception):
    """No register, reply address or mailbox of ours matches the recipient (``550``/exit 67)."""


class MalformedMessage(Exception):
    """The message cannot be parsed within our limits; it is quarantined with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
