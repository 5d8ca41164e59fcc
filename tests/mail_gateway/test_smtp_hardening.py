"""The listener's STARTTLS (a self-signed certificate made here) and its per-sender rate."""

from __future__ import annotations

import dataclasses
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from hermes_groupware.config import SmtpOutSettings
from hermes_groupware.errors import ConfigError
from hermes_groupware.services import mailbox
from hermes_groupware.throttle import Throttle
from mail_gateway import outbox_sender
from mail_gateway.addresses import new_message_id
from mail_gateway.outbox_sender import send_due
from mail_gateway.service import MailService
from mail_gateway.smtp_server import GatewayController, GatewayHandler, server_tls_context
from tests.mail_gateway.gateway import Gateway, message
from tests.mail_gateway.relay import Relay
from tests.ports import free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (the openssl command line)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=hermes.test", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_listener(gateway: Gateway, certificate: tuple[Path, Path]) -> Iterator[int]:
    port = free_port()
    handler = GatewayHandler(gateway.intake, gateway.database, lmtp=False)
    controller = GatewayController(
        handler,
        host="127.0.0.1",
        port=port,
        max_bytes=1 << 20,
        tls_context=server_tls_context(*certificate),
        require_starttls=True,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_starttls_with_the_configured_certificate_is_required_before_mail(
    tls_listener: int, gateway: Gateway, certificate: tuple[Path, Path]
) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    mail = message(sender="klient@firma-x.pl", to="reklamacje@firma.pl", subject="Przez TLS")
    with smtplib.SMTP("127.0.0.1", tls_listener, timeout=10) as client:
        client.ehlo("mx.firma.pl")
        assert client.has_extn("starttls")
        code, text = client.mail("klient@firma-x.pl")
        assert code == 530, text  # plain text is refused
        client.starttls(context=trusting)  # verifies the chain and the 127.0.0.1 address
        client.ehlo("mx.firma.pl")
        assert not client.has_extn("starttls")
        refused = client.send_message(mail, to_addrs=["reklamacje@firma.pl"])
    assert refused == {}
    client = smtplib.SMTP("127.0.0.1", tls_listener, timeout=10)
    with client, pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context=ssl.create_default_context())  # an unknown issuer


@pytest.fixture
def limited_listener(gateway: Gateway) -> Iterator[int]:
    port = free_port()
    handler = GatewayHandler(gateway.intake, gateway.database, lmtp=False, senders=Throttle(2))
    controller = GatewayController(handler, host="127.0.0.1", port=port, max_bytes=1 << 20)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_a_sender_over_its_rate_is_deferred_with_451_others_are_not(
    limited_listener: int,
) -> None:
    with smtplib.SMTP("127.0.0.1", limited_listener, timeout=10) as client:
        client.ehlo("mx.firma.pl")
        for _ in range(2):
            assert client.mail("Spamer@Example.com")[0] == 250
            client.rset()
        code, text = client.mail("spamer@example.com")  # the same address, any case
        assert (code, text[:5]) == (451, b"4.7.1"), text
        client.rset()
        assert client.mail("klient@firma-x.pl")[0] == 250


def test_a_certificate_that_cannot_be_loaded_stops_the_start(
    gateway: Gateway, tmp_path: Path
) -> None:
    settings = gateway.settings
    smtp = dataclasses.replace(
        settings.smtp_in, enabled=True, port=free_port(), tls_cert="nope.pem", tls_key="nope.key"
    )
    service = MailService(dataclasses.replace(settings, smtp_in=smtp), gateway.database)
    with pytest.raises(ConfigError, match=r"\[smtp_in\] tls_cert"):
        service.start(["smtp"])


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_the_outbox_reaches_a_relay_over_verified_tls(
    gateway: Gateway,
    certificate: tuple[Path, Path],
    security: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """STARTTLS (port 587 style, the relay insists on it) and implicit TLS (465), with the
    relay's certificate checked against the trust store (here: our test CA only)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    outbox_sender._tls_context.cache_clear()  # the trust store is read once per process
    sink, port = Relay(), free_port()
    context = server_tls_context(*certificate)
    tls = {"ssl_context": context} if security == "tls" else {"tls_context": context}
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, require_starttls=security == "starttls", **tls
    )
    controller.start()
    try:
        message_id = new_message_id("hermes.test", None)
        raw = (
            f"From: Hermes <hermes@hermes.test>\r\nTo: anna@klient.pl\r\nSubject: TLS\r\n"
            f"Message-ID: <{message_id}>\r\n\r\nTreść\r\n"
        ).encode()
        with gateway.uow() as uow:
            mailbox.enqueue(
                uow, message_id=message_id, recipient="anna@klient.pl", raw=raw, kind="test"
            )
        relay = SmtpOutSettings(host="127.0.0.1", port=port, security=security, timeout_seconds=5)
        send_due(gateway.database, relay)
    finally:
        controller.stop()
        outbox_sender._tls_context.cache_clear()
    assert [r for r in sink.received if message_id.encode() in r[2]]
