"""Registers: codes, colours, addresses and the list a user may see."""

from __future__ import annotations

import pytest

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models.enums import AccessLevel
from hermes_groupware.services import registers
from tests.factories import Factory


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": "REK", "colour": "red"}, "colour"),
        ({"code": "REK", "colour": "#12345"}, "colour"),
        ({"code": "r", "colour": "#123456"}, "code"),
        ({"code": "REK", "colour": "#123456", "inbound_email": "reklamacje"}, "email"),
        ({"code": "REK", "colour": "#123456", "default_assignee": "nobody"}, "default_assignee"),
    ],
)
def test_register_validation(uow: UnitOfWork, kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        registers.add_register(uow, name="Reklamacje", **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_register_view_and_visibility(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee("mzielinska")
    make.register(
        "REK", colour="#c62828", inbound_email="Reklamacje@Firma.PL", default_assignee="mzielinska"
    )
    make.register("SEC", default_access=AccessLevel.NONE)
    visible = registers.list_registers(make.as_(rep))
    assert [(r.code, r.colour, r.inbound_email, r.default_assignee) for r in visible] == [
        ("REK", "#C62828", "Reklamacje@firma.pl", "mzielinska")
    ]
    with pytest.raises(PermissionDenied):
        registers.add_register(make.as_(rep), code="NEW", name="x", colour="#000000")
    with pytest.raises(InvalidInput, match="exists"):
        make.register("REK")
