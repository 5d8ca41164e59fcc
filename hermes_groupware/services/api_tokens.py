"""API tokens (issue 9): created for oneself, shown once, stored as a SHA-256 hash.

A token acts as its owner with at most its scopes: ``read`` (GET), ``write`` (changes) and
``admin`` (what the CLI reserves for administrators; only an administrator's token may carry
it). A token never grants more than the owner has, and never more than the credential that
created it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import ApiToken, Employee
from hermes_groupware.services import audit
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login

PREFIX = "hgt_"
SCOPES = ("read", "write", "admin")
MAX_LIFETIME = dt.timedelta(days=3650)
#: last_used_at is written at most this often, so reads do not turn into writes
USE_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenView:
    """A token as its owner sees it (never the token itself)."""

    id: int
    name: str
    hint: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class TokenActor:
    """Who a valid token acts as, and what it may do."""

    actor: Actor
    scopes: frozenset[str]
    owner_is_admin: bool


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def allowed_scopes(actor: Actor) -> frozenset[str]:
    """Every scope an actor may hold: admin only for administrators."""
    return frozenset(SCOPES) if actor.is_admin else frozenset(("read", "write"))


def validate_scopes(scopes: list[str]) -> list[str]:
    """Known scopes in canonical order, or InvalidInput naming ``scopes``."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput("scopes", f"unknown scope {unknown[0]!r}; use read, write, admin")
    if not scopes:
        raise InvalidInput("scopes", "at least one scope")
    return [s for s in SCOPES if s in scopes]


def create_token(
    uow: UnitOfWork,
    *,
    name: str,
    scopes: list[str],
    lifetime: dt.timedelta,
    granted: frozenset[str],
) -> tuple[TokenView, str]:
    """A new token for the actor; returns it with the clear token (shown once).

    ``granted`` is what the caller's own credential may do; a token cannot exceed it.

    Raises:
        InvalidInput: a bad name, scope or lifetime; PermissionDenied: a scope beyond the
        owner's rights or the caller's credential.
    """
    view, token = _create(uow, name=name, scopes=scopes, lifetime=lifetime, granted=granted)
    _audit_created(uow, view)
    return view, token


def _create(
    uow: UnitOfWork,
    *,
    name: str,
    scopes: list[str],
    lifetime: dt.timedelta,
    granted: frozenset[str],
) -> tuple[TokenView, str]:
    employee_id = _own(uow.actor)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name", "1-100 characters")
    wanted = validate_scopes(scopes)
    beyond = [s for s in wanted if s not in allowed_scopes(uow.actor) or s not in granted]
    if beyond:
        raise PermissionDenied(f"you may not give a token the {beyond[0]!r} scope")
    if not dt.timedelta(0) < lifetime <= MAX_LIFETIME:
        raise InvalidInput("expires_in_days", "between 1 and 3650 days")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        employee_id=employee_id,
        name=name,
        token_hash=hash_token(token),
        hint=token[:10],
        scopes=",".join(wanted),
        created_at=uow.now(),
        expires_at=uow.now() + lifetime,
    )
    uow.session.add(row)
    uow.session.flush()
    return _view(row), token


def issue_for(
    uow: UnitOfWork, login: str, *, name: str, scopes: list[str], lifetime: dt.timedelta
) -> tuple[TokenView, str]:
    """A token for ``login`` (the CLI's ``token create --owner``): administrators issue for
    anyone, an employee only for themselves; never beyond what the owner may hold."""
    owner = employee_by_login(uow.session, login, field="owner")
    if not uow.actor.is_admin and uow.actor.employee_id != owner.id:
        raise PermissionDenied("only administrators issue tokens for others")
    if not owner.is_active:
        raise InvalidInput("owner", f"{login} is not active")
    as_owner = uow.acting_as(actor_for(owner))
    view, token = _create(
        as_owner, name=name, scopes=scopes, lifetime=lifetime, granted=frozenset(SCOPES)
    )
    _audit_created(uow, view)  # recorded as the issuer, not the owner
    return view, token


def _audit_created(uow: UnitOfWork, view: TokenView) -> None:
    audit.record(uow, "api_token.create", "api_token", view.id, name=view.name, scopes=view.scopes)


def tokens_of(uow: UnitOfWork, login: str | None) -> list[TokenView]:
    """``login``'s tokens (administrators: anyone's), or the actor's own."""
    if login is None:
        return list_tokens(uow)
    owner = employee_by_login(uow.session, login, field="owner")
    if not uow.actor.is_admin and uow.actor.employee_id != owner.id:
        raise PermissionDenied("only administrators list others' tokens")
    return list_tokens(uow.acting_as(actor_for(owner)))


def revoke_any(uow: UnitOfWork, token_id: int) -> TokenView:
    """Revoke a token: administrators any (a leaked one), an employee their own."""
    row = uow.session.get(ApiToken, token_id)
    if row is None or (not uow.actor.is_admin and row.employee_id != uow.actor.employee_id):
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = uow.now()
        uow.session.flush()
        audit.record(uow, "api_token.revoke", "api_token", token_id, name=row.name)
    return _view(row)


def list_tokens(uow: UnitOfWork) -> list[TokenView]:
    """The actor's own tokens, newest first (revoked and expired ones too, for the record)."""
    rows = uow.session.scalars(
        select(ApiToken).where(ApiToken.employee_id == _own(uow.actor)).order_by(ApiToken.id.desc())
    )
    return [_view(row) for row in rows]


def revoke_token(uow: UnitOfWork, token_id: int) -> TokenView:
    """Revoke one of the actor's tokens (idempotent); someone else's is NotFound."""
    row = uow.session.get(ApiToken, token_id)
    if row is None or row.employee_id != _own(uow.actor):
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = uow.now()
        uow.session.flush()
        audit.record(uow, "api_token.revoke", "api_token", token_id, name=row.name)
    return _view(row)


def authenticate(uow: UnitOfWork, token: str) -> TokenActor | None:
    """The owner and scopes of a valid token; None when unknown, expired, revoked or the
    owner is inactive (the caller answers all of them alike)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = uow.now()
    if row.revoked_at is not None or row.expires_at <= now:
        return None
    owner = uow.session.get(Employee, row.employee_id)
    if owner is None or not owner.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= USE_RESOLUTION:
        row.last_used_at = now
        uow.session.flush()
    scopes = frozenset(row.scopes.split(","))
    actor = Actor(
        employee_id=owner.id, login=owner.login, is_admin=owner.is_admin and "admin" in scopes
    )
    return TokenActor(actor=actor, scopes=scopes, owner_is_admin=owner.is_admin)


def _own(actor: Actor) -> int:
    if actor.employee_id is None:
        raise PermissionDenied("tokens belong to employees; act as one")
    return actor.employee_id


def _view(row: ApiToken) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        hint=row.hint,
        scopes=row.scopes.split(","),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
