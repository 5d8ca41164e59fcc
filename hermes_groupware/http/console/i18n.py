"""Polish and English: every text a person reads is written in both, side by side, as the
mail templates do (``t("Task", "Zadanie")``); the employee's locale picks one."""

from __future__ import annotations

from flask import g, request

LOCALES = ("pl", "en")


def browser_locale() -> str:
    """Before login: the browser's preference between Polish and English (Polish first)."""
    return request.accept_languages.best_match(LOCALES, default="pl") or "pl"


def t(en: str, pl: str) -> str:
    """The text in the current request's language."""
    return pl if getattr(g, "locale", "pl") == "pl" else en
