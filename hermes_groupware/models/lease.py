"""Named leases: one holder at a time across instances, taken over once it expires."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base
from hermes_groupware.db.types import UTCDateTime


class Lease(Base):
    """Who may do a singleton job (``imap:<account>``) and until when.

    The row outlives its holders: a release only ends ``expires_at``, so
    ``last_success_at`` (the job's last good run, for ``/metrics``) is kept across takeovers.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: ``host:pid:uuid`` of the process that holds or last held the lease
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
