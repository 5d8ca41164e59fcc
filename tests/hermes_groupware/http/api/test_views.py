"""``/views``: saved views one may use (own, shared with everyone or one's groups)."""

from __future__ import annotations

from urllib.parse import quote

from hermes_groupware.models.enums import ViewAudience
from hermes_groupware.services import saved_views
from tests.hermes_groupware.http.api.conftest import ApiServer


def test_views_one_may_use(api_server: ApiServer) -> None:
    with api_server.uow() as uow:
        saved_views.create_view(
            uow, name="Zaległe reklamacje / <b>pilne</b>", owner="admin",
            definition={"registers": ["REK"], "overdue": True},
            audience=ViewAudience.EVERYONE,
        )  # fmt: skip
        saved_views.create_view(
            uow, name="Prywatny widok Oli", owner="mzielinska", definition={"registers": ["REK"]}
        )
    jan = api_server.token("jkowalski", ("read",))
    listed = api_server.call("GET", "/views", token=jan).json()["items"]
    names = {v["name"] for v in listed}
    assert "Zaległe reklamacje / <b>pilne</b>" in names
    assert "Prywatny widok Oli" not in names
    shared = api_server.call(
        "GET", "/views/" + quote("Zaległe reklamacje / <b>pilne</b>"), token=jan
    ).json()
    assert shared["definition"]["registers"] == ["REK"]
    assert (shared["owner"], shared["audience"]) == ("admin", "everyone")
    private = api_server.call("GET", "/views/" + quote("Prywatny widok Oli"), token=jan)
    assert private.status_code == 404
    assert private.json()["error"]["code"] == "not_found"
    owner = api_server.token("mzielinska", ("read",))
    mine = api_server.call("GET", "/views/" + quote("Prywatny widok Oli"), token=owner)
    assert mine.status_code == 200
