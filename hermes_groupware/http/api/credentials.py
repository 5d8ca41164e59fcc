"""``/app-passwords`` and ``/tokens``: one's own credentials (never anyone else's).

Creating or revoking an app password needs a credential that can already do everything the
owner can (Basic, or a token with all the owner's scopes): an app password is a full login,
so a narrower token must not mint one. A new token never exceeds the credential creating it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.errors import PermissionDenied
from hermes_groupware.http.api.fields import Text
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Operation
from hermes_groupware.services import api_tokens, app_passwords, directory
from hermes_groupware.services.api_tokens import SCOPES


class AppPasswordOut(BaseModel):
    """An app password in force: label and dates."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class AppPasswordCreated(AppPasswordOut):
    """The new app password; ``password`` is shown this once and never again."""

    password: str


class AppPasswordCreate(BaseModel):
    """A device label; an existing password with the same label is replaced."""

    model_config = ConfigDict(extra="forbid")

    label: Annotated[Text, Field(min_length=1, max_length=100)]


class TokenOut(BaseModel):
    """A token: its name, first characters, scopes and dates (never the token)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    hint: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    """The new token; ``token`` is shown this once and never again."""

    token: str


class TokenCreate(BaseModel):
    """A named token with scopes, expiring after ``expires_in_days``."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(min_length=1, max_length=100)]
    scopes: list[Literal["read", "write", "admin"]] = Field(
        min_length=1, max_length=3, description=f"some of {', '.join(SCOPES)}"
    )
    expires_in_days: int = Field(90, ge=1, le=3650)


AppPasswordList = Page[AppPasswordOut]
TokenList = Page[TokenOut]


def register(api: Api) -> None:
    """Add the credential operations."""
    pw, tok = "app passwords", "tokens"
    api.add(Operation("GET", "/app-passwords", list_app_passwords, "Your app passwords", pw,
                      response=AppPasswordList))
    api.add(Operation("POST", "/app-passwords", create_app_password, "A new app password", pw,
                      scope="write", body=AppPasswordCreate, response=AppPasswordCreated,
                      status=201))
    api.add(Operation("DELETE", "/app-passwords/{password_id}", revoke_app_password,
                      "Revoke an app password", pw, scope="write", status=204,
                      params={"password_id": ID_PARAM}))
    api.add(Operation("GET", "/tokens", list_tokens, "Your API tokens", tok,
                      response=TokenList))
    api.add(Operation("POST", "/tokens", create_token, "A new API token", tok, scope="write",
                      body=TokenCreate, response=TokenCreated, status=201))
    api.add(Operation("DELETE", "/tokens/{token_id}", revoke_token, "Revoke an API token", tok,
                      scope="write", status=204, params={"token_id": ID_PARAM}))  # fmt: skip


def list_app_passwords(call: Call) -> AppPasswordList:
    """The caller's app passwords in force."""
    with call.uow() as uow:
        rows = app_passwords.list_own(uow)
    return AppPasswordList(items=[AppPasswordOut.model_validate(r) for r in rows], next=None)


def create_app_password(call: Call) -> AppPasswordCreated:
    """A generated password for a device."""
    _require_full(call)
    label = call.body_as(AppPasswordCreate).label.strip() or "default"
    with call.uow(write=True) as uow:
        password = directory.set_app_password(uow, call.principal.actor.login, label=label)
        view = app_passwords.newest_with_label(uow, label)
    return AppPasswordCreated(**AppPasswordOut.model_validate(view).model_dump(), password=password)


def revoke_app_password(call: Call, password_id: int) -> None:
    """Revoke one of the caller's app passwords; this process forgets their verified logins."""
    _require_full(call)
    with call.uow(write=True) as uow:
        app_passwords.revoke_own(uow, password_id)
    call.logins.forget(call.principal.actor.login)


def list_tokens(call: Call) -> TokenList:
    """The caller's tokens, newest first."""
    with call.uow() as uow:
        rows = api_tokens.list_tokens(uow)
    return TokenList(items=[TokenOut.model_validate(r) for r in rows], next=None)


def create_token(call: Call) -> TokenCreated:
    """A token with at most the caller's scopes."""
    body = call.body_as(TokenCreate)
    with call.uow(write=True) as uow:
        view, token = api_tokens.create_token(
            uow,
            name=body.name,
            scopes=list(body.scopes),
            lifetime=dt.timedelta(days=body.expires_in_days),
            granted=call.principal.scopes,
        )
    return TokenCreated(**TokenOut.model_validate(view).model_dump(), token=token)


def revoke_token(call: Call, token_id: int) -> None:
    """Revoke one of the caller's tokens (revoking the one in use works too)."""
    with call.uow(write=True) as uow:
        api_tokens.revoke_token(uow, token_id)


def _require_full(call: Call) -> None:
    if not call.principal.full:
        raise PermissionDenied("app passwords need Basic auth or a token with all your scopes")
