"""Listing and revoking one's own app passwords (creating them: ``directory.set_app_password``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import NotFound, PermissionDenied
from hermes_groupware.models import AppPassword
from hermes_groupware.services import audit


@dataclass(frozen=True)
class AppPasswordView:
    """An app password as its owner sees it: the label and dates, never the password."""

    id: int
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


def list_own(uow: UnitOfWork) -> list[AppPasswordView]:
    """The actor's app passwords still in force, by label."""
    rows = uow.session.scalars(
        select(AppPassword)
        .where(AppPassword.employee_id == _own(uow), AppPassword.revoked_at.is_(None))
        .order_by(AppPassword.label, AppPassword.id)
    )
    return [_view(row) for row in rows]


def newest_with_label(uow: UnitOfWork, label: str) -> AppPasswordView:
    """The app password just set under ``label`` (to answer a create)."""
    row = uow.session.scalars(
        select(AppPassword)
        .where(
            AppPassword.employee_id == _own(uow),
            AppPassword.label == label,
            AppPassword.revoked_at.is_(None),
        )
        .order_by(AppPassword.id.desc())
    ).first()
    if row is None:
        raise NotFound(f"no app password labelled {label!r}")
    return _view(row)


def revoke_own(uow: UnitOfWork, password_id: int) -> None:
    """Revoke one of the actor's app passwords; someone else's (or a revoked one) is NotFound.

    A CalDAV login verified in the last ``[caldav] login_cache_seconds`` stays valid until its
    cache entry ends.
    """
    row = uow.session.get(AppPassword, password_id)
    if row is None or row.employee_id != _own(uow) or row.revoked_at is not None:
        raise NotFound(f"app password {password_id} not found")
    row.revoked_at = uow.now()
    audit.record(uow, "app_password.revoke", "app_password", password_id, label=row.label)
    uow.session.flush()


def _own(uow: UnitOfWork) -> int:
    if uow.actor.employee_id is None:
        raise PermissionDenied("app passwords belong to employees; act as one")
    return uow.actor.employee_id


def _view(row: AppPassword) -> AppPasswordView:
    return AppPasswordView(
        id=row.id, label=row.label, created_at=row.created_at, last_used_at=row.last_used_at
    )
