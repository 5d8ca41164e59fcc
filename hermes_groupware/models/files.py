"""Metadata of content-addressed files; the bytes live on disk under ``[files] path``."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, intpk, utc_now


class StoredFile(Base):
    """One blob, named by its SHA-256; many task items may point at it."""

    __tablename__ = "stored_files"

    id: Mapped[intpk]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[utc_now]
