"""Radicale paths <-> Hermes collection keys (pure).

``/<login>/`` is the principal; its collections have stable ASCII slugs: ``tasks``, ``planned``,
``register-<code>`` and ``group-<slug>``; items are ``<href>`` inside them.
"""

from __future__ import annotations

from dataclasses import dataclass

TASKS, PLANNED = "tasks", "planned"


@dataclass(frozen=True)
class DavPath:
    """A parsed, sanitised Radicale path (no leading or trailing slash)."""

    login: str | None
    slug: str | None
    href: str | None

    @property
    def depth(self) -> int:
        """0 root, 1 principal, 2 collection, 3 item."""
        return sum(part is not None for part in (self.login, self.slug, self.href))


def parse(path: str) -> DavPath:
    """Split a sanitised path; more than three segments is an error (ValueError)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) > 3:
        raise ValueError(f"no such path: {path!r}")
    padded = [*parts, None, None, None]
    return DavPath(login=padded[0], slug=padded[1], href=padded[2])


def collection_key(login: str, slug: str) -> str | None:
    """The projection key behind ``/<login>/<slug>/``, or None for an unknown slug."""
    if slug in (TASKS, PLANNED):
        return f"{login}/{slug}"
    kind, _, name = slug.partition("-")
    if kind == "register" and name:
        return f"register:{name.upper()}"
    if kind == "group" and name:
        return f"group:{name}"
    return None


def slug_of(key: str) -> str:
    """The URL slug of a projection key (inverse of :func:`collection_key`)."""
    if key.startswith("register:"):
        return "register-" + key.split(":", 1)[1].lower()
    if key.startswith("group:"):
        return "group-" + key.split(":", 1)[1]
    return key.split("/", 1)[1]
