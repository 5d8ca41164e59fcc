"""``/tasks/{id}/files``: attach (raw body or form), list and download; who may; hostile names;
bodies over the limits get a JSON 413."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from hermes_groupware.http.api.uploads import media_type
from hermes_groupware.models import Task
from hermes_groupware.services import access, items
from tests.hermes_groupware.http.api.conftest import ApiServer, serving

HOSTILE = "..\\../etc/<img src=x onerror=alert(1)>\u202egnp.exe\x07"


def _task(api_server: ApiServer, login: str, *, see: bool, edit: bool) -> int:
    """A task ``login`` may (or may not) see and change."""
    actor = api_server.actor(login)
    with api_server.uow() as uow:
        for task_id in uow.session.scalars(select(Task.id).order_by(Task.id)):
            seen = access.can_see(uow.session, actor, task_id)
            if seen == see and (not seen or access.can_edit(uow.session, actor, task_id) == edit):
                return task_id
    raise AssertionError(f"the demo data has no task for {login} with see={see}, edit={edit}")


def test_attach_list_download(api_server: ApiServer) -> None:
    jan = api_server.token("jkowalski")
    task_id = _task(api_server, "jkowalski", see=True, edit=True)
    data = b"%PDF-1.4 faktura\x00\xff" * 100
    raw = api_server.call(
        "POST", f"/tasks/{task_id}/files", token=jan, params={"filename": HOSTILE}, data=data,
        headers={"Content-Type": "application/pdf"},
    )  # fmt: skip
    assert raw.status_code == 201, raw.text
    item = raw.json()
    assert (item["kind"], item["size"]) == ("file", len(data))
    assert item["content_type"] == "application/pdf"
    assert "/" not in item["filename"] and "\\" not in item["filename"]
    assert "\u202e" not in item["filename"] and "\x07" not in item["filename"]
    assert item["source"] == "api" and item["author"] == "jkowalski"

    form = api_server.call(
        "POST", f"/tasks/{task_id}/files", token=jan,
        files={"file": ("zdjęcie usterki.jpg", b"\xff\xd8jpeg", "image/jpeg; x=1")},
    )  # fmt: skip
    assert form.status_code == 201, form.text
    assert (form.json()["filename"], form.json()["content_type"]) == (
        "zdjęcie usterki.jpg", "image/jpeg"
    )  # fmt: skip

    listed = api_server.call("GET", f"/tasks/{task_id}/files", token=jan).json()["items"]
    assert {item["id"], form.json()["id"]} <= {f["id"] for f in listed}
    got = api_server.call("GET", f"/tasks/{task_id}/files/{item['id']}", token=jan)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["Content-Type"] == "application/pdf"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''" in disposition
    assert "/" not in disposition.split('"')[1] and "\n" not in disposition


def test_who_may(api_server: ApiServer) -> None:
    jan = api_server.token("jkowalski")
    hidden = _task(api_server, "jkowalski", see=False, edit=False)
    mine = _task(api_server, "jkowalski", see=True, edit=True)
    with api_server.uow() as uow:
        secret = items.add_file(
            uow, hidden, filename="umowa.pdf", content_type="application/pdf", chunks=[b"tajne"]
        ).id
    for method, path in (
        ("GET", f"/tasks/{hidden}/files"),
        ("POST", f"/tasks/{hidden}/files?filename=a.txt"),
        ("GET", f"/tasks/{hidden}/files/{secret}"),
        ("GET", f"/tasks/{mine}/files/{secret}"),  # another task's file under a visible one
        ("GET", f"/tasks/{mine}/files/999999"),
    ):
        response = api_server.call(method, path, token=jan, data=b"x")
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    read_only = api_server.token("jkowalski", ("read",))
    scoped = api_server.call("POST", f"/tasks/{mine}/files?filename=a", token=read_only, data=b"x")
    assert scoped.status_code == 403
    viewer = _task(api_server, "jkowalski", see=True, edit=False)
    refused = api_server.call("POST", f"/tasks/{viewer}/files?filename=a", token=jan, data=b"x")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")


def test_only_plain_media_types_are_kept() -> None:
    assert media_type("Application/PDF") == "application/pdf"
    for odd in ("text/plain; charset=utf-8", "tekst/zażółć", "text/html\r\nX-Evil: 1", "pdf"):
        assert media_type(odd) == "application/octet-stream", odd


def test_names_and_parts_are_required(api_server: ApiServer) -> None:
    jan = api_server.token("jkowalski")
    task_id = _task(api_server, "jkowalski", see=True, edit=True)
    nameless = api_server.call("POST", f"/tasks/{task_id}/files", token=jan, data=b"x")
    assert (nameless.status_code, nameless.json()["error"]["field"]) == (422, "filename")
    no_part = api_server.call(
        "POST", f"/tasks/{task_id}/files", token=jan, files={"other": ("a.txt", b"x")}
    )
    assert (no_part.status_code, no_part.json()["error"]["field"]) == (422, "file")
    nul = api_server.call(
        "POST", f"/tasks/{task_id}/files", token=jan, params={"filename": "a\x00b"}, data=b"x"
    )
    assert (nul.status_code, nul.json()["error"]["field"]) == (422, "filename")


@pytest.fixture(scope="module")
def small(api_server: ApiServer) -> Iterator[str]:
    """The same database behind a server with small limits: files 1 KiB, other bodies 4 KiB."""
    settings = api_server.settings
    settings = dataclasses.replace(
        settings,
        files=dataclasses.replace(settings.files, max_file_bytes=1024),
        caldav=dataclasses.replace(settings.caldav, max_body_bytes=4096),
    )
    with serving(settings) as base:
        yield base


def test_bodies_over_the_limit(api_server: ApiServer, small: str) -> None:
    auth = {"Authorization": f"Bearer {api_server.token('jkowalski')}"}
    task_id = _task(api_server, "jkowalski", see=True, edit=True)
    files = f"{small}/api/v1/tasks/{task_id}/files?filename=big.bin"

    def post(url: str, data: object, **headers: str) -> requests.Response:
        return requests.post(url, data=data, headers=auth | headers, timeout=30)

    over_form = post(files, b"x" * 70_000)
    assert over_form.status_code == 413
    assert over_form.json()["error"]["code"] == "too_large"
    over_file = post(files, b"x" * 2000)  # within the body limit, over the file limit
    assert (over_file.status_code, over_file.json()["error"]["field"]) == (422, "file")
    assert post(files, b"x" * 1000).status_code == 201

    notes = f"{small}/api/v1/tasks/{task_id}/notes"
    as_json = {"Content-Type": "application/json"}
    big_json = post(notes, b'{"body": "' + b"x" * 5000 + b'"}', **as_json)
    assert (big_json.status_code, big_json.json()["error"]["code"]) == (413, "too_large")
    chunked = post(notes, iter([b'{"body": "', b"x" * 5000, b'"}']), **as_json)
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (413, "too_large")
    calendar = requests.put(
        f"{small}/jkowalski/tasks/x.ics", data=b"x" * 5000, headers=auth, timeout=30
    )
    assert calendar.status_code == 413  # the front still guards CalDAV (plain text, as before)
