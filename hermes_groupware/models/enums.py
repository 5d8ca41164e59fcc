"""Closed value sets, stored as text so that plain SQL from the desktop application can use them."""

from __future__ import annotations

import enum


class Locale(enum.StrEnum):
    """Language of everything a person reads."""

    PL = "pl"
    EN = "en"


class TaskStatus(enum.StrEnum):
    """Task lifecycle; ``done`` and ``cancelled`` are closed."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        """Closed tasks are never overdue and are what handover leaves behind."""
        return self in (TaskStatus.DONE, TaskStatus.CANCELLED)


OPEN_STATUSES = tuple(s for s in TaskStatus if not s.is_closed)


class Priority(enum.StrEnum):
    """Three levels, like iCalendar's 1/5/9."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Visibility(enum.StrEnum):
    """``private``: only the people on the task and admins see it."""

    NORMAL = "normal"
    PRIVATE = "private"


class CustomerKind(enum.StrEnum):
    """Kontrahent kinds from the seed."""

    CLIENT = "client"
    PROSPECT = "prospect"
    PARTNER = "partner"
    COMPETITOR = "competitor"


class AccessLevel(enum.StrEnum):
    """Register access, ordered: each level includes the ones before it."""

    NONE = "none"
    READ = "read"
    EDIT = "edit"

    @property
    def rank(self) -> int:
        """Comparable strength of the level."""
        return list(AccessLevel).index(self)


class ItemKind(enum.StrEnum):
    """Task items (pozycje) from the seed."""

    NOTE = "note"
    FILE = "file"
    DOCUMENT = "document"
    DELEGATION = "delegation"


class DelegationMode(enum.StrEnum):
    """Whole task with its history, or a sub-task that does not reveal its parent."""

    WITH_HISTORY = "with_history"
    HIDE_PARENT = "hide_parent"


class FieldType(enum.StrEnum):
    """Custom field (cecha) value types."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class Source(enum.StrEnum):
    """Where a change came from; ``database`` is anything that did not say (plain SQL)."""

    CLI = "cli"
    API = "api"
    CALDAV = "caldav"
    EMAIL = "email"
    DATABASE = "database"
    EXTERNAL = "external"
    SYSTEM = "system"


class FeedScope(enum.StrEnum):
    """What a subscription feed is about."""

    EMPLOYEE = "employee"
    GROUP = "group"
    REGISTERS = "registers"
    CUSTOMER = "customer"
    VIEW = "view"


class FeedProfile(enum.StrEnum):
    """How tasks become calendar components (Outlook and Google ignore VTODO in feeds)."""

    VTODO = "vtodo"
    EVENT_DUE = "event-due"
    EVENT_SPAN = "event-span"
    BOTH = "both"


class Redaction(enum.StrEnum):
    """How much of a task a feed shows."""

    FULL = "full"
    NO_NOTES = "no-notes"
    BUSY = "busy"


class MailChannel(enum.StrEnum):
    """How an inbound message reached us."""

    SMTP = "smtp"
    LMTP = "lmtp"
    IMAP = "imap"
    PIPE = "pipe"


class InboundStatus(enum.StrEnum):
    """Where an inbound message stands; only ``received`` still needs processing."""

    RECEIVED = "received"
    POSTED = "posted"
    SYSTEM = "system"
    QUARANTINED = "quarantined"


class OutboundStatus(enum.StrEnum):
    """Outbox states; ``dead`` needs an admin."""

    QUEUED = "queued"
    SENT = "sent"
    DEAD = "dead"


class MailDirection(enum.StrEnum):
    """Whether a Message-ID on a task was sent by us or received."""

    SENT = "sent"
    RECEIVED = "received"


class NotificationEvent(enum.StrEnum):
    """What a notification rule reacts to; the last two are evaluated by time, not by change."""

    TASK_CREATED = "task-created"
    ASSIGNED = "assigned"
    DELEGATED = "delegated"
    STATUS_CHANGED = "status-changed"
    DUE_CHANGED = "due-changed"
    MAIL_NOTE = "mail-note"
    FILE_ADDED = "file-added"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"

    @property
    def is_timed(self) -> bool:
        """Evaluated by the periodic job rather than from the journal."""
        return self in (NotificationEvent.DUE_SOON, NotificationEvent.OVERDUE)


class NotificationChannel(enum.StrEnum):
    """How a notification reaches people (pop-ups are calendar alarms, not a rule channel)."""

    EMAIL = "email"
    SMS = "sms"


class ViewAudience(enum.StrEnum):
    """Who may use a saved view besides its owner (admins always may)."""

    PRIVATE = "private"
    GROUPS = "groups"
    EVERYONE = "everyone"


class ReportKind(enum.StrEnum):
    """The report modules a schedule can send (``view``: the rows of a saved view)."""

    OVERDUE = "overdue"
    PIPELINE = "pipeline"
    ACTIVITY = "activity"
    COMPLAINTS = "complaints"
    AGENDA = "agenda"
    TURNOVER = "turnover"
    VIEW = "view"


class ReportFormat(enum.StrEnum):
    """How a report travels: the mail body (always) and attachments."""

    HTML = "html"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


class ReportRunStatus(enum.StrEnum):
    """A run's life: claimed, rendered into the outbox (``sent``), or why not."""

    QUEUED = "queued"
    RENDERING = "rendering"
    SENT = "sent"
    EMPTY = "empty"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"


class AuditSource(enum.StrEnum):
    """Which surface an audited admin action came through."""

    CLI = "cli"
    API = "api"
    CONSOLE = "console"
    CALDAV = "caldav"
