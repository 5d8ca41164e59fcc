"""Property: whatever a client PUTs, reading it either gives fields or InvalidCalendarData.

Any other exception would be a 500 for the client (or a 400 by accident): every way a body
can be wrong must be named.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from sync.ical import ClientFields, InvalidCalendarData, read_client
from tests.properties import BOUNDED, line_text

# mostly plausible years (the mapping's paths), sometimes any (year 1, year 9999)
DAYS = st.one_of(st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)), st.dates())
TIMES = st.builds(dt.datetime.combine, DAYS, st.times())
DATE = DAYS.map(lambda d: f";VALUE=DATE:{d.year:04}{d:%m%d}")
DATE_TIME = TIMES.map(lambda d: f":{d.year:04}{d:%m%dT%H%M%S}")
UTC_TIME = TIMES.map(lambda d: f":{d.year:04}{d:%m%dT%H%M%S}Z")
ZONED = TIMES.map(lambda d: f";TZID=Europe/Warsaw:{d.year:04}{d:%m%dT%H%M%S}")
WHEN = st.one_of(DATE, DATE_TIME, UTC_TIME, ZONED, line_text.map(lambda t: ":" + t))
NUMBER = st.one_of(st.integers(-5, 150).map(str), line_text)
DURATION = st.one_of(
    st.sampled_from(["PT1H", "P1D", "-PT15M", "P2W", "PT0S", "P1DT2H3M4S"]), line_text
)
STATUS = st.one_of(
    st.sampled_from(["NEEDS-ACTION", "COMPLETED", "IN-PROCESS", "CANCELLED", "TENTATIVE"]),
    line_text,
)
PROPERTY = st.one_of(
    st.tuples(st.just("SUMMARY:"), line_text),
    st.tuples(st.just("DESCRIPTION:"), line_text),
    st.tuples(st.sampled_from(["DTSTART", "DUE", "DTEND", "COMPLETED"]), WHEN),
    st.tuples(st.just("DURATION:"), DURATION),
    st.tuples(st.sampled_from(["PRIORITY:", "PERCENT-COMPLETE:"]), NUMBER),
    st.tuples(st.just("STATUS:"), STATUS),
    st.tuples(st.just("CATEGORIES:"), line_text),
    st.tuples(st.sampled_from(["RELATED-TO:", "RELATED-TO;RELTYPE=CHILD:"]), line_text),
    st.tuples(st.sampled_from(["RECURRENCE-ID:", "RRULE:", "X-HERMES-STATUS:"]), line_text),
    st.tuples(line_text.filter(lambda t: ":" not in t), line_text.map(lambda t: ":" + t)),
)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, str]:
    """(component type of the collection, body) with a UID and random mapped properties."""
    collection = draw(st.sampled_from(["VTODO", "VEVENT"]))
    sent = draw(st.sampled_from(["VTODO", "VEVENT", collection, collection]))
    uid = draw(st.one_of(st.just("fuzz-1@test"), line_text))
    lines = [f"{name}{value}" for name, value in draw(st.lists(PROPERTY, max_size=8))]
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN", f"BEGIN:{sent}"]
    body = "\r\n".join([*head, f"UID:{uid}", *lines, f"END:{sent}", "END:VCALENDAR", ""])
    return collection, body


@BOUNDED
@given(bodies())
def test_a_client_body_is_read_or_refused_as_invalid(case: tuple[str, str]) -> None:
    collection, body = case
    try:
        fields = read_client(body, collection)
    except InvalidCalendarData:
        return
    assert isinstance(fields, ClientFields) and fields.uid.strip()
    assert fields.component == collection


@BOUNDED
@given(st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace")))
def test_garbage_is_refused_as_invalid(body: str) -> None:
    with contextlib.suppress(InvalidCalendarData):
        read_client(body, "VTODO")
