"""Which calendar-query shapes SQL answers exactly."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from radicale.item.filter import TIMESTAMP_MAX, TIMESTAMP_MIN

from caldav_backend.filters import translate

NS = 'xmlns:C="urn:ietf:params:xml:ns:caldav"'


def _filter(inner: str) -> list[ET.Element]:
    return [ET.fromstring(f"<C:filter {NS}>{inner}</C:filter>")]


def test_component_with_time_range_is_exact() -> None:
    query = translate(
        _filter(
            '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            '<C:time-range start="20261201T000000Z" end="20261208T000000Z"/>'
            "</C:comp-filter></C:comp-filter>"
        )
    )
    assert (query.component, query.exact, query.open_only) == ("VEVENT", True, False)
    assert query.end - query.start == 7 * 86400


@pytest.mark.parametrize(
    "status",
    [
        "",
        '<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">'
        "CANCELLED</C:text-match></C:prop-filter>",
    ],
)
def test_open_tasks_are_exact(status: str) -> None:
    query = translate(
        _filter(
            '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
            f'<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>{status}'
            "</C:comp-filter></C:comp-filter>"
        )
    )
    assert (query.component, query.open_only, query.exact) == ("VTODO", True, True)
    assert (query.start, query.end) == (TIMESTAMP_MIN, TIMESTAMP_MAX)


def test_other_prop_filters_are_left_to_radicale() -> None:
    query = translate(
        _filter(
            '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
            '<C:prop-filter name="SUMMARY"><C:text-match>oferta</C:text-match></C:prop-filter>'
            "</C:comp-filter></C:comp-filter>"
        )
    )
    assert not query.exact
    assert not query.open_only
