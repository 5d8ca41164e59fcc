"""Property-based run of every operation in ``/api/v1/openapi.json`` against the real server:
no input schemathesis generates may cause a 5xx, and every response matches the document.

The operations are listed from the code's registry (for one pytest id each); the schema each
test fuzzes is the one the running server serves. schemathesis's own pytest plugin does not
run on pytest 9 (it reads ``Function._nodeid``), so each test drives Hypothesis itself; and
its requests transport trips over urllib3's pool internals, so the test sends the request.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error, response_schema_conformance

from hermes_groupware.http.api.app import build_api
from hermes_groupware.http.api.registry import PREFIX
from tests.hermes_groupware.http.api.conftest import ApiServer

OPERATIONS = [f"{op.method} {PREFIX}{op.path}" for op in build_api().operations]


@pytest.fixture(scope="module")
def admin_token(api_server: ApiServer) -> tuple[str, int]:
    """A token with every scope (admin), and its id (so the run never revokes it)."""
    token = api_server.token("admin", ("read", "write", "admin"), days=1)
    return token, api_server.call("GET", "/tokens", token=token).json()["items"][0]["id"]


@pytest.fixture(scope="module")
def api_schema(api_server: ApiServer) -> schemathesis.BaseSchema:
    """The document as the server serves it (not as the code builds it)."""
    return schemathesis.openapi.from_url(api_server.url("/openapi.json"))


def test_document_lists_every_operation(api_schema: schemathesis.BaseSchema) -> None:
    """The served document and the registry agree."""
    served = {op.ok().label for op in api_schema.get_all_operations()}
    assert set(OPERATIONS) <= served


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_error_and_schema_conformance(
    label: str,
    api_server: ApiServer,
    api_schema: schemathesis.BaseSchema,
    admin_token: tuple[str, int],
) -> None:
    """25 generated requests per operation with a valid token; none is a 5xx or off-schema."""
    token, token_id = admin_token
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None

    @given(data=st.data())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(data: st.DataObject) -> None:
        case: Case = data.draw(operation.as_strategy())
        if case.path_parameters and case.path_parameters.get("token_id") == token_id:
            case.path_parameters["token_id"] = token_id + 1_000_000  # keep our own token
        request = case.as_transport_kwargs(
            base_url=api_server.base, headers={"Authorization": f"Bearer {token}"}
        )
        response = api_server.http.request(**request, timeout=30)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()
