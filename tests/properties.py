"""Shared hypothesis settings and strategies for the property tests.

Bounded (a few seconds per test) and without a deadline per example, since the examples
talk to a real database or server; derandomized on CI, so a red build is reproducible.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

#: a value as it may appear after "NAME:" on one content line (no line breaks)
line_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=40
)
