"""The report modules by kind; each has ``check_params`` (validate when a schedule is saved)
and ``build`` (one reader's data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from hermes_groupware.models.enums import ReportKind
from reports import activity, agenda, complaints, overdue, pipeline, turnover, view_report
from reports.model import ReportContext, ReportResult


class ReportModule(Protocol):
    """What every report module provides."""

    def check_params(self, params: Mapping[str, Any], /) -> dict[str, Any]: ...

    def build(self, ctx: ReportContext, /) -> ReportResult: ...


MODULES: dict[ReportKind, ReportModule] = {
    ReportKind.OVERDUE: overdue,
    ReportKind.PIPELINE: pipeline,
    ReportKind.ACTIVITY: activity,
    ReportKind.COMPLAINTS: complaints,
    ReportKind.AGENDA: agenda,
    ReportKind.TURNOVER: turnover,
    ReportKind.VIEW: view_report,
}


def check_params(kind: ReportKind, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters normalised, or InvalidInput naming the bad one."""
    return MODULES[kind].check_params(params)


def build(kind: ReportKind, ctx: ReportContext) -> ReportResult:
    """One reader's report."""
    return MODULES[kind].build(ctx)
