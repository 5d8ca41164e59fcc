"""Shared hypothesis settings and strategies for the property tests (iCalendar bodies).

Bounded (a few seconds per test) and without a deadline per example, since the examples
talk to a real database or server; derandomized on CI, so a red build is reproducible.
"""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BOUNDED = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "150")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

#: a value as it may appear after "NAME:" on one content line (no line breaks)
line_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=40
)

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
ICAL_PROPERTY = st.one_of(
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


def calendar_object(component: str, uid: str, properties: list[tuple[str, str]]) -> str:
    """A VCALENDAR holding one ``component`` with ``uid`` and the drawn property lines."""
    lines = [f"{name}{value}" for name, value in properties]
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN", f"BEGIN:{component}"]
    return "\r\n".join([*head, f"UID:{uid}", *lines, f"END:{component}", "END:VCALENDAR", ""])


@st.composite
def client_bodies(draw: st.DrawFn, uid: str, collection: str) -> str:
    """What a client (or an attacker) might PUT into a ``collection`` of VTODO or VEVENT: mostly
    the right component and UID with random mapped properties, sometimes the wrong ones."""
    sent = draw(st.sampled_from(["VTODO", "VEVENT", collection, collection, collection]))
    chosen = draw(st.one_of(st.just(uid), st.just(uid), line_text))
    return calendar_object(sent, chosen, draw(st.lists(ICAL_PROPERTY, max_size=8)))
