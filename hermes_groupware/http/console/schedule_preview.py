"""What a schedule's mail would say, built now with the viewer's rights: the text part of the
report mail (tables cut to ``[reports] body_rows``; no charts or attachments). Recipients get
the same reports built with their own rights."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models.enums import Locale
from hermes_groupware.services.report_schedule_admin import ScheduleView


def preview_text(uow: UnitOfWork, schedule: ScheduleView, *, locale: str, body_rows: int) -> str:
    """The reports of ``schedule`` as plain text, for ``uow.actor``."""
    # the report modules load charts and PDF support: only when someone asks for a preview
    from reports import registry  # noqa: PLC0415
    from reports.formats.layout import lay_out  # noqa: PLC0415
    from reports.formats.text import plain_text  # noqa: PLC0415
    from reports.scope import reader_context  # noqa: PLC0415

    context = reader_context(
        uow, locale=Locale(locale), zone=ZoneInfo(schedule.time_zone), params={}
    )
    layouts = []
    for kind in schedule.reports:
        params = registry.check_params(kind, schedule.params.get(kind.value, {}))
        result = registry.build(kind, dataclasses.replace(context, params=params))
        layouts.append(lay_out(result, row_limit=body_rows, in_attachment=False))
    return plain_text(layouts)
