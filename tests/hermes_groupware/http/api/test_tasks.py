"""``/tasks``: list, filters and keyset paging, read, create, update, notes; the permission
rules of the services (hidden sub-task parent, registers one may not see or edit)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hermes_groupware.models.enums import DelegationMode
from hermes_groupware.services import delegation
from hermes_groupware.services import tasks as task_service
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from tests.hermes_groupware.http.api.conftest import ApiServer


@pytest.fixture(scope="module")
def admin(api_server: ApiServer) -> str:
    """A token with every scope."""
    return api_server.token("admin", ("read", "write", "admin"))


@pytest.fixture(scope="module")
def jan(api_server: ApiServer) -> str:
    """Sales rep: edits HAN and WEW, reads REK, may not see SER."""
    return api_server.token("jkowalski")


def _error(response: requests.Response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert error["message"]


def _all_pages(api_server: ApiServer, token: str, query: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/tasks?limit=7{query}" + (f"&cursor={cursor}" if cursor else "")
        page = api_server.call("GET", url, token=token).json()
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


def _create(api_server: ApiServer, token: str, **body: Any) -> requests.Response:
    return api_server.call("POST", "/tasks", token=token, json=body)


def test_list_pages_through_every_visible_task_once(api_server: ApiServer, admin: str) -> None:
    items = _all_pages(api_server, admin)
    ids = [t["id"] for t in items]
    assert len(ids) == len(set(ids)) >= 40
    assert ids == sorted(ids)
    first = api_server.call("GET", "/tasks", token=admin).json()
    assert len(first["items"]) == min(50, len(ids))


def test_paging_neither_skips_nor_repeats_under_concurrent_writes(
    api_server: ApiServer, admin: str
) -> None:
    before = {t["id"] for t in _all_pages(api_server, admin)}
    page = api_server.call("GET", "/tasks?limit=10", token=admin).json()
    seen = [t["id"] for t in page["items"]]
    created = [
        _create(api_server, admin, register="WEW", subject=f"Nowe w trakcie {n}").json()["task"]
        for n in range(3)
    ]
    # a change to a task already seen and to one not yet seen must not move them between pages
    for task_id in (seen[0], sorted(before)[-1]):
        response = api_server.call(
            "PATCH", f"/tasks/{task_id}", token=admin, json={"priority": "low"}
        )
        assert response.status_code == 200
    cursor = page["next"]
    while cursor:
        page = api_server.call("GET", f"/tasks?limit=10&cursor={cursor}", token=admin).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next"]
    assert len(seen) == len(set(seen))
    assert set(seen) == before | {t["id"] for t in created}


def test_filters(api_server: ApiServer, admin: str) -> None:
    rek = _all_pages(api_server, admin, "&register=rek")
    assert rek and {t["register"] for t in rek} == {"REK"}
    done = _all_pages(api_server, admin, "&status=done")
    assert {t["status"] for t in done} <= {"done"}
    mine = _all_pages(api_server, admin, "&responsible=mzielinska")
    assert mine and {t["responsible"] for t in mine} == {"mzielinska"}
    due = [t for t in _all_pages(api_server, admin) if t["due"]]
    middle = sorted(t["due"] for t in due)[len(due) // 2]
    before = _all_pages(api_server, admin, f"&due_before={middle}")
    after = _all_pages(api_server, admin, f"&due_after={middle}")
    assert before and after
    assert all(t["due"] < middle for t in before)
    assert all(t["due"] >= middle for t in after)
    assert len(before) + len(after) == len(due)
    subject = rek[0]["subject"]
    found = _all_pages(api_server, admin, f"&q={requests.utils.quote(subject[3:15])}")
    assert rek[0]["id"] in {t["id"] for t in found}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("register=NOPE", "register"),
        ("responsible=nobody", "responsible"),
        ("status=finished", "status"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WyJpZCIsLTFd", "cursor"),
        ("due_before=2026-12-01T10:00:00", "due_before"),
        ("customer=99999999999", "customer"),
        ("q=%00", "q"),
    ],
)
def test_bad_list_queries_are_422_naming_the_parameter(
    api_server: ApiServer, admin: str, query: str, field: str
) -> None:
    _error(api_server.call("GET", f"/tasks?{query}", token=admin), 422, "invalid_input", field)


def test_read_by_number_and_by_id(api_server: ApiServer, jan: str) -> None:
    task = _all_pages(api_server, jan, "&register=REK")[0]
    by_number = api_server.call("GET", f"/tasks/{task['number']}", token=jan).json()
    by_id = api_server.call("GET", f"/tasks/{task['id']}", token=jan).json()
    assert by_number == by_id
    assert by_id["task"]["number"] == task["number"]
    assert {"notes", "files", "history", "subtasks", "description"} <= by_id.keys()


@pytest.mark.parametrize("ref", ["REK/2099/9999", "999999", "2147483648", "a%00b", "x" * 50])
def test_unknown_task_is_404(api_server: ApiServer, jan: str, ref: str) -> None:
    _error(api_server.call("GET", f"/tasks/{ref}", token=jan), 404, "not_found")


def test_task_in_a_register_one_may_not_see_is_404_everywhere(
    api_server: ApiServer, admin: str, jan: str
) -> None:
    ser = _all_pages(api_server, admin, "&register=SER&responsible=kwojcik")
    hidden = next(t for t in ser if t["parent"] is None)
    assert hidden["id"] not in {t["id"] for t in _all_pages(api_server, jan)}
    _error(api_server.call("GET", f"/tasks/{hidden['number']}", token=jan), 404, "not_found")
    _error(api_server.call("GET", f"/tasks/{hidden['id']}", token=jan), 404, "not_found")
    patch = api_server.call("PATCH", f"/tasks/{hidden['id']}", token=jan, json={"status": "done"})
    _error(patch, 404, "not_found")
    note = api_server.call("POST", f"/tasks/{hidden['id']}/notes", token=jan, json={"body": "x"})
    _error(note, 404, "not_found")
    _error(_create(api_server, jan, register="SER", subject="Nie mój"), 403, "permission_denied")


def test_readable_but_not_editable_is_403(api_server: ApiServer, jan: str) -> None:
    rek = next(
        t for t in _all_pages(api_server, jan, "&register=REK") if t["responsible"] != "jkowalski"
    )
    response = api_server.call("PATCH", f"/tasks/{rek['id']}", token=jan, json={"status": "done"})
    _error(response, 403, "permission_denied")


def test_create_update_and_note(api_server: ApiServer, jan: str) -> None:
    created = _create(
        api_server,
        jan,
        register="han",
        subject="Oferta na licencje",
        due="2026-12-15T14:00:00+01:00",
        priority="high",
        description="Klient prosi o rabat.",
    )
    assert created.status_code == 201, created.text
    task = created.json()["task"]
    assert task["number"].startswith("HAN/")
    assert task["due"] == "2026-12-15T13:00:00Z"
    assert (task["priority"], task["responsible"], task["version"]) == ("high", "jkowalski", 1)

    changed = api_server.call(
        "PATCH",
        f"/tasks/{task['id']}",
        token=jan,
        json={"status": "done", "due": None, "expected_version": 1},
    ).json()
    assert changed["task"]["status"] == "done"
    assert changed["task"]["completed_at"] is not None
    assert changed["task"]["due"] is None
    assert changed["task"]["version"] == 2
    assert any(h["field"] == "status" and h["source"] == "api" for h in changed["history"])

    note = api_server.call(
        "POST", f"/tasks/{task['id']}/notes", token=jan, json={"body": "Rozmowa z klientem."}
    )
    assert note.status_code == 201
    assert (note.json()["author"], note.json()["source"]) == ("jkowalski", "api")
    detail = api_server.call("GET", f"/tasks/{task['id']}", token=jan).json()
    assert [n["body"] for n in detail["notes"]] == ["Rozmowa z klientem."]


def test_stale_version_is_409(api_server: ApiServer, jan: str) -> None:
    task = _create(api_server, jan, register="WEW", subject="Wersja").json()["task"]
    path = f"/tasks/{task['id']}"
    assert api_server.call("PATCH", path, token=jan, json={"priority": "low"}).status_code == 200
    stale = api_server.call(
        "PATCH", path, token=jan, json={"priority": "high", "expected_version": 1}
    )
    _error(stale, 409, "conflict")
    assert api_server.call("GET", path, token=jan).json()["task"]["priority"] == "low"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"register": "WEW"}, "subject"),
        ({"register": "WEW", "subject": ""}, "subject"),
        ({"register": "WEW", "subject": "   "}, "subject"),
        ({"register": "WEW", "subject": "x" * 501}, "subject"),
        ({"register": "WEW", "subject": "a\x00b"}, "subject"),
        ({"register": "WEW", "subject": "ok", "colour": "red"}, "colour"),
        ({"register": "NOPE", "subject": "ok"}, "register"),
        ({"register": "WEW", "subject": "ok", "responsible": "nobody"}, "responsible"),
        ({"register": "WEW", "subject": "ok", "due": "2026-12-01T10:00:00"}, "due"),
        ({"register": "WEW", "subject": "ok", "due": "0001-01-01T00:00:00+05:00"}, "due"),
        (
            {
                "register": "WEW",
                "subject": "ok",
                "planned_start": "2026-12-02T10:00:00Z",
                "due": "2026-12-01T10:00:00Z",
            },
            "due",
        ),
        (
            {"register": "WEW", "subject": "ok", "all_day": True, "due": "2026-12-01T10:00:00Z"},
            "due",
        ),
        ({"register": "WEW", "subject": "ok", "customer_id": 2**40}, "customer_id"),
        ({"register": "WEW", "subject": "ok", "customer_id": 999999}, "customer"),
        ({"register": "WEW", "subject": "ok", "parent_id": 999999}, None),
        ({"register": "WEW", "subject": "ok", "status": "finished"}, "status"),
    ],
)
def test_bad_task_input_is_a_clear_4xx(
    api_server: ApiServer, jan: str, body: dict[str, Any], field: str | None
) -> None:
    response = _create(api_server, jan, **body)
    if field is None:
        _error(response, 404, "not_found")
    else:
        _error(response, 422, "invalid_input", field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": None}, "subject"),
        ({"status": None}, "status"),
        ({"register": None}, "register"),
        ({"responsible": "nobody"}, "responsible"),
        ({"expected_version": 0}, "expected_version"),
        ({"number": "HAN/1"}, "number"),
    ],
)
def test_bad_update_is_422_naming_the_field(
    api_server: ApiServer, jan: str, body: dict[str, Any], field: str
) -> None:
    task = _create(api_server, jan, register="WEW", subject="Do zmiany").json()["task"]
    response = api_server.call("PATCH", f"/tasks/{task['id']}", token=jan, json=body)
    _error(response, 422, "invalid_input", field)


def test_body_must_be_json(api_server: ApiServer, jan: str) -> None:
    not_json = api_server.call("POST", "/tasks", token=jan, data="subject=x")
    _error(not_json, 415, "unsupported_media_type")
    broken = api_server.call(
        "POST", "/tasks", token=jan, data="{", headers={"Content-Type": "application/json"}
    )
    _error(broken, 400, "invalid_json")
    _error(api_server.call("POST", "/tasks", token=jan, json=[1, 2]), 422, "invalid_input")


def test_empty_note_is_422(api_server: ApiServer, jan: str) -> None:
    task = _create(api_server, jan, register="WEW", subject="Notatka").json()["task"]
    response = api_server.call("POST", f"/tasks/{task['id']}/notes", token=jan, json={"body": " "})
    _error(response, 422, "invalid_input", "body")


def test_hostile_values_come_back_as_plain_json_strings(api_server: ApiServer, jan: str) -> None:
    subject = '<script>alert("x")</script><img src=x onerror=alert(1)> "]}{'
    task = _create(api_server, jan, register="WEW", subject=subject).json()["task"]
    response = api_server.call("GET", f"/tasks/{task['id']}", token=jan)
    assert response.json()["task"]["subject"] == subject
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_delegate_of_a_hidden_subtask_never_learns_the_parent(
    api_server: ApiServer, admin: str
) -> None:
    with api_server.uow() as uow:
        han = register_by_code(uow.session, "HAN").id
        owner = employee_by_login(uow.session, "anowak").id
        parent = task_service.create_task(
            uow, register_id=han, subject="Tajny kontrakt", responsible_id=owner,
            changes=task_service.TaskChanges(visibility="private"),  # type: ignore[arg-type]
        )  # fmt: skip
        sub = task_service.add_subtask(uow, parent.id, subject="Montaż u klienta")
        delegation.delegate(uow, sub.id, "kwojcik", DelegationMode.HIDE_PARENT)
        parent_number, parent_id, sub_id = parent.number, parent.id, sub.id
    kwojcik = api_server.token("kwojcik")
    detail = api_server.call("GET", f"/tasks/{sub_id}", token=kwojcik)
    assert detail.status_code == 200
    assert detail.json()["task"]["parent"] is None
    assert parent_number not in detail.text
    assert "Tajny" not in detail.text
    listed = next(t for t in _all_pages(api_server, kwojcik) if t["id"] == sub_id)
    assert listed["parent"] is None
    _error(api_server.call("GET", f"/tasks/{parent_id}", token=kwojcik), 404, "not_found")
    _error(api_server.call("GET", f"/tasks/{parent_number}", token=kwojcik), 404, "not_found")
    seen_by_admin = api_server.call("GET", f"/tasks/{sub_id}", token=admin).json()
    assert seen_by_admin["task"]["parent"] == parent_number
