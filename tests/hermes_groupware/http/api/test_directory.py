"""``/employees``, ``/registers``, the OpenAPI document, and JSON answers for unknown routes."""

from __future__ import annotations

import pytest

from hermes_groupware.http.api.app import build_api
from hermes_groupware.http.api.registry import PREFIX
from tests.hermes_groupware.http.api.conftest import ApiServer


@pytest.fixture(scope="module")
def jan(api_server: ApiServer) -> str:
    """Sales rep without access to the service register (SER)."""
    return api_server.token("jkowalski", ("read",))


def test_employees(api_server: ApiServer, jan: str) -> None:
    listed = api_server.call("GET", "/employees", token=jan).json()
    logins = [e["login"] for e in listed["items"]]
    assert logins == sorted(logins) and "mzielinska" in logins
    assert listed["next"] is None
    one = api_server.call("GET", "/employees/mzielinska", token=jan).json()
    assert one["name"] == "Małgorzata Zielińska"
    assert one["groups"] == ["reklamacje"]
    missing = api_server.call("GET", "/employees/nobody", token=jan)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_registers_one_may_not_read_are_hidden(api_server: ApiServer, jan: str) -> None:
    codes = [r["code"] for r in api_server.call("GET", "/registers", token=jan).json()["items"]]
    assert "REK" in codes and "SER" not in codes
    assert api_server.call("GET", "/registers/rek", token=jan).json()["colour"] == "#C62828"
    assert api_server.call("GET", "/registers/SER", token=jan).status_code == 404
    kwojcik = api_server.token("kwojcik", ("read",))
    assert api_server.call("GET", "/registers/SER", token=kwojcik).status_code == 200


def test_openapi_document_is_public_and_complete(api_server: ApiServer) -> None:
    response = api_server.call("GET", "/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert {"basicAuth", "bearerAuth"} == set(document["components"]["securitySchemes"])
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
    }
    expected = {f"{op.method} {PREFIX}{op.path}" for op in build_api().operations}
    assert expected | {f"GET {PREFIX}/openapi.json"} == operations
    task_list = document["paths"][f"{PREFIX}/tasks"]["get"]
    names = {p["name"] for p in task_list["parameters"]}
    assert {"register", "status", "responsible", "due_before", "due_after", "q"} <= names
    assert {"limit", "cursor"} <= names
    assert "ErrorBody" in document["components"]["schemas"]


def test_unknown_route_and_method_answer_json(api_server: ApiServer, jan: str) -> None:
    missing = api_server.call("GET", "/nothing-here", token=jan)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = api_server.call("PUT", "/tasks", token=jan)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
