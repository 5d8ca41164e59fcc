"""Notes, files (content-addressed, stored once) and ERP document links."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.filestore import chunks_of
from hermes_groupware.models import StoredFile
from hermes_groupware.services import items
from hermes_groupware.services.task_views import task_detail
from tests.factories import Factory


def test_note_records_author_and_source(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee()
    task = make.task(make.register(), rep)
    note = items.add_note(make.as_(rep), task.id, "  Rozmowa z klientem: zamówi w piątek.  ")
    assert (note.body, note.author_id, note.source) == (
        "Rozmowa z klientem: zamówi w piątek.",
        rep.id,
        "cli",
    )
    with pytest.raises(InvalidInput):
        items.add_note(uow, task.id, "   ")


def test_same_file_twice_is_stored_once(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee()
    reg = make.register()
    first, second = make.task(reg, rep), make.task(reg, rep)
    logo = b"\x89PNG" + bytes(range(256)) * 10
    a = items.add_file(
        uow, first.id, filename="logo.png", content_type="image/png", chunks=chunks_of(logo)
    )
    b = items.add_file(
        uow, second.id, filename="logo.png", content_type="image/png", chunks=chunks_of(logo)
    )
    assert a.file_id == b.file_id
    assert uow.session.scalar(select(func.count()).select_from(StoredFile)) == 1
    blob = uow.session.get_one(StoredFile, a.file_id)
    assert uow.files.read(blob.sha256) == logo
    assert task_detail(uow, first.id).files[0].size == len(logo)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jan\\oferta.pdf", "oferta.pdf"),
        ("faktura\u202egpj.exe", "fakturagpj.exe"),
        ("zażółć gęślą jaźń.docx", "zażółć gęślą jaźń.docx"),
        ("...", "attachment"),
    ],
)
def test_file_names_are_made_safe(given: str, stored: str) -> None:
    assert items.safe_filename(given) == stored


def test_files_over_the_limit_are_refused(uow: UnitOfWork, make: Factory) -> None:
    task = make.task(make.register(), make.employee())
    with pytest.raises(InvalidInput, match="limit"):
        items.add_file(
            uow,
            task.id,
            filename="big.bin",
            content_type="",
            chunks=chunks_of(b"x" * (uow.files.max_bytes + 1)),
        )
    assert not list(uow.files.root.glob("??/??/*"))


def test_document_link(uow: UnitOfWork, make: Factory) -> None:
    task = make.task(make.register(), make.employee())
    items.add_document_link(
        uow,
        task.id,
        document_type="FV",
        document_number="FV/2026/0042",
        document_date=dt.date(2026, 11, 2),
        amount=Decimal("1230.50"),
    )
    (doc,) = task_detail(uow, task.id).documents
    assert (doc.document, doc.amount, doc.currency) == (
        "FV FV/2026/0042",
        Decimal("1230.50"),
        "PLN",
    )
    with pytest.raises(InvalidInput, match="currency"):
        items.add_document_link(
            uow, task.id, document_type="FV", document_number="1", currency="zł"
        )
