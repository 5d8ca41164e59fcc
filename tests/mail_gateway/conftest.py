"""Fixtures of the e-mail gateway tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from hermes_groupware import demo
from hermes_groupware.config import SmtpOutSettings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.models.enums import Source
from mail_gateway.imap_poller import ImapSettings
from tests.conftest import DatabaseFactory, migrated
from tests.mail_gateway.dovecot import Dovecot, MailUser, require_dovecot
from tests.mail_gateway.gateway import Gateway, settings_for
from tests.mail_gateway.relay import Relay
from tests.ports import free_port

# --- IMAP poller: a real Dovecot ---------------------------------------------------------
# One server for the session (startup ~0.1 s, but stop ~1 s); every test gets its own user,
# i.e. its own empty mailbox, so tests do not see each other's mail.


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A private Dovecot on 127.0.0.1 (skipped without Dovecot, a failure on CI)."""
    require_dovecot()
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_user(dovecot: Dovecot) -> MailUser:
    """A fresh mailbox; restarts the server should an earlier test have left it stopped."""
    dovecot.start()
    return dovecot.add_user()


@pytest.fixture
def imap_settings(dovecot: Dovecot, imap_user: MailUser) -> ImapSettings:
    """Poller settings for ``imap_user`` with test-sized timers."""
    return ImapSettings(
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        username=imap_user.name,
        password=imap_user.password,
        idle_seconds=30,
        sweep_seconds=30,
        timeout_seconds=5,
    )


@pytest.fixture(
    scope="module",
    params=["IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"],
    ids=["uidplus", "rfc3501-only"],
)
def legacy_dovecot(request: pytest.FixtureRequest) -> Iterator[Dovecot]:
    """A Dovecot advertising neither MOVE nor IDLE (and maybe not UIDPLUS): the fallbacks."""
    require_dovecot()
    server = Dovecot(extra_config=f"imap_capability = {request.param}\n")
    try:
        server.start()
        yield server
    finally:
        server.close()


# --- end of IMAP poller fixtures -----------------------------------------------------------


# --- the pipeline: a committed database with demo data -----------------------------------


@pytest.fixture(scope="module")
def gateway(
    db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """One database per test module, with demo data; tests create the tasks they change."""
    tmp = tmp_path_factory.mktemp("mail")
    url = db_factory.new_url()
    engine = migrated(url)
    database = Database(engine, FileStore(tmp / "files", 30 * 1024 * 1024))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        demo.load(uow, tasks=20, seed=5, demo_mode=True)
    try:
        yield Gateway(database, settings_for(url, tmp))
    finally:
        engine.dispose()


# --- a real SMTP relay for the outbox -----------------------------------------------------


@pytest.fixture
def relay() -> Iterator[tuple[Relay, SmtpOutSettings]]:
    """An aiosmtpd relay on a free loopback port and the ``[smtp_out]`` settings to reach it."""
    port = free_port()
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, dataclasses.replace(SmtpOutSettings(), port=port, timeout_seconds=5)
    finally:
        controller.stop()
