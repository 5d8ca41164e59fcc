"""The ERP documents behind the turnover report, each counted once.

A document (an invoice ``FV/2026/0042``) may be linked to several tasks; it counts once, under
the customer of the first link the reader may see. A document without a currency is taken as
PLN, the ERP's home currency (it is also the default when a link is added).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hermes_groupware.models import Customer, Task, TaskItem
from hermes_groupware.models.enums import CustomerKind, ItemKind
from reports.model import ReportContext

HOME_CURRENCY = "PLN"


@dataclass(frozen=True)
class Document:
    """One ERP document with an amount, and the customer it is booked to (None: no customer)."""

    customer_id: int | None
    customer: str | None
    day: dt.date
    amount: Decimal
    currency: str


def documents(
    ctx: ReportContext,
    *,
    first: dt.date,
    last: dt.date,
    types: list[str],
    customer_kind: CustomerKind | None,
) -> list[Document]:
    """The distinct documents dated ``first``..``last`` on tasks the reader may see."""
    query = (
        select(
            TaskItem.document_type,
            TaskItem.document_number,
            TaskItem.document_date,
            TaskItem.document_amount,
            TaskItem.currency,
            Task.customer_id,
            Customer.name,
        )
        .join(Task, TaskItem.task_id == Task.id)
        .outerjoin(Customer, Task.customer_id == Customer.id)
        .where(
            ctx.scope,
            TaskItem.kind == ItemKind.DOCUMENT,
            TaskItem.document_type.in_(types),
            TaskItem.document_amount.is_not(None),
            TaskItem.document_date >= first,
            TaskItem.document_date <= last,
        )
        .order_by(TaskItem.id)
    )
    if customer_kind is not None:
        query = query.where(Customer.kind == customer_kind)
    rows: Iterable[Any] = ctx.uow.session.execute(query)  # date and amount are never NULL here
    seen: set[tuple[str, str]] = set()
    found = []
    for doc_type, number, day, amount, currency, customer_id, name in rows:
        if (doc_type, number) not in seen:
            seen.add((doc_type, number))
            found.append(Document(customer_id, name, day, amount, currency or HOME_CURRENCY))
    return found
