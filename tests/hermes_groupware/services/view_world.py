"""A small office for the saved-view tests (services, feeds and the view report share it).

Built at ``NOW`` (Friday 2026-11-27 10:00 UTC, 11:00 in Warsaw):

====  ========  =========  ==========================================  =======================
key   register  who        subject                                     due / state
====  ========  =========  ==========================================  =======================
t1    HN        anna       Oferta dla ŁÓDŹ (high, vip, customer)       all-day 26.11: overdue
t2    HN        bartek     Spotkanie w biurze                          09:00 UTC 27.11: overdue
t3    HN        anna       Telefon do klienta (pilne: yes)             23:30 UTC 27.11 (28.11 PL)
t4    RK        bartek     Reklamacja partii (P-100, 1500.5)           done
t5    HN        anna       Bez terminu – budżet 1000 zł (low)          no due
t6    RK        anna       Zwrot towaru (p-200)                        all-day 5.12, waiting
====  ========  =========  ==========================================  =======================

``anna`` is in group ``sprzedaz``; ``cezary`` may not read RK (its default access is none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from freezegun import freeze_time

from hermes_groupware.models import Task
from hermes_groupware.models.enums import AccessLevel, FieldType, Priority, TaskStatus
from hermes_groupware.services import custom_fields, directory, registers
from hermes_groupware.services.directory import EmployeeView
from hermes_groupware.services.tasks import set_status
from tests.factories import Factory

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    """The people and tasks of the office."""

    anna: EmployeeView
    bartek: EmployeeView
    cezary: EmployeeView
    customer_id: int
    tasks: dict[str, Task]

    def subjects(self, keys: str) -> set[str]:
        """Subjects of tasks given by key ("t1 t3")."""
        return {self.tasks[k].subject for k in keys.split()}


def _day(day: int, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, tzinfo=dt.UTC)


def build_world(make: Factory) -> World:
    """Create the office (at NOW, so creation times and overdue states are fixed)."""
    with freeze_time(NOW):
        uow = make.uow
        directory.add_group(uow, "sprzedaz", "Sprzedaż")
        anna = make.employee("anna", groups=("sprzedaz",))
        bartek = make.employee("bartek")
        cezary = make.employee("cezary")
        hn = make.register("HN", default_access=AccessLevel.READ)
        rk = make.register("RK", default_access=AccessLevel.NONE)
        registers.grant(uow, "RK", AccessLevel.READ, login="anna")
        registers.grant(uow, "RK", AccessLevel.READ, login="bartek")
        custom_fields.define_field(
            uow, "RK", key="partia", label="Partia", field_type=FieldType.TEXT
        )
        custom_fields.define_field(
            uow, "RK", key="wartosc", label="Wartość", field_type=FieldType.NUMBER
        )
        custom_fields.define_field(
            uow, "HN", key="pilne", label="Pilne", field_type=FieldType.BOOLEAN
        )
        customer = make.customer("Łódzka Fabryka Mebli")
        tasks = {
            "t1": make.task(
                hn,
                anna,
                "Oferta dla ŁÓDŹ",
                due=_day(26),
                all_day=True,
                priority=Priority.HIGH,
                categories="oferta,VIP",
                customer_id=customer.id,
            ),
            "t2": make.task(hn, bartek, "Spotkanie w biurze", due=_day(27) + dt.timedelta(hours=9)),
            "t3": make.task(
                hn, anna, "Telefon do klienta", due=_day(27) + dt.timedelta(hours=23, minutes=30)
            ),
            "t4": make.task(rk, bartek, "Reklamacja partii"),
            "t5": make.task(hn, anna, "Bez terminu – budżet 1000 zł", priority=Priority.LOW),
            "t6": make.task(
                rk, anna, "Zwrot towaru", due=_day(5, 12), all_day=True, status=TaskStatus.WAITING
            ),
        }
        custom_fields.set_values(uow, tasks["t3"].id, {"pilne": "tak"})
        custom_fields.set_values(uow, tasks["t4"].id, {"partia": "P-100", "wartosc": "1500.5"})
        custom_fields.set_values(uow, tasks["t6"].id, {"partia": "p-200"})
        set_status(uow, tasks["t4"].id, TaskStatus.DONE)
    return World(anna, bartek, cezary, customer.id, tasks)
