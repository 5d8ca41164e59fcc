"""Realistic Polish demo data, written through the domain services like any other change.

Deterministic for a given seed and clock, so tests and screenshots can rely on it.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from faker import Faker
from sqlalchemy import exists, select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.demo.corpus import DEVICES, NOTES, PRODUCTS, ROLES, STAGES, SUBJECTS, SUBTASKS
from hermes_groupware.models import Employee
from hermes_groupware.models.enums import (
    AccessLevel,
    CustomerKind,
    DelegationMode,
    FieldType,
    Locale,
    Priority,
    TaskStatus,
    Visibility,
)
from hermes_groupware.services import (
    console_sessions,
    custom_fields,
    customers,
    delegation,
    directory,
    items,
    registers,
)
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.tasks import Opportunity, TaskChanges, add_subtask, create_task

DEMO_APP_PASSWORD = "demo-hermes-2026"  # noqa: S105 - set only in demo mode
_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
EMPLOYEES = (
    # login, first, last, groups, admin, locale
    ("admin", "Anna", "Administratorska", ("biuro",), True, Locale.PL),
    ("jkowalski", "Jan", "Kowalski", ("sprzedaz",), False, Locale.PL),
    ("anowak", "Agnieszka", "Nowak", ("sprzedaz",), False, Locale.PL),
    ("pwisniewski", "Piotr", "Wiśniewski", ("serwis",), False, Locale.PL),
    ("mzielinska", "Małgorzata", "Zielińska", ("reklamacje",), False, Locale.PL),
    ("kwojcik", "Krzysztof", "Wójcik", ("serwis",), False, Locale.PL),
    ("ebrown", "Emily", "Brown", ("sprzedaz",), False, Locale.EN),
    ("tdabrowski", "Tomasz", "Dąbrowski", ("biuro", "sprzedaz"), False, Locale.PL),
)
GROUPS = (
    ("sprzedaz", "Dział sprzedaży"),
    ("serwis", "Serwis"),
    ("reklamacje", "Reklamacje"),
    ("biuro", "Biuro"),
)
REGISTERS = (
    # code, name, colour, default assignee, inbound address, default access
    ("HAN", "Zadania handlowe", "#2E7D32", "jkowalski", None, AccessLevel.READ),
    ("REK", "Reklamacje", "#C62828", "mzielinska", "reklamacje@firma.pl", AccessLevel.READ),
    ("WEW", "Zadania wewnętrzne", "#1565C0", "admin", None, AccessLevel.EDIT),
    ("SER", "Serwis i wyjazdy", "#EF6C00", "pwisniewski", None, AccessLevel.NONE),
)


@dataclass(frozen=True)
class DemoSummary:
    """What was loaded."""

    employees: int
    registers: int
    customers: int
    tasks: int
    app_password: str | None


def is_empty(uow: UnitOfWork) -> bool:
    """True when there is no employee yet (a fresh database)."""
    return not uow.session.scalar(select(exists().where(Employee.id.isnot(None))))


def load(
    uow: UnitOfWork,
    *,
    tasks: int,
    seed: int,
    demo_mode: bool,
    report: Callable[[str], None] = lambda _m: None,
) -> DemoSummary:
    """Load everything in the caller's transaction; app passwords only in demo mode."""
    rng, fake = random.Random(seed), Faker("pl_PL")  # noqa: S311 - reproducible, not secret
    fake.seed_instance(seed)
    _directory(uow, demo_mode)
    report("employees, groups and registers loaded")
    customer_ids = _customers(uow, rng, fake, count=32)
    report(f"{len(customer_ids)} customers loaded")
    created = _tasks(uow, rng, customer_ids, tasks, report)
    return DemoSummary(
        employees=len(EMPLOYEES),
        registers=len(REGISTERS),
        customers=len(customer_ids),
        tasks=created,
        app_password=DEMO_APP_PASSWORD if demo_mode else None,
    )


def _directory(uow: UnitOfWork, demo_mode: bool) -> None:
    for slug, name in GROUPS:
        directory.add_group(uow, slug, name)
    for login, first, last, groups, admin, locale in EMPLOYEES:
        directory.add_employee(
            uow,
            login=login,
            first_name=first,
            last_name=last,
            email=f"{login}@firma.pl",
            mobile=f"+48 6{len(login)}{len(first)} {len(last) * 111 % 900 + 100} {len(login) * 97}",
            locale=locale,
            is_admin=admin,
            groups=groups,
        )
        if demo_mode:  # the same demo password opens CalDAV, the API and the web console
            directory.set_app_password(uow, login, label="demo", password=DEMO_APP_PASSWORD)
            console_sessions.set_password(uow, login, DEMO_APP_PASSWORD)
    for code, name, colour, assignee, inbound, default in REGISTERS:
        registers.add_register(
            uow,
            code=code,
            name=name,
            colour=colour,
            inbound_email=inbound,
            default_assignee=assignee,
            manager="admin",
            default_access=default,
        )
    registers.grant(uow, "SER", AccessLevel.EDIT, group="serwis")
    registers.grant(uow, "SER", AccessLevel.READ, login="tdabrowski")
    registers.grant(uow, "REK", AccessLevel.EDIT, group="reklamacje")
    registers.grant(uow, "REK", AccessLevel.EDIT, login="anowak")
    registers.grant(uow, "HAN", AccessLevel.EDIT, group="sprzedaz")
    custom_fields.define_field(
        uow, "REK", key="numer_partii", label="Numer partii", field_type=FieldType.TEXT
    )
    custom_fields.define_field(
        uow,
        "REK",
        key="wartosc_reklamacji",
        label="Wartość reklamacji",
        field_type=FieldType.NUMBER,
    )
    custom_fields.define_field(
        uow,
        "SER",
        key="typ_urzadzenia",
        label="Typ urządzenia",
        field_type=FieldType.CHOICE,
        choices=["kocioł", "pompa", "klima"],
    )


def _nip(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, _NIP_WEIGHTS, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _ascii_slug(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:30].strip("-")


def _customers(uow: UnitOfWork, rng: random.Random, fake: Faker, count: int) -> list[int]:
    kinds = (
        [CustomerKind.CLIENT] * 6
        + [CustomerKind.PROSPECT] * 3
        + [CustomerKind.PARTNER, CustomerKind.COMPETITOR]
    )
    owners = [e[0] for e in EMPLOYEES if "sprzedaz" in e[3]]
    ids: list[int] = []
    used: set[str] = set()
    while len(ids) < count:
        name = fake.company()
        domain = f"{_ascii_slug(name.split(' ')[0]) or 'firma'}.pl"
        if domain in used:
            continue
        used.add(domain)
        view = customers.add_customer(
            uow,
            name=name,
            kind=rng.choice(kinds),
            tax_id=_nip(rng),
            email=f"biuro@{domain}",
            phone=fake.phone_number(),
            city=fake.city(),
            owner=rng.choice(owners),
            domains=(domain,),
        )
        for _ in range(rng.randint(1, 3)):
            first, last = fake.first_name(), fake.last_name()
            customers.add_contact(
                uow,
                view.id,
                first_name=first,
                last_name=last,
                role=rng.choice(ROLES),
                email=f"{_ascii_slug(first)}.{_ascii_slug(last)}@{domain}",
                phone=fake.phone_number(),
            )
        ids.append(view.id)
    return ids


def _tasks(
    uow: UnitOfWork,
    rng: random.Random,
    customer_ids: list[int],
    count: int,
    report: Callable[[str], None],
) -> int:
    staff = {e.login: e for e in uow.session.scalars(select(Employee))}
    by_register = {
        "HAN": ["jkowalski", "anowak", "ebrown", "tdabrowski"],
        "REK": ["mzielinska", "anowak"],
        "WEW": ["admin", "tdabrowski", "mzielinska"],
        "SER": ["pwisniewski", "kwojcik"],
    }
    codes = {r.code: r.id for r in registers.list_registers(uow)}
    names = {c.id: c.name for c in customers.list_customers(uow)}
    example = count >= 2  # the hidden-parent example adds two tasks of the count
    created = 2 if example else 0
    while created < count:
        code = rng.choices(["HAN", "REK", "WEW", "SER"], weights=[4, 2, 2, 2])[0]
        owner = staff[rng.choice(by_register[code])]
        as_owner = uow.acting_as(actor_for(owner))
        customer_id = rng.choice(customer_ids) if code != "WEW" else None
        task = create_task(
            as_owner,
            register_id=codes[code],
            subject=_subject(rng, code, names.get(customer_id or 0, "klient")),
            responsible_id=owner.id,
            changes=_task_changes(uow, rng, code, customer_id),
        )
        created += 1
        _decorate(as_owner, rng, task.id, code, staff)
        if created < count and rng.random() < 0.15:
            for _ in range(rng.randint(1, min(3, count - created))):
                helper = staff[rng.choice(by_register[code])]
                add_subtask(
                    as_owner,
                    task.id,
                    subject=rng.choice(SUBTASKS),
                    responsible_id=helper.id,
                    changes=_dates(uow, rng, open_task=True),
                )
                created += 1
        if created % 100 < 1 or created == count:
            report(f"{created}/{count} tasks")
    if example:
        _hidden_parent_example(uow, staff, codes)
    return created


def _subject(rng: random.Random, code: str, customer: str) -> str:
    template = rng.choice(SUBJECTS[code])
    return template.format(
        product=rng.choice(PRODUCTS), device=rng.choice(DEVICES), customer=customer
    )


def _dates(uow: UnitOfWork, rng: random.Random, *, open_task: bool) -> TaskChanges:
    today = uow.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today + dt.timedelta(days=rng.randint(-45, 40))
    if rng.random() < 0.5:
        due = start + dt.timedelta(days=rng.randint(0, 14))
        return TaskChanges(planned_start=start, due=due, all_day=True)
    start = start + dt.timedelta(hours=rng.choice([7, 8, 9, 11, 13]))  # 8:00-14:00 in Warsaw
    due = start + dt.timedelta(hours=rng.choice([1, 2, 4, 26, 74]))
    if open_task:
        status = rng.choice([TaskStatus.NEW, TaskStatus.IN_PROGRESS])
        return TaskChanges(planned_start=start, due=due, all_day=False, status=status)
    return TaskChanges(planned_start=start, due=due, all_day=False)


def _task_changes(
    uow: UnitOfWork, rng: random.Random, code: str, customer_id: int | None
) -> TaskChanges:
    dates = _dates(uow, rng, open_task=False)
    status = rng.choices(list(TaskStatus), weights=[3, 3, 1, 3, 1])[0]
    opportunity = None
    if code == "HAN" and rng.random() < 0.6:
        opportunity = Opportunity(
            value=Decimal(rng.randrange(5_000, 500_000, 500)),
            probability=rng.choice([10, 25, 50, 75, 90]),
            # won and lost are where closed opportunities end, not stages of open ones
            stage=rng.choice(STAGES[3:] if status.is_closed else STAGES[:3]),
            expected_close=(uow.now() + dt.timedelta(days=rng.randint(-20, 120))).date(),
        )
    return TaskChanges(
        planned_start=dates.planned_start,
        due=dates.due,
        all_day=dates.all_day,
        status=status,
        priority=rng.choices(list(Priority), weights=[1, 4, 1])[0],
        customer_id=customer_id,
        description=rng.choice(NOTES),
        opportunity=opportunity,
    )


def _decorate(
    uow: UnitOfWork, rng: random.Random, task_id: int, code: str, staff: dict[str, Employee]
) -> None:
    for _ in range(rng.choices([0, 1, 2, 3], weights=[3, 4, 2, 1])[0]):
        items.add_note(uow, task_id, rng.choice(NOTES))
    if code == "HAN" and rng.random() < 0.3:
        items.add_document_link(
            uow,
            task_id,
            document_type="FV",
            document_number=f"FV/2026/{rng.randint(1, 9999):04d}",
            document_date=uow.now().date() - dt.timedelta(days=rng.randint(0, 90)),
            amount=Decimal(rng.randrange(100_000, 12_000_000)) / 100,
        )
    if code == "REK" and rng.random() < 0.5:
        custom_fields.set_values(uow, task_id, {"numer_partii": f"P-{rng.randint(1000, 9999)}"})
    if rng.random() < 0.05:
        delegation.delegate(uow, task_id, "tdabrowski", DelegationMode.WITH_HISTORY)


def _hidden_parent_example(
    uow: UnitOfWork, staff: dict[str, Employee], codes: dict[str, int]
) -> None:
    """A confidential sales case with a service sub-task delegated without its parent."""
    owner = uow.acting_as(actor_for(staff["jkowalski"]))
    parent = create_task(
        owner,
        register_id=codes["HAN"],
        subject="Przetarg poufny – negocjacje z zarządem",
        responsible_id=staff["jkowalski"].id,
        changes=TaskChanges(
            description="Warunki poufne: rabat do 18%, nie ujawniać serwisowi.",
            visibility=Visibility.PRIVATE,
        ),
    )
    sub = add_subtask(
        owner,
        parent.id,
        subject="Ocena techniczna instalacji u klienta",
        responsible_id=staff["jkowalski"].id,
    )
    delegation.delegate(owner, sub.id, "kwojcik", DelegationMode.HIDE_PARENT)
