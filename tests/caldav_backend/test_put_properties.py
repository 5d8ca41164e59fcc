"""Property: a PUT of anything a client might send is applied whole or refused whole.

Through the real server, a new object and an edit of an existing task with random mapped
properties (and sometimes the wrong component or UID) get a 2xx or a 4xx, never a 5xx. On a
refusal nothing changed: the task row, its history and the stored object are as before.
Afterwards the collection still renders (sync REPORT 207), whatever was accepted.
"""

from __future__ import annotations

import base64
import http.client
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hermes_groupware.models import CalendarObject, Task, TaskHistory
from tests.caldav_backend.conftest import PASSWORD, Server
from tests.properties import BOUNDED, calendar_object, client_bodies

pytestmark = pytest.mark.timeout(120)
AUTH = "Basic " + base64.b64encode(f"jkowalski:{PASSWORD}".encode()).decode()
COLLECTIONS = {"tasks": "VTODO", "planned": "VEVENT"}
SYNC = (
    '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
    "<D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>"
    "</D:sync-collection>"
)
ACCEPTED, REFUSED = {200, 201, 204}, {400, 403, 409, 412, 415}
HTTP = settings(BOUNDED, max_examples=60)


def _request(server: Server, method: str, path: str, body: str = "", **headers: str) -> int:
    url = urlparse(server.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request(method, path, body.encode(), {"Authorization": AUTH, **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _put(server: Server, path: str, body: str) -> int:
    return _request(server, "PUT", path, body, **{"Content-Type": "text/calendar"})


def _state(server: Server, uid: str) -> dict[str, Any]:
    """Everything a PUT of ``uid`` could change, and the number of tasks."""
    with server.uow() as uow:
        session = uow.session
        objects = session.execute(
            select(CalendarObject.href, CalendarObject.body, CalendarObject.etag).where(
                CalendarObject.uid == uid
            )
        ).all()
        task_ids = {
            t
            for t in session.scalars(
                select(CalendarObject.task_id).where(CalendarObject.uid == uid)
            )
        }
        tasks = [
            {c.key: getattr(task, c.key) for c in Task.__table__.columns}
            for task in session.scalars(select(Task).where(Task.id.in_(task_ids)))
        ]
        history = session.scalar(
            select(func.count()).select_from(TaskHistory).where(TaskHistory.task_id.in_(task_ids))
        )
        count = session.scalar(select(func.count()).select_from(Task))
    return {"objects": sorted(objects), "tasks": tasks, "history": history, "count": count}


def _renders(server: Server, collection: str) -> bool:
    path = f"/jkowalski/{collection}/"
    return (
        _request(server, "REPORT", path, SYNC, Depth="1", **{"Content-Type": "application/xml"})
        == 207
    )


@st.composite
def puts(draw: st.DrawFn) -> tuple[str, str, str]:
    collection = draw(st.sampled_from(sorted(COLLECTIONS)))
    uid = str(uuid.uuid4())
    return collection, uid, draw(client_bodies(uid, COLLECTIONS[collection]))


def _check(server: Server, collection: str, uid: str, body: str) -> None:
    before = _state(server, uid)
    status = _put(server, f"/jkowalski/{collection}/{uid}.ics", body)
    event(f"PUT answered {status}")  # --hypothesis-show-statistics: both kinds are drawn
    assert status in ACCEPTED | REFUSED, (status, body)
    if status in REFUSED:
        assert _state(server, uid) == before, body
    assert _renders(server, collection)


@HTTP
@given(puts())
def test_a_new_object_is_created_or_refused_whole(
    dav_server: Server, case: tuple[str, str, str]
) -> None:
    _check(dav_server, *case)


@HTTP
@given(puts())
def test_an_edit_is_applied_or_refused_whole(
    dav_server: Server, case: tuple[str, str, str]
) -> None:
    collection, uid, body = case
    start = [("SUMMARY:", "Do zrobienia"), ("DTSTART:", "20261201T090000Z")]
    start.append(
        ("DUE:", "20261201T100000Z") if collection == "tasks" else ("DTEND:", "20261201T100000Z")
    )
    created = _put(
        dav_server,
        f"/jkowalski/{collection}/{uid}.ics",
        calendar_object(COLLECTIONS[collection], uid, start),
    )
    assert created == 201
    _check(dav_server, collection, uid, body)
