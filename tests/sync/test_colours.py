"""Register colours as ``#RRGGBB`` and as the CSS3 names RFC 7986 ``COLOR`` wants."""

from __future__ import annotations

import pytest

from sync.colours import hex_colour, nearest_css_colour


@pytest.mark.parametrize(
    ("stored", "expected"),
    [("#2e8b57", "#2E8B57"), (" #C62828 ", "#C62828"), ("#000000", "#000000")],
)
def test_a_colour_is_read_in_upper_case(stored: str, expected: str) -> None:
    assert hex_colour(stored) == expected


@pytest.mark.parametrize("stored", [None, "", "#FFF", "2E8B57", "#GGGGGG", "zielony", "#2E8B57FF"])
def test_anything_else_is_no_colour(stored: str | None) -> None:
    """Registers written by the desktop application may hold any text here."""
    assert hex_colour(stored) is None
    assert nearest_css_colour(stored) is None


@pytest.mark.parametrize(
    ("colour", "name"),
    [
        ("#2E8B57", "seagreen"),
        ("#C62828", "firebrick"),
        ("#000001", "black"),
        ("#ff00FF", "magenta"),
    ],
)
def test_the_nearest_css_name(colour: str, name: str) -> None:
    assert nearest_css_colour(colour) == name
