"""``/quarantine`` and ``/outbox``: administrators only; raw, release, retry, delete and
their conflicts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from hermes_groupware.errors import PermissionDenied
from hermes_groupware.models import InboundMessage, Task, TaskItem
from hermes_groupware.models.enums import InboundStatus, MailChannel, OutboundStatus, Source
from hermes_groupware.services import mailbox
from mail_gateway.processing import GatewayConfig
from mail_gateway.release import Release, release
from tests.hermes_groupware.http.api.conftest import ApiServer

SUBJECT = '<img src=x onerror="alert(1)"> Reklamacja'


@pytest.fixture(scope="module")
def admin(api_server: ApiServer) -> str:
    """A token with every scope."""
    return api_server.token("admin", ("read", "write", "admin"))


def _inbound(api_server: ApiServer, status: InboundStatus) -> int:
    raw = f"Subject: {SUBJECT}\r\nMessage-ID: <{uuid.uuid4()}@x>\r\n\r\nTekst\r\n".encode()
    with api_server.uow() as uow:
        stored = mailbox.store_raw(
            uow, raw, channel=MailChannel.SMTP, envelope_from="a@klient.pl", recipients=["r@x.pl"]
        )
        row = uow.session.get(InboundMessage, stored.id)
        assert row is not None
        row.status, row.subject, row.reason = status, SUBJECT, "no task found"
        row.trail = ["no register address", "quarantined"]
        return stored.id


def _outbound(api_server: ApiServer, status: OutboundStatus) -> int:
    with api_server.uow() as uow:
        row = mailbox.enqueue(
            uow, message_id=f"<{uuid.uuid4()}@hermes>", recipient="klient@example.com",
            raw=b"Subject: x\r\n\r\nx", kind="notification",
        )  # fmt: skip
        assert row is not None
        row.status, row.last_error = status, "550 mailbox unavailable"
        uow.session.flush()
        return row.id


def test_only_administrators(api_server: ApiServer) -> None:
    for path in ("/quarantine", "/outbox"):
        plain_admin = api_server.call("GET", path, token=api_server.token("admin"))
        assert plain_admin.status_code == 403
        assert plain_admin.json()["error"]["code"] == "insufficient_scope"
        assert api_server.call("GET", path, login="jkowalski").status_code == 403
        assert api_server.call("GET", path, login="admin").status_code == 200


def test_quarantine_read_retry_delete(api_server: ApiServer, admin: str) -> None:
    held = _inbound(api_server, InboundStatus.QUARANTINED)
    listed = api_server.call("GET", "/quarantine", token=admin).json()["items"]
    row = next(m for m in listed if m["id"] == held)
    assert (row["subject"], row["reason"]) == (SUBJECT, "no task found")
    detail = api_server.call("GET", f"/quarantine/{held}", token=admin).json()
    assert detail["trail"] == ["no register address", "quarantined"]
    assert api_server.call("POST", f"/quarantine/{held}/retry", token=admin).status_code == 204
    received = api_server.call("GET", "/quarantine?status=received", token=admin).json()
    assert held in {m["id"] for m in received["items"]}

    spam = _inbound(api_server, InboundStatus.QUARANTINED)
    assert api_server.call("DELETE", f"/quarantine/{spam}", token=admin).status_code == 204
    assert api_server.call("GET", f"/quarantine/{spam}", token=admin).status_code == 404

    posted = _inbound(api_server, InboundStatus.POSTED)
    for method, suffix in (("POST", "/retry"), ("DELETE", "")):
        response = api_server.call(method, f"/quarantine/{posted}{suffix}", token=admin)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"


def test_outbox_list_and_retry(api_server: ApiServer, admin: str) -> None:
    dead = _outbound(api_server, OutboundStatus.DEAD)
    sent = _outbound(api_server, OutboundStatus.SENT)
    listed = api_server.call("GET", "/outbox?status=dead", token=admin).json()["items"]
    assert dead in {m["id"] for m in listed} and sent not in {m["id"] for m in listed}
    assert api_server.call("POST", f"/outbox/{dead}/retry", token=admin).status_code == 204
    queued = api_server.call("GET", "/outbox?status=queued", token=admin).json()["items"]
    assert dead in {m["id"] for m in queued}
    again = api_server.call("POST", f"/outbox/{sent}/retry", token=admin)
    assert again.status_code == 409
    assert api_server.call("POST", "/outbox/999999/retry", token=admin).status_code == 404
    bad = api_server.call("GET", "/outbox?status=lost", token=admin)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "status"


def test_raw_message_download(api_server: ApiServer, admin: str) -> None:
    held = _inbound(api_server, InboundStatus.QUARANTINED)
    raw = api_server.call("GET", f"/quarantine/{held}/raw", token=admin)
    assert raw.status_code == 200
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert raw.headers["Content-Disposition"].startswith(f'attachment; filename="message-{held}')
    assert raw.content.startswith(b"Subject: " + SUBJECT.encode())
    assert api_server.call("GET", f"/quarantine/{held}/raw", login="jkowalski").status_code == 403
    assert api_server.call("GET", "/quarantine/999999/raw", token=admin).status_code == 404


def _a_task(api_server: ApiServer) -> tuple[int, str]:
    with api_server.uow() as uow:
        task = uow.session.scalars(select(Task).order_by(Task.id).limit(1)).one()
        return task.id, task.number


def test_release_to_a_task(api_server: ApiServer, admin: str) -> None:
    task_id, number = _a_task(api_server)
    held = _inbound(api_server, InboundStatus.QUARANTINED)
    path = f"/quarantine/{held}/release"
    assert (
        api_server.call("POST", path, json={"task": number}, login="jkowalski").status_code == 403
    )
    missing = api_server.call("POST", path, json={"task": "REK/1999/9999"}, token=admin)
    assert missing.status_code == 404
    empty = api_server.call("POST", path, json={"task": ""}, token=admin)
    assert (empty.status_code, empty.json()["error"]["field"]) == (422, "task")

    released = api_server.call("POST", path, json={"task": number}, token=admin)
    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["status"], body["task_id"]) == ("posted", task_id)
    assert f"released to task id {task_id} by admin" in body["trail"]
    with api_server.uow() as uow:
        notes = uow.session.scalars(
            select(TaskItem).where(TaskItem.task_id == task_id, TaskItem.inbound_message_id == held)
        ).all()
        assert len(notes) == 1
    again = api_server.call("POST", path, json={"task": str(task_id)}, token=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")


def test_release_is_checked_in_the_seam(api_server: ApiServer) -> None:
    task_id, _number = _a_task(api_server)
    held = _inbound(api_server, InboundStatus.QUARANTINED)
    config = GatewayConfig.from_settings(api_server.settings)
    decision = Release(api_server.actor("jkowalski"), Source.API, held, task_id)
    with pytest.raises(PermissionDenied):
        release(api_server.database, decision, config)
    with api_server.uow() as uow:
        assert mailbox.message(uow, held).status is InboundStatus.QUARANTINED
