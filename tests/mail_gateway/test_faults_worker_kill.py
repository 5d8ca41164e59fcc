"""The worker (outbox sender) killed with SIGKILL mid-work and started again.

Nothing queued may be lost. The documented duplicate: each message is claimed, sent and
marked sent in one transaction, so the one message the relay took just before the kill (its
transaction never committed) goes out once more after the restart, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hermes_groupware.db.session import Actor, Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import OutboundMessage
from hermes_groupware.models.enums import OutboundStatus, Source
from hermes_groupware.services import mailbox
from mail_gateway.addresses import new_message_id
from tests.conftest import DatabaseFactory, migrated
from tests.faults import Served, serve_env
from tests.mail_gateway.relay import Relay
from tests.ports import free_port

pytestmark = pytest.mark.timeout(120)
MESSAGES = 60


class SlowRelay(Relay):
    """Takes 30 ms per message, so a kill lands in the middle of a batch."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)

    def message_ids(self) -> Counter[str]:
        return Counter(str(message_from_bytes(raw)["Message-ID"]) for *_, raw in self.received)


@pytest.fixture
def database(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[Database, str]]:
    url = db_factory.new_url()
    engine = migrated(url)
    yield Database(engine, FileStore(tmp_path / "files", 1 << 20)), url
    engine.dispose()


def _queue(database: Database) -> list[str]:
    ids = []
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        for n in range(MESSAGES):
            message_id = new_message_id("hermes.test", None)
            raw = (
                f"From: Hermes <hermes@hermes.test>\r\nTo: klient{n}@firma-z.pl\r\n"
                f"Subject: Powiadomienie {n}\r\nMessage-ID: <{message_id}>\r\n\r\nTreść\r\n"
            ).encode()
            mailbox.enqueue(
                uow, message_id=message_id, recipient=f"klient{n}@firma-z.pl", raw=raw, kind="test"
            )
            ids.append(f"<{message_id}>")
    return ids


def _statuses(database: Database) -> Counter[OutboundStatus]:
    with database.unit_of_work(Actor.system("test"), Source.CLI, read_only=True) as uow:
        return Counter(uow.session.scalars(select(OutboundMessage.status)))


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.02)
    return condition()


def test_a_killed_worker_loses_nothing_and_repeats_at_most_the_message_in_hand(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    db, url = database
    queued = _queue(db)
    relay, port = SlowRelay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nlevel = "ERROR"\n', encoding="utf-8")
    env = serve_env(url, config, smtp_out_port=str(port), files_path=str(tmp_path / "files"))
    try:
        worker = Served("worker", env, tmp_path / "serve.log")
        assert _wait(lambda: len(relay.received) >= 10, 60), "the worker never sent"
        worker.kill()
        before_restart = relay.message_ids()
        marked = _statuses(db)[OutboundStatus.SENT]
        assert len(before_restart) < MESSAGES  # killed mid-work
        assert len(before_restart) - 1 <= marked <= len(before_restart)  # one in hand at most
        worker = Served("worker", env, tmp_path / "serve.log")
        try:
            assert _wait(lambda: _statuses(db) == Counter({OutboundStatus.SENT: MESSAGES}), 60)
        finally:
            worker.stop()
    finally:
        controller.stop()
    received = relay.message_ids()
    assert set(received) == set(queued)  # nothing lost, nothing foreign
    doubled = [mid for mid, copies in received.items() if copies > 1]
    assert len(doubled) <= 1 and all(received[mid] == 2 for mid in doubled), received
    assert set(doubled) <= set(before_restart)  # only what the killed worker had handed over
