"""Which collections an employee's home holds, and the properties clients show for them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone
from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Employee, Group, Register, group_members
from hermes_groupware.models.enums import AccessLevel, Locale
from hermes_groupware.services import access
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.reminders import zone_of
from sync.colours import hex_colour
from sync.projection import collection_slug, component_of

_TEXT = {
    "tasks": {
        Locale.PL: (
            "Moje zadania",
            "Zadania z Hermes CRM, za które odpowiadasz lub które ci przekazano",
        ),
        Locale.EN: ("My tasks", "Hermes CRM tasks you are responsible for or were delegated"),
    },
    "planned": {
        Locale.PL: ("Mój plan", "Twoje zaplanowane zadania, w kolorach rejestrów"),
        Locale.EN: ("My plan", "Your planned tasks, in the colours of their registers"),
    },
    "register": {
        Locale.PL: ("{name}", "Zadania rejestru {name} ({code})"),
        Locale.EN: ("{name}", "Tasks of the {name} register ({code})"),
    },
    "group": {
        Locale.PL: ("Zespół: {name}", "Zaplanowane zadania zespołu {name}"),
        Locale.EN: ("Team: {name}", "Planned tasks of the {name} team"),
    },
}
#: a register's own colour is its list's; these are the others' (and a register's whose
#: colour, written by the desktop application, is not ``#RRGGBB``)
_COLOURS = {"tasks": "#455A64", "planned": "#6A1B9A", "group": "#00897B", "register": "#546E7A"}


@dataclass(frozen=True)
class CollectionInfo:
    """One collection in a home, with what Radicale serves as its properties."""

    key: str
    slug: str
    access: AccessLevel
    meta: dict[str, str]


def home(uow: UnitOfWork, employee: Employee) -> list[CollectionInfo]:
    """The collections of an active employee's home, as that employee may use them."""
    session, login = uow.session, employee.login
    zone = zone_of(employee.time_zone).key  # plain SQL may have written any name
    info = functools.partial(_info, locale=Locale(employee.locale), zone=zone)
    own = [
        info(f"{login}/{kind}", level=AccessLevel.EDIT, kind=kind, names={}, colour=_COLOURS[kind])
        for kind in ("tasks", "planned")
    ]
    levels = access.register_levels(session, actor_for(employee))
    registers = session.scalars(select(Register).where(Register.is_active).order_by(Register.code))
    own += [
        info(
            f"register:{r.code}",
            level=levels[r.id],
            kind="register",
            names={"name": r.name, "code": r.code},
            colour=hex_colour(r.colour) or _COLOURS["register"],
        )
        for r in registers
        if levels.get(r.id, AccessLevel.NONE) is not AccessLevel.NONE
    ]
    groups = session.scalars(
        select(Group)
        .join(group_members, group_members.c.group_id == Group.id)
        .where(group_members.c.employee_id == employee.id)
        .order_by(Group.slug)
    )
    own += [
        info(
            f"group:{g.slug}",
            level=AccessLevel.READ,
            kind="group",
            names={"name": g.name},
            colour=_COLOURS["group"],
        )
        for g in groups
    ]
    return own


def _info(
    key: str,
    *,
    level: AccessLevel,
    kind: str,
    locale: Locale,
    zone: str,
    names: dict[str, str],
    colour: str,
) -> CollectionInfo:
    name, description = (t.format(**names) for t in _TEXT[kind][locale])
    return CollectionInfo(
        key=key,
        slug=collection_slug(key),
        access=level,
        meta={
            "tag": "VCALENDAR",
            "D:displayname": name,
            "C:calendar-description": description,
            "ICAL:calendar-color": colour + "FF",
            "C:supported-calendar-component-set": component_of(key),
            "C:calendar-timezone": timezone_calendar(zone),
        },
    )


@cache
def timezone_calendar(zone: str) -> str:
    """A VCALENDAR holding the VTIMEZONE of ``zone`` (RFC 4791 calendar-timezone)."""
    ZoneInfo(zone)  # refuse unknown names early
    calendar = Calendar()
    calendar.add("PRODID", "-//Hermes Groupware//Hermes CRM//PL")
    calendar.add("VERSION", "2.0")
    calendar.add_component(Timezone.from_tzid(zone))
    return str(calendar.to_ical().decode("utf-8"))
