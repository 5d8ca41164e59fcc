"""Typed models, one module per aggregate; tables only, queries live in the services."""

from hermes_groupware.models.api_token import ApiToken
from hermes_groupware.models.audit import AuditEntry
from hermes_groupware.models.calendar import CalendarObject, CalendarState, LoginFailure
from hermes_groupware.models.console import ConsolePassword, ConsoleSession
from hermes_groupware.models.custom_field import CustomFieldDefinition, CustomFieldValue
from hermes_groupware.models.customer import ContactPerson, Customer, CustomerDomain
from hermes_groupware.models.employee import AppPassword, Employee, Group, group_members
from hermes_groupware.models.feed import Feed, FeedToken, feed_registers
from hermes_groupware.models.files import StoredFile
from hermes_groupware.models.journal import (
    ChangeContext,
    ChangeJournal,
    JournalCounter,
    TaskHistory,
)
from hermes_groupware.models.lease import Lease
from hermes_groupware.models.mail import (
    InboundMessage,
    MailAcknowledgement,
    MailAddressState,
    MailThreadEntry,
    OutboundMessage,
)
from hermes_groupware.models.notification import (
    EmployeeAbsence,
    NotificationCursor,
    NotificationFiring,
    NotificationRule,
)
from hermes_groupware.models.register import Register, RegisterCounter, RegisterPermission
from hermes_groupware.models.reminder import TaskReminder, TaskReminderFiring
from hermes_groupware.models.report import (
    ReportRecipient,
    ReportRun,
    ReportSchedule,
    ReportUnsubscription,
    SavedView,
    saved_view_groups,
)
from hermes_groupware.models.task import Task
from hermes_groupware.models.task_item import TaskItem

__all__ = [
    "ApiToken",
    "AppPassword",
    "AuditEntry",
    "CalendarObject",
    "CalendarState",
    "ChangeContext",
    "ChangeJournal",
    "ConsolePassword",
    "ConsoleSession",
    "ContactPerson",
    "CustomFieldDefinition",
    "CustomFieldValue",
    "Customer",
    "CustomerDomain",
    "Employee",
    "EmployeeAbsence",
    "Feed",
    "FeedToken",
    "Group",
    "InboundMessage",
    "JournalCounter",
    "Lease",
    "LoginFailure",
    "MailAcknowledgement",
    "MailAddressState",
    "MailThreadEntry",
    "NotificationCursor",
    "NotificationFiring",
    "NotificationRule",
    "OutboundMessage",
    "Register",
    "RegisterCounter",
    "RegisterPermission",
    "ReportRecipient",
    "ReportRun",
    "ReportSchedule",
    "ReportUnsubscription",
    "SavedView",
    "StoredFile",
    "Task",
    "TaskHistory",
    "TaskItem",
    "TaskReminder",
    "TaskReminderFiring",
    "feed_registers",
    "group_members",
    "saved_view_groups",
]
