"""Custom fields (cechy): typed values, parsed from what people type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models.enums import FieldType
from hermes_groupware.services import custom_fields
from tests.factories import Factory


def test_values_are_typed(uow: UnitOfWork, make: Factory) -> None:
    reg = make.register("SER")
    task = make.task(reg, make.employee())
    for key, kind in (
        ("seria", FieldType.TEXT),
        ("kwota", FieldType.NUMBER),
        ("termin", FieldType.DATE),
        ("gwarancja", FieldType.BOOLEAN),
    ):
        custom_fields.define_field(uow, "SER", key=key, label=key, field_type=kind)
    custom_fields.define_field(
        uow, "SER", key="typ", label="Typ", field_type=FieldType.CHOICE, choices=["kocioł", "pompa"]
    )
    custom_fields.set_values(
        uow,
        task.id,
        {
            "seria": "SN-1",
            "kwota": "1 234,50".replace(" ", ""),
            "termin": "2026-12-01",
            "gwarancja": "tak",
            "typ": "kocioł",
        },
    )
    assert custom_fields.values_of(uow, task.id) == {
        "gwarancja": True,
        "kwota": Decimal("1234.5"),
        "seria": "SN-1",
        "termin": dt.date(2026, 12, 1),
        "typ": "kocioł",
    }
    custom_fields.set_values(uow, task.id, {"seria": None})
    assert "seria" not in custom_fields.values_of(uow, task.id)


@pytest.mark.parametrize(
    ("kind", "value"),
    [(FieldType.NUMBER, "dużo"), (FieldType.DATE, "01.12.2026"), (FieldType.BOOLEAN, "może")],
)
def test_bad_values_name_the_field(
    uow: UnitOfWork, make: Factory, kind: FieldType, value: str
) -> None:
    reg = make.register("SER")
    task = make.task(reg, make.employee())
    custom_fields.define_field(uow, "SER", key="pole", label="Pole", field_type=kind)
    with pytest.raises(InvalidInput) as error:
        custom_fields.set_values(uow, task.id, {"pole": value})
    assert error.value.field == "pole"
    with pytest.raises(InvalidInput, match="no such custom field"):
        custom_fields.set_values(uow, task.id, {"inne": "x"})
