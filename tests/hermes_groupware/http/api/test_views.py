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


def test_create_update_delete_a_view(api_server: ApiServer) -> None:
    anna = api_server.token("anowak")
    name = "Moje <script>alert(1)</script> / REK"
    created = api_server.call(
        "POST", "/views", token=anna,
        json={"name": name, "definition": {"registers": ["rek"], "overdue": True},
              "audience": "groups", "groups": ["sprzedaz"], "sort": ["-due"]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    view = created.json()
    assert (view["owner"], view["groups"], view["version"]) == ("anowak", ["sprzedaz"], 1)
    assert view["definition"] == {"overdue": True, "registers": ["REK"]}
    path = "/views/" + quote(name, safe="")

    ebrown = api_server.token("ebrown")  # same group: may use it, may not change it
    assert api_server.call("GET", path, token=ebrown).status_code == 200
    refused = api_server.call("PATCH", path, token=ebrown, json={"description": "x"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert api_server.call("DELETE", path, token=ebrown).status_code == 403
    outsider = api_server.token("pwisniewski")
    assert api_server.call("PATCH", path, token=outsider, json={"sort": []}).status_code == 404

    changed = api_server.call(
        "PATCH", path, token=anna, json={"name": "Moje REK", "audience": "private"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["groups"], changed.json()["version"]) == ([], 2)
    assert api_server.call("GET", path, token=anna).status_code == 404
    assert api_server.call("DELETE", "/views/Moje%20REK", token=anna).status_code == 204
    assert api_server.call("GET", "/views/Moje%20REK", token=anna).status_code == 404


def test_view_validation_names_the_field(api_server: ApiServer) -> None:
    anna = api_server.token("anowak")
    cases = [
        ({"name": "v", "definition": {"colour": "red"}}, "colour"),
        ({"name": "v", "definition": {"registers": ["NIEMA"]}}, "registers"),
        ({"name": "v", "definition": {"customer_id": 2**40}}, "customer_id"),
        ({"name": "v", "definition": {}, "groups": ["sprzedaz"]}, "groups"),
        ({"name": "v", "definition": {}, "sort": ["colour"]}, "sort"),
        ({"name": "v", "definition": {}, "owner": "jkowalski"}, None),
        ({"name": "", "definition": {}}, "name"),
        ({"name": "v", "definition": {"text": "a\x00b"}}, "definition"),
        ({"name": "v"}, "definition"),
    ]
    for body, field in cases:
        response = api_server.call("POST", "/views", token=anna, json=body)
        if field is None:  # another owner: administrators only
            assert response.status_code == 403, body
            continue
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, body
    read_only = api_server.token("anowak", ("read",))
    empty = {"name": "v", "definition": {}}
    scoped = api_server.call("POST", "/views", token=read_only, json=empty)
    assert scoped.status_code == 403
    admin = api_server.token("admin", ("read", "write", "admin"))
    jans = {"name": "Dla Jana", "definition": {}, "owner": "jkowalski"}
    for_jan = api_server.call("POST", "/views", token=admin, json=jans)
    assert for_jan.status_code == 201, for_jan.text
    assert for_jan.json()["owner"] == "jkowalski"
    null = api_server.call("PATCH", "/views/Dla%20Jana", token=admin, json={"definition": None})
    assert (null.status_code, null.json()["error"]["field"]) == (422, "definition")
