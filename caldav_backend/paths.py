"""Radicale paths split into principal, collection slug and item href (pure).

``/<login>/`` is the principal; its collections have stable ASCII slugs: ``tasks``, ``planned``,
``register-<code>`` and ``group-<slug>``; items are ``<href>`` inside them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DavPath:
    """A parsed, sanitised Radicale path (no leading or trailing slash)."""

    login: str | None
    slug: str | None
    href: str | None


def parse(path: str) -> DavPath:
    """Split a sanitised path; more than three segments is an error (ValueError)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) > 3:
        raise ValueError(f"no such path: {path!r}")
    padded = [*parts, None, None, None]
    return DavPath(login=padded[0], slug=padded[1], href=padded[2])
