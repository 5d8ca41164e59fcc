"""Property: whatever a client PUTs, reading it either gives fields or InvalidCalendarData.

Any other exception would be a 500 for the client (or a 400 by accident): every way a body
can be wrong must be named.
"""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from sync.ical import ClientFields, InvalidCalendarData, read_client
from tests.properties import BOUNDED, client_bodies


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, str]:
    """(component type of the collection, body)."""
    collection = draw(st.sampled_from(["VTODO", "VEVENT"]))
    return collection, draw(client_bodies("fuzz-1@test", collection))


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
