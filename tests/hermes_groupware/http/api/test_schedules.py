"""``/schedules``: owners and admins see schedules and runs; run-now queues a manual run."""

from __future__ import annotations

from hermes_groupware.db.session import Actor
from hermes_groupware.services.report_schedule_admin import ScheduleSpec, create_schedule
from tests.hermes_groupware.http.api.conftest import ApiServer


def test_schedules_runs_and_run_now(api_server: ApiServer) -> None:
    jan_actor: Actor = api_server.actor("jkowalski")
    with api_server.uow(jan_actor) as uow:
        mine = create_schedule(
            uow,
            ScheduleSpec(
                name="Moje zaległe", reports=["overdue"], cron="0 8 * * MON",
                recipients=["jkowalski"],
            ),
        )  # fmt: skip
    with api_server.uow() as uow:
        theirs = create_schedule(
            uow,
            ScheduleSpec(
                name="Raport dyrektora", reports=["pipeline"], cron="0 8 * * MON",
                recipients=["admin"], owner="admin",
            ),
        )  # fmt: skip
    jan = api_server.token("jkowalski")
    listed = api_server.call("GET", "/schedules", token=jan).json()["items"]
    assert [s["name"] for s in listed] == ["Moje zaległe"]
    one = api_server.call("GET", f"/schedules/{mine.id}", token=jan).json()
    assert (one["reports"], one["cron"], one["recipients"]) == (
        ["overdue"], "0 8 * * MON", ["jkowalski"]
    )  # fmt: skip
    assert one["next_fire_at"] is not None
    assert api_server.call("GET", f"/schedules/{theirs.id}", token=jan).status_code == 404
    refused = api_server.call("POST", f"/schedules/{theirs.id}/run-now", token=jan)
    assert refused.status_code == 404

    queued = api_server.call("POST", f"/schedules/{mine.id}/run-now", token=jan)
    assert queued.status_code == 202
    run = queued.json()
    assert (run["schedule_id"], run["status"]) == (mine.id, "queued")
    assert run["occurrence_local"].startswith("manual:")
    runs = api_server.call("GET", f"/schedules/{mine.id}/runs?limit=5", token=jan).json()
    assert [r["id"] for r in runs["items"]] == [run["id"]]

    read_only = api_server.token("jkowalski", ("read",))
    denied = api_server.call("POST", f"/schedules/{mine.id}/run-now", token=read_only)
    assert denied.status_code == 403
    admin = api_server.token("admin", ("read", "write", "admin"))
    names = {s["name"] for s in api_server.call("GET", "/schedules", token=admin).json()["items"]}
    assert {"Moje zaległe", "Raport dyrektora"} <= names


def test_create_update_delete_a_schedule(api_server: ApiServer) -> None:
    anna = api_server.token("anowak")
    body = {
        "name": "Poniedziałek <b>REK</b>", "reports": ["overdue", "pipeline"],
        "params": {"pipeline": {"months": 3}}, "cron": "0 8 * * MON",
        "recipients": ["anowak"], "formats": ["html", "csv"], "grace_minutes": 30,
    }  # fmt: skip
    created = api_server.call("POST", "/schedules", token=anna, json=body)
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert (schedule["owner"], schedule["params"]["pipeline"]) == ("anowak", {"months": 3})
    assert (schedule["formats"], schedule["grace_minutes"]) == (["html", "csv"], 30)
    assert schedule["next_fire_at"] is not None
    path = f"/schedules/{schedule['id']}"

    other = api_server.token("ebrown")
    assert api_server.call("PATCH", path, token=other, json={"enabled": False}).status_code == 404
    assert api_server.call("DELETE", path, token=other).status_code == 404

    pause = {"enabled": False, "grace_minutes": None, "reports": ["pipeline"]}
    paused = api_server.call("PATCH", path, token=anna, json=pause)
    assert paused.status_code == 200, paused.text
    changed = paused.json()
    assert (changed["enabled"], changed["next_fire_at"], changed["grace_minutes"]) == (
        False, None, None
    )  # fmt: skip
    assert (changed["reports"], changed["params"]) == (["pipeline"], {"pipeline": {"months": 3}})
    assert changed["version"] == schedule["version"] + 1
    assert api_server.call("DELETE", path, token=anna).status_code == 204
    assert api_server.call("GET", path, token=anna).status_code == 404


def test_schedule_validation_names_the_field(api_server: ApiServer) -> None:
    anna = api_server.token("anowak")
    good = {"name": "x", "reports": ["overdue"], "cron": "0 8 * * MON", "recipients": ["anowak"]}
    cases = [
        ({"cron": "every monday"}, "cron"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"recipients": ["nikt-taki"]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"reports": ["gossip"]}, "reports.0"),
        ({"params": {"turnover": {}}}, "params.turnover"),
        ({"grace_minutes": -1}, "grace_minutes"),
        ({"formats": ["docx"]}, "formats.0"),
        ({"name": " "}, "name"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        response = api_server.call("POST", "/schedules", token=anna, json=good | change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field, (change, response.text)
    boss = good | {"recipients": ["admin"]}
    to_boss = api_server.call("POST", "/schedules", token=anna, json=boss)
    assert (to_boss.status_code, to_boss.json()["error"]["code"]) == (403, "permission_denied")
    read_only = api_server.token("anowak", ("read",))
    assert api_server.call("POST", "/schedules", token=read_only, json=good).status_code == 403
    created = api_server.call("POST", "/schedules", token=anna, json=good).json()
    null = api_server.call("PATCH", f"/schedules/{created['id']}", token=anna, json={"cron": None})
    assert (null.status_code, null.json()["error"]["field"]) == (422, "cron")
