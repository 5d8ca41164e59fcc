"""Runs of report schedules: firing on time across DST, catching up, claiming and finishing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import select, update

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Employee, ReportRun, ReportSchedule
from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind, ReportRunStatus
from hermes_groupware.services import directory, registers
from hermes_groupware.services.registers import RegisterChanges
from hermes_groupware.services.report_schedule_admin import (
    ScheduleSpec,
    create_schedule,
    update_schedule,
)
from hermes_groupware.services.report_schedules import (
    Recipient,
    claim_runs,
    fail_run,
    finish_run,
    is_subscribed,
    materialise_due,
    run_now,
    unsubscribe,
)
from tests.factories import Factory

QUEUED, MISSED = ReportRunStatus.QUEUED, ReportRunStatus.MISSED
GRACE = 720


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)) as frozen:
        assert isinstance(frozen, FrozenDateTimeFactory)
        yield frozen


def _schedule(uow: UnitOfWork, cron: str = "0 8 * * MON", **fields: object) -> int:
    defaults: dict[str, object] = {
        "name": f"Raport {cron}",
        "reports": [ReportKind.OVERDUE],
        "cron": cron,
        "recipients": ["director"],
    }
    return create_schedule(uow, ScheduleSpec(**(defaults | fields))).id  # type: ignore[arg-type]


def _tick(uow: UnitOfWork, clock: FrozenDateTimeFactory, at: dt.datetime) -> int:
    clock.move_to(at)
    return materialise_due(uow, default_grace_minutes=GRACE)


def _runs(uow: UnitOfWork, schedule_id: int) -> list[tuple[str, str, ReportRunStatus, bool]]:
    """(local label, UTC time, status, late) of every run, oldest first."""
    rows = uow.session.scalars(
        select(ReportRun).where(ReportRun.schedule_id == schedule_id).order_by(ReportRun.id)
    )
    return [(r.occurrence_local, f"{r.occurrence_at:%H:%M}", r.status, r.late) for r in rows]


def _walk(
    uow: UnitOfWork, clock: FrozenDateTimeFactory, start: dt.datetime, hours: int, step: int = 5
) -> None:
    """An instance ticking every ``step`` minutes for ``hours``."""
    for minute in range(0, hours * 60, step):
        _tick(uow, clock, start + dt.timedelta(minutes=minute))


@pytest.mark.parametrize(
    ("start", "expected"),
    [  # Monday 08:00 in Warsaw on both sides of 29 March and of 25 October 2026
        (
            dt.datetime(2026, 3, 22, 12, tzinfo=dt.UTC),
            [("2026-03-23T08:00", "07:00"), ("2026-03-30T08:00", "06:00")],
        ),
        (
            dt.datetime(2026, 10, 18, 12, tzinfo=dt.UTC),
            [("2026-10-19T08:00", "06:00"), ("2026-10-26T08:00", "07:00")],
        ),
    ],
)
def test_monday_eight_fires_at_eight_local_across_dst(
    uow: UnitOfWork,
    make: Factory,
    clock: FrozenDateTimeFactory,
    start: dt.datetime,
    expected: list[tuple[str, str]],
) -> None:
    make.employee("director")
    clock.move_to(start)
    schedule_id = _schedule(uow)
    _walk(uow, clock, start, hours=8 * 24, step=15)
    assert _runs(uow, schedule_id) == [(local, utc, QUEUED, False) for local, utc in expected]


def test_half_past_two_daily_fires_once_in_autumn_and_is_not_lost_in_spring(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    autumn = dt.datetime(2026, 10, 24, 12, tzinfo=dt.UTC)
    clock.move_to(autumn)
    schedule_id = _schedule(uow, "30 2 * * *")
    _walk(uow, clock, autumn, hours=48)
    assert _runs(uow, schedule_id) == [
        ("2026-10-25T02:30", "00:30", QUEUED, False),  # once, in summer time
        ("2026-10-26T02:30", "01:30", QUEUED, False),
    ]
    spring = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)
    clock.move_to(spring)
    update_schedule(uow, schedule_id, ScheduleSpec(enabled=True))  # re-plan from March
    _walk(uow, clock, spring, hours=48)
    assert _runs(uow, schedule_id)[2:] == [
        ("2026-03-29T03:00", "01:00", QUEUED, False),  # 02:30 does not exist: 03:00
        ("2026-03-30T02:30", "00:30", QUEUED, False),
    ]


def test_a_run_missed_while_down_is_sent_once_late_within_grace(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    schedule_id = _schedule(uow)
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 6, 55, tzinfo=dt.UTC)) == 0  # 07:55
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)) == 1  # 10:30
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 9, 31, tzinfo=dt.UTC)) == 0
    assert _runs(uow, schedule_id) == [("2026-11-30T08:00", "07:00", QUEUED, True)]


def test_a_run_missed_beyond_grace_is_recorded_and_not_sent(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    schedule_id = _schedule(uow, grace_minutes=60)
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)) == 1
    assert _runs(uow, schedule_id) == [("2026-11-30T08:00", "07:00", MISSED, False)]
    assert claim_runs(uow, instance="a", lease_seconds=600) == []


def test_several_missed_daily_runs_send_only_the_newest(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    clock.move_to(dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    schedule_id = _schedule(uow, "0 8 * * *")
    assert _tick(uow, clock, dt.datetime(2026, 11, 23, 6, 55, tzinfo=dt.UTC)) == 0  # Mon 07:55
    assert _tick(uow, clock, dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)) == 3  # Wednesday
    assert _runs(uow, schedule_id) == [
        ("2026-11-23T08:00", "07:00", MISSED, False),
        ("2026-11-24T08:00", "07:00", MISSED, False),
        ("2026-11-25T08:00", "07:00", QUEUED, True),
    ]
    (job,) = claim_runs(uow, instance="a", lease_seconds=600)
    assert job.late and job.occurrence_local == "2026-11-25T08:00"


def test_an_edit_to_seven_fires_at_seven_on_the_next_tick(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    schedule_id = _schedule(uow)
    clock.move_to(dt.datetime(2026, 11, 30, 5, 59, 30, tzinfo=dt.UTC))  # 06:59:30
    update_schedule(uow, schedule_id, ScheduleSpec(cron="0 7 * * MON"))
    _walk(uow, clock, dt.datetime(2026, 11, 30, 5, 59, 50, tzinfo=dt.UTC), hours=3, step=1)
    assert _runs(uow, schedule_id) == [("2026-11-30T07:00", "06:00", QUEUED, False)]


def test_a_disabled_schedule_fires_nothing(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    schedule_id = _schedule(uow, enabled=False)
    other = _schedule(uow, "0 9 * * *")
    clock.move_to(dt.datetime(2026, 11, 30, 6, 59, 59, tzinfo=dt.UTC))
    update_schedule(uow, other, ScheduleSpec(enabled=False))  # at 07:59:59
    _walk(uow, clock, dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC), hours=48)
    assert _runs(uow, schedule_id) == [] and _runs(uow, other) == []


def test_a_schedule_broken_by_hand_stops_firing_and_says_why(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    clock.move_to(dt.datetime(2026, 11, 30, 5, tzinfo=dt.UTC))
    broken, fine = _schedule(uow), _schedule(uow, "0 8 * * *")
    uow.session.execute(  # what plain SQL from another program might write
        update(ReportSchedule).where(ReportSchedule.id == broken).values(cron="0 8 * * MONDAY")
    )
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 7, 0, 30, tzinfo=dt.UTC)) == 2
    (failed,) = uow.session.scalars(select(ReportRun).where(ReportRun.schedule_id == broken))
    assert failed.status is ReportRunStatus.FAILED
    assert "not scheduled any more: cron: bad value in the day-of-week field" in (
        failed.error or ""
    )
    assert uow.session.get_one(ReportSchedule, broken).next_fire_at is None
    assert _runs(uow, fine) == [("2026-11-30T08:00", "07:00", QUEUED, False)]
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 7, 1, tzinfo=dt.UTC)) == 0


def test_claimed_jobs_carry_the_resolved_recipients(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    director = make.employee("director", email="Director@Firma.pl", locale="en")
    make.employee("member", email="member@firma.pl", time_zone="Europe/London")
    make.employee("quiet", email=None)
    gone = make.employee("gone", email="gone@firma.pl")
    directory.add_group(uow, "sales", "Handlowcy")
    for login in ("member", "quiet", "gone", "director"):
        directory.add_member(uow, "sales", login)
    registers.update_register(uow, make.register().code, RegisterChanges(external_reports=True))
    schedule_id = _schedule(
        uow,
        recipients=["sales", "director", "klient@example.com", "left@example.com"],
        formats=[ReportFormat.XLSX],
        params={"overdue": {"register": "HAN"}},
        locale=Locale.EN,
        time_zone="Europe/Berlin",
    )
    uow.session.get_one(Employee, gone.id).is_active = False  # left the company
    assert unsubscribe(uow, schedule_id, "LEFT@example.com")
    run_id = run_now(uow, schedule_id)
    (job,) = claim_runs(uow, instance="a", lease_seconds=600)
    assert (job.run_id, job.schedule_id, job.reports, job.params) == (
        run_id,
        schedule_id,
        (ReportKind.OVERDUE,),
        {"overdue": {"register": "HAN"}},
    )
    assert job.formats == (ReportFormat.HTML, ReportFormat.XLSX)
    assert (job.owner_id, job.owner_address) == (director.id, "director@firma.pl")
    assert job.occurrence_local.startswith("manual:") and not job.late and job.attempt == 1
    assert job.recipients == (
        Recipient("director@firma.pl", director.id, Locale.EN, "Europe/Warsaw"),
        Recipient("klient@example.com", None, Locale.EN, "Europe/Berlin"),
        Recipient("member@firma.pl", job.recipients[2].employee_id, Locale.PL, "Europe/London"),
    )


def test_a_claimed_job_carries_every_report_in_order_with_its_parameters(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    """One run, one job: the delivery puts both reports into one mail per recipient."""
    make.employee("director", email="director@firma.pl")
    schedule_id = _schedule(
        uow,
        reports=[ReportKind.OVERDUE, ReportKind.PIPELINE],
        params={"pipeline": {"months": 3}},
    )
    _tick(uow, clock, dt.datetime(2026, 11, 30, 7, 0, 20, tzinfo=dt.UTC))  # Monday 08:00:20
    (job,) = claim_runs(uow, instance="a", lease_seconds=600)
    assert (job.schedule_id, job.occurrence_local) == (schedule_id, "2026-11-30T08:00")
    assert job.reports == (ReportKind.OVERDUE, ReportKind.PIPELINE)
    assert job.params == {"overdue": {}, "pipeline": {"months": 3}}
    assert [r.address for r in job.recipients] == ["director@firma.pl"]


def test_a_schedule_with_reports_broken_by_hand_fails_alone(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    """Without an enum column a bad kind can be written by hand; it must not stop the others."""
    make.employee("director")
    clock.move_to(dt.datetime(2026, 11, 30, 5, tzinfo=dt.UTC))
    broken, fine = _schedule(uow), _schedule(uow, "0 8 * * *")
    manual = run_now(uow, broken)
    uow.session.execute(
        update(ReportSchedule).where(ReportSchedule.id == broken).values(reports="overdue,sales")
    )
    assert _tick(uow, clock, dt.datetime(2026, 11, 30, 7, 0, 30, tzinfo=dt.UTC)) == 2
    failed = uow.session.scalars(
        select(ReportRun).where(ReportRun.schedule_id == broken).order_by(ReportRun.id)
    ).all()
    assert [r.status for r in failed] == [QUEUED, ReportRunStatus.FAILED]
    assert "not scheduled any more: reports: unknown report 'sales'" in (failed[1].error or "")
    jobs = claim_runs(uow, instance="a", lease_seconds=600)
    assert [j.schedule_id for j in jobs] == [fine]
    run = uow.session.get_one(ReportRun, manual)
    assert run.status is ReportRunStatus.FAILED and "unknown report 'sales'" in (run.error or "")


def test_a_disabled_schedule_cancels_its_queued_run_but_not_a_manual_one(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    schedule_id = _schedule(uow)
    _tick(uow, clock, dt.datetime(2026, 11, 30, 7, 0, 20, tzinfo=dt.UTC))
    manual = run_now(uow, schedule_id)
    update_schedule(uow, schedule_id, ScheduleSpec(enabled=False))
    assert [job.run_id for job in claim_runs(uow, instance="a", lease_seconds=600)] == [manual]
    scheduled = uow.session.scalars(select(ReportRun).where(ReportRun.id != manual)).one()
    assert scheduled.status is ReportRunStatus.CANCELLED and scheduled.finished_at is not None


def test_finishing_is_fenced_by_the_claim_and_a_dead_instance_is_taken_over(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    run_id = run_now(uow, _schedule(uow))
    assert [j.attempt for j in claim_runs(uow, instance="dead", lease_seconds=600)] == [1]
    assert claim_runs(uow, instance="b", lease_seconds=600) == []  # leased
    clock.tick(dt.timedelta(seconds=601))
    assert [j.attempt for j in claim_runs(uow, instance="b", lease_seconds=600)] == [2]
    assert not finish_run(uow, run_id, instance="dead", status=ReportRunStatus.SENT, recipients=1)
    assert not fail_run(uow, run_id, instance="dead", error="boom", max_attempts=3)
    assert finish_run(uow, run_id, instance="b", status=ReportRunStatus.SENT, recipients=2)
    assert not finish_run(uow, run_id, instance="b", status=ReportRunStatus.SENT, recipients=2)
    run = uow.session.get_one(ReportRun, run_id)
    assert (run.status, run.recipients, run.claimed_by, run.lease_until) == (
        ReportRunStatus.SENT,
        2,
        "b",
        None,
    )
    with pytest.raises(ValueError, match="sent or empty"):
        finish_run(uow, run_id, instance="b", status=ReportRunStatus.FAILED, recipients=0)


def test_a_failing_run_is_retried_until_max_attempts(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    run_id = run_now(uow, _schedule(uow))
    finals = []
    for attempt in (1, 2, 3):
        (job,) = claim_runs(uow, instance="a", lease_seconds=600)
        assert job.attempt == attempt
        finals.append(fail_run(uow, run_id, instance="a", error=f"boom {attempt}", max_attempts=3))
        clock.tick(dt.timedelta(minutes=attempt, seconds=-1))
        assert claim_runs(uow, instance="a", lease_seconds=600) == []  # waits before a retry
        clock.tick(dt.timedelta(seconds=1))
    assert finals == [False, False, True]
    assert claim_runs(uow, instance="a", lease_seconds=600) == []
    run = uow.session.get_one(ReportRun, run_id)
    assert (run.status, run.error) == (ReportRunStatus.FAILED, "boom 3")


def test_a_run_whose_renderers_keep_dying_is_given_up(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    run_id = run_now(uow, _schedule(uow))
    for _ in range(3):
        assert claim_runs(uow, instance="x", lease_seconds=60, max_attempts=3)
        clock.tick(dt.timedelta(seconds=61))
    assert claim_runs(uow, instance="x", lease_seconds=60, max_attempts=3) == []
    run = uow.session.get_one(ReportRun, run_id)
    assert run.status is ReportRunStatus.FAILED and "3 attempts" in (run.error or "")


def test_claim_takes_only_the_given_run_when_asked(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director")
    schedule_id = _schedule(uow)
    first, second = run_now(uow, schedule_id), run_now(uow, schedule_id)
    jobs = claim_runs(uow, instance="a", lease_seconds=60, run_id=second)
    assert [j.run_id for j in jobs] == [second]
    assert [j.run_id for j in claim_runs(uow, instance="a", lease_seconds=60)] == [first]


def test_unsubscribe_is_idempotent_and_per_schedule(
    uow: UnitOfWork, make: Factory, clock: FrozenDateTimeFactory
) -> None:
    make.employee("director", email="director@firma.pl")
    one, two = _schedule(uow), _schedule(uow, "0 9 * * *")
    assert is_subscribed(uow.session, one, "director@firma.pl")
    assert unsubscribe(uow, one, "Director@Firma.pl") and unsubscribe(uow, one, "director@firma.pl")
    assert not is_subscribed(uow.session, one, "DIRECTOR@firma.pl")
    assert is_subscribed(uow.session, two, "director@firma.pl")
    assert not unsubscribe(uow, 9999, "director@firma.pl")
    assert not is_subscribed(uow.session, 9999, "director@firma.pl")
    (job,) = claim_runs(uow, instance="a", lease_seconds=60, run_id=run_now(uow, one))
    assert job.recipients == ()
