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
