"""The Jinja2 environment of the report templates (HTML autoescaped: report data is untrusted,
a task subject can come from a customer's e-mail)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_templates = Environment(
    loader=PackageLoader("reports", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` from ``reports/templates``."""
    return _templates.get_template(name).render(**context)
