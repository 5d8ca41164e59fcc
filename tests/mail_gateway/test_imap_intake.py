"""The IMAP poller feeding the real pipeline, against a real Dovecot."""

from __future__ import annotations

from hermes_groupware.models.enums import InboundStatus, MailChannel
from mail_gateway.imap_poller import ImapPoller, ImapSettings
from mail_gateway.origin import Origin
from tests.mail_gateway.dovecot import Dovecot, MailUser
from tests.mail_gateway.gateway import Gateway, message


def test_a_reply_in_the_mailbox_becomes_one_note_and_leaves_the_inbox(
    gateway: Gateway, dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    task = gateway.task_of("anowak")
    address = gateway.reply_address(task.id, gateway.employee("anowak").id)
    reply = message(
        sender="anowak@firma.pl",
        to=address,
        body="Dzwoniłam do klienta, czeka na kuriera.",
        verified=True,
    )
    dovecot.append(imap_user, reply.as_bytes())
    poller = ImapPoller(imap_settings, gateway.intake.receive)
    assert poller.poll_once() == 1
    assert [n.body for n in gateway.items(task.id)] == ["Dzwoniłam do klienta, czeka na kuriera."]
    assert dovecot.uids(imap_user) == []
    assert poller.poll_once() == 0
    assert len(gateway.items(task.id)) == 1


def test_committed_but_not_moved_is_not_posted_twice(
    gateway: Gateway, dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    """A crash after commit and before the move: the next sweep offers the same UID again."""
    task = gateway.task_of("anowak")
    address = gateway.reply_address(task.id, gateway.employee("anowak").id)
    raw = message(sender="anowak@firma.pl", to=address, body="Tylko raz.", verified=True)
    uid = dovecot.append(imap_user, raw.as_bytes())
    poller = ImapPoller(imap_settings, gateway.intake.receive)
    with dovecot.client(imap_user) as client:  # what the crashed run had committed
        uidvalidity = client.select_folder("INBOX")[b"UIDVALIDITY"]
        fetched = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    first = gateway.intake.receive(
        fetched,
        Origin(MailChannel.IMAP, mailbox=poller.mailbox_id, uidvalidity=uidvalidity, uid=uid),
    )
    assert first.status is InboundStatus.POSTED
    assert poller.poll_once() == 1
    assert [n.body for n in gateway.items(task.id)] == ["Tylko raz."]
    assert dovecot.uids(imap_user) == []
