"""The helpers the report modules share: parameter checks, names, local calendar maths."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hermes_groupware.errors import InvalidInput
from reports import common
from tests.factories import Factory

WARSAW = ZoneInfo("Europe/Warsaw")


def test_unknown_parameters_are_named():
    common.reject_unknown({"weeks": 2}, ("weeks", "group"))
    with pytest.raises(InvalidInput) as error:
        common.reject_unknown({"weeks": 2, "grup": "x"}, ("weeks", "group"))
    assert error.value.field == "params.grup"
    assert "group, weeks" in error.value.message


@pytest.mark.parametrize(("given", "expected"), [({}, 6), ({"n": 3}, 3), ({"n": " 12 "}, 12)])
def test_bounded_int_takes_numbers_and_digit_strings(given: dict[str, object], expected: int):
    assert common.bounded_int(given, "n", default=6, low=1, high=12) == expected


@pytest.mark.parametrize("bad", [0, 13, "-1", "six", True, 2.5, None])
def test_bounded_int_refuses_the_rest(bad: object):
    with pytest.raises(InvalidInput) as error:
        common.bounded_int({"n": bad}, "n", default=6, low=1, high=12)
    assert error.value.field == "params.n"


def test_text_choice_and_list():
    assert common.optional_text({"r": "  "}, "r") is None
    assert common.optional_text({"r": " HAN "}, "r") == "HAN"
    assert common.choice({"p": "Week"}, "p", ("week", "month"), "month") == "week"
    assert common.choice({}, "p", ("week", "month"), "month") == "month"
    assert common.text_list({"t": "FV, ZK,FV"}, "t", ["FV"]) == ["FV", "ZK"]
    assert common.text_list({}, "t", ["FV"]) == ["FV"]
    with pytest.raises(InvalidInput):
        common.optional_text({"r": 5}, "r")
    with pytest.raises(InvalidInput):
        common.choice({"p": "day"}, "p", ("week", "month"), "month")
    with pytest.raises(InvalidInput):
        common.text_list({"t": ","}, "t", ["FV"])


def test_employee_names_are_listed_by_surname(make: Factory):
    zofia = make.employee(first_name="Zofia", last_name="Adamska")
    adam = make.employee(first_name="Adam", last_name="Zalewski")

    names = common.employee_names(make.uow.session, [adam.id, zofia.id])

    assert list(names.items()) == [(zofia.id, "Zofia Adamska"), (adam.id, "Adam Zalewski")]
    assert common.employee_names(make.uow.session, []) == {}


def test_local_days_begin_at_local_midnight_across_summer_time():
    assert common.local_start(dt.date(2026, 3, 29), WARSAW) == dt.datetime(
        2026, 3, 28, 23, tzinfo=dt.UTC
    )
    assert common.local_start(dt.date(2026, 3, 30), WARSAW) == dt.datetime(
        2026, 3, 29, 22, tzinfo=dt.UTC
    )
    assert common.monday(dt.date(2026, 3, 29)) == dt.date(2026, 3, 23)
    assert common.monday(dt.date(2026, 3, 30)) == dt.date(2026, 3, 30)
