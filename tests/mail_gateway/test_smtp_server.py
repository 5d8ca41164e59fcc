"""Real SMTP and LMTP conversations with the running listener."""

from __future__ import annotations

import dataclasses
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from hermes_groupware.db.session import Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import InboundMessage
from mail_gateway.intake import Intake
from mail_gateway.smtp_server import GatewayController, GatewayHandler
from tests.mail_gateway.gateway import Gateway, message
from tests.ports import free_port


@pytest.fixture
def listener(gateway: Gateway, request: pytest.FixtureRequest) -> Iterator[tuple[int, bool]]:
    lmtp = bool(getattr(request, "param", False))
    port = free_port()
    handler = GatewayHandler(gateway.intake, gateway.database, lmtp=lmtp)
    controller = GatewayController(handler, host="127.0.0.1", port=port, max_bytes=1 << 20)
    controller.start()
    try:
        yield port, lmtp
    finally:
        controller.stop()


class _Conversation:
    """A line-by-line client, to see every reply (smtplib reads one reply after DATA)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def reply(self) -> str:
        lines = []
        while True:
            line = self.file.readline().decode()
            lines.append(line.rstrip("\r\n"))
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    def send(self, line: bytes) -> str:
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.mark.parametrize("listener", [True], indirect=True)
def test_lmtp_answers_each_recipient_after_one_stored_copy(
    listener: tuple[int, bool], gateway: Gateway
) -> None:
    port, _ = listener
    task = gateway.task_of("jkowalski")
    reply_to = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    mail = message(sender="klient@firma-x.pl", to="reklamacje@firma.pl", subject="Dwa adresy")
    client = _Conversation(port)
    try:
        assert client.reply().startswith("220")
        assert client.send(b"LHLO mx.firma.pl").startswith("250")
        assert client.send(b"MAIL FROM:<klient@firma-x.pl>").startswith("250")
        assert client.send(b"RCPT TO:<reklamacje@firma.pl>").startswith("250")
        assert client.send(b"RCPT TO:<nikt@firma.pl>").startswith("550")
        assert client.send(f"RCPT TO:<{reply_to}>".encode()).startswith("250")
        assert client.send(b"DATA").startswith("354")
        body = mail.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        client.sock.sendall(body + b"\r\n.\r\n")
        first, second = client.reply(), client.reply()
        assert first.startswith("250") and second.startswith("250")
        assert client.send(b"QUIT").startswith("221")
    finally:
        client.close()
    with gateway.uow() as uow:
        stored = uow.session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.subject == "Dwa adresy")
        )
    assert stored == 1


def test_smtp_delivery_is_answered_after_commit(
    listener: tuple[int, bool], gateway: Gateway
) -> None:
    port, _ = listener
    mail = message(sender="nowy@klient.pl", to="reklamacje@firma.pl", subject="Przez SMTP")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        refused = smtp.sendmail("nowy@klient.pl", ["reklamacje@firma.pl"], mail.as_bytes())
        assert refused == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("nowy@klient.pl", ["nikt@firma.pl"], mail.as_bytes())
    with gateway.uow() as uow:
        row = uow.session.scalars(
            select(InboundMessage).where(InboundMessage.subject == "Przez SMTP")
        ).one()
        assert row.status == "posted" and row.channel == "smtp"


def test_an_unavailable_database_answers_451(gateway: Gateway, tmp_path: Path) -> None:
    broken = create_engine(f"sqlite:///{tmp_path}/missing/dir/hermes.db")
    database = Database(broken, FileStore(tmp_path / "files", 1 << 20))
    intake = Intake(database, dataclasses.replace(gateway.settings))
    handler = GatewayHandler(intake, database, lmtp=False)
    port = free_port()
    controller = GatewayController(handler, host="127.0.0.1", port=port, max_bytes=1 << 20)
    controller.start()
    try:
        reply_to = gateway.reply_address(1, 1)  # our namespace: accepted without a lookup
        mail = message(sender="a@b.pl", to=reply_to)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("a@b.pl", [reply_to], mail.as_bytes())
            assert refused.value.smtp_code == 451
            smtp.mail("a@b.pl")
            code, _ = smtp.rcpt("reklamacje@firma.pl")  # needs the database: also 451
    finally:
        controller.stop()
        broken.dispose()
    assert code == 451
