"""Initial schema: every table, the journal counter row and the journal triggers.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 23:59:49.071687
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hermes_groupware.db import triggers

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_context",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_context")),
    )
    op.create_table(
        "change_journal",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=6), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=True),
        sa.Column("old_register_id", sa.Integer(), nullable=True),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("old_responsible_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_journal")),
    )
    with op.batch_alter_table("change_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_journal_task_id"), ["task_id"], unique=False)

    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column(
            "locale",
            sa.Enum("pl", "en", name="locale", native_enum=False, create_constraint=True),
            server_default="pl",
            nullable=False,
        ),
        sa.Column(
            "time_zone", sa.String(length=64), server_default="Europe/Warsaw", nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("substitute_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["substitute_id"], ["employees.id"], name=op.f("fk_employees_substitute_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("email", name=op.f("uq_employees_email")),
        sa.UniqueConstraint("login", name=op.f("uq_employees_login")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("slug", name=op.f("uq_groups_slug")),
    )
    op.create_table(
        "journal_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_counter")),
    )
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_stored_files_sha256")),
    )
    op.create_table(
        "task_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_history")),
    )
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_history_task_id"), ["task_id"], unique=False)

    op.create_table(
        "app_passwords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_app_passwords_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_passwords")),
    )
    with op.batch_alter_table("app_passwords", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_passwords_employee_id"), ["employee_id"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "client",
                "prospect",
                "partner",
                "competitor",
                name="customerkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="client",
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("tax_id", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["employees.id"], name=op.f("fk_customers_owner_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("tax_id", name=op.f("uq_customers_tax_id")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_group_members_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "employee_id", name=op.f("pk_group_members")),
    )
    op.create_table(
        "registers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("inbound_email", sa.String(length=254), nullable=True),
        sa.Column("default_assignee_id", sa.Integer(), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column(
            "default_access",
            sa.Enum(
                "none",
                "read",
                "edit",
                name="accesslevel",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            server_default="read",
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_assignee_id"],
            ["employees.id"],
            name=op.f("fk_registers_default_assignee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["employees.id"], name=op.f("fk_registers_manager_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registers")),
        sa.UniqueConstraint("code", name=op.f("uq_registers_code")),
        sa.UniqueConstraint("inbound_email", name=op.f("uq_registers_inbound_email")),
    )
    op.create_table(
        "contact_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contact_persons_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_persons")),
    )
    with op.batch_alter_table("contact_persons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_persons_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contact_persons_email"), ["email"], unique=False)

    op.create_table(
        "custom_field_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "field_type",
            sa.Enum(
                "text",
                "number",
                "date",
                "boolean",
                "choice",
                name="fieldtype",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["register_id"],
            ["registers.id"],
            name=op.f("fk_custom_field_definitions_register_id_registers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_definitions")),
        sa.UniqueConstraint(
            "register_id", "key", name=op.f("uq_custom_field_definitions_register_id")
        ),
    )
    op.create_table(
        "customer_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_domains_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_customer_domains_domain")),
    )
    with op.batch_alter_table("customer_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_domains_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "register_counters",
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["register_id"],
            ["registers.id"],
            name=op.f("fk_register_counters_register_id_registers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("register_id", "year", name=op.f("pk_register_counters")),
    )
    op.create_table(
        "register_permissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column(
            "level",
            sa.Enum(
                "none",
                "read",
                "edit",
                name="accesslevel",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(employee_id IS NULL) <> (group_id IS NULL)",
            name=op.f("ck_register_permissions_employee_xor_group"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_register_permissions_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_register_permissions_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["register_id"],
            ["registers.id"],
            name=op.f("fk_register_permissions_register_id_registers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_permissions")),
        sa.UniqueConstraint(
            "register_id",
            "employee_id",
            "group_id",
            name=op.f("uq_register_permissions_register_id"),
        ),
    )
    with op.batch_alter_table("register_permissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_register_permissions_register_id"), ["register_id"], unique=False
        )

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "in_progress",
                "waiting",
                "done",
                "cancelled",
                name="taskstatus",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="new",
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "high",
                "normal",
                "low",
                name="priority",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            server_default="normal",
            nullable=False,
        ),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("all_day", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responsible_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "visibility",
            sa.Enum(
                "normal",
                "private",
                name="visibility",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            server_default="normal",
            nullable=False,
        ),
        sa.Column("recurrence", sa.String(length=500), nullable=True),
        sa.Column("opportunity_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("opportunity_probability", sa.Integer(), nullable=True),
        sa.Column("opportunity_stage", sa.String(length=50), nullable=True),
        sa.Column("opportunity_expected_close", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "opportunity_probability IS NULL OR (opportunity_probability >= 0 AND opportunity_probability <= 100)",
            name=op.f("ck_tasks_probability_range"),
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_tasks_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact_persons.id"], name=op.f("fk_tasks_contact_id_contact_persons")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["employees.id"], name=op.f("fk_tasks_creator_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_tasks_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["tasks.id"], name=op.f("fk_tasks_parent_id_tasks")),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_tasks_register_id_registers")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"], ["employees.id"], name=op.f("fk_tasks_responsible_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("number", name=op.f("uq_tasks_number")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_tasks_open_due", ["status", "due"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_register_id"), ["register_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tasks_responsible_id"), ["responsible_id"], unique=False
        )

    op.create_table(
        "custom_field_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_number", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["custom_field_definitions.id"],
            name=op.f("fk_custom_field_values_field_id_custom_field_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_custom_field_values_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_values")),
        sa.UniqueConstraint("task_id", "field_id", name=op.f("uq_custom_field_values_task_id")),
    )
    with op.batch_alter_table("custom_field_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custom_field_values_task_id"), ["task_id"], unique=False
        )

    op.create_table(
        "task_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "note",
                "file",
                "document",
                "delegation",
                name="itemkind",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "cli",
                "api",
                "caldav",
                "email",
                "database",
                "external",
                "system",
                name="source",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            server_default="database",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("document_type", sa.String(length=40), nullable=True),
        sa.Column("document_number", sa.String(length=60), nullable=True),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("document_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("delegate_id", sa.Integer(), nullable=True),
        sa.Column(
            "delegation_mode",
            sa.Enum(
                "with_history",
                "hide_parent",
                name="delegationmode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind <> 'delegation' OR (delegate_id IS NOT NULL AND delegation_mode IS NOT NULL)",
            name=op.f("ck_task_items_delegation_has_delegate"),
        ),
        sa.CheckConstraint(
            "kind <> 'document' OR document_number IS NOT NULL",
            name=op.f("ck_task_items_document_has_number"),
        ),
        sa.CheckConstraint(
            "kind <> 'file' OR file_id IS NOT NULL", name=op.f("ck_task_items_file_has_blob")
        ),
        sa.CheckConstraint(
            "kind <> 'note' OR body IS NOT NULL", name=op.f("ck_task_items_note_has_body")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["employees.id"], name=op.f("fk_task_items_author_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"], ["employees.id"], name=op.f("fk_task_items_delegate_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["stored_files.id"], name=op.f("fk_task_items_file_id_stored_files")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_items_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_items")),
    )
    with op.batch_alter_table("task_items", schema=None) as batch_op:
        batch_op.create_index("ix_task_items_delegate", ["delegate_id", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_items_task_id"), ["task_id"], unique=False)
    op.execute(sa.text("INSERT INTO journal_counter (id, last_seq) VALUES (1, 0)"))
    for statement in triggers.create_statements(
        op.get_bind().dialect.name, triggers.JOURNALED_BEFORE_0006
    ):
        op.execute(sa.text(statement))


def downgrade() -> None:
    for statement in triggers.drop_statements(
        op.get_bind().dialect.name, triggers.JOURNALED_BEFORE_0006
    ):
        op.execute(sa.text(statement))
    with op.batch_alter_table("task_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_items_task_id"))
        batch_op.drop_index("ix_task_items_delegate")

    op.drop_table("task_items")
    with op.batch_alter_table("custom_field_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_field_values_task_id"))

    op.drop_table("custom_field_values")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_responsible_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_register_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_parent_id"))
        batch_op.drop_index("ix_tasks_open_due")
        batch_op.drop_index(batch_op.f("ix_tasks_customer_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("register_permissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_permissions_register_id"))

    op.drop_table("register_permissions")
    op.drop_table("register_counters")
    with op.batch_alter_table("customer_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_domains_customer_id"))

    op.drop_table("customer_domains")
    op.drop_table("custom_field_definitions")
    with op.batch_alter_table("contact_persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_persons_email"))
        batch_op.drop_index(batch_op.f("ix_contact_persons_customer_id"))

    op.drop_table("contact_persons")
    op.drop_table("registers")
    op.drop_table("group_members")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_owner_id"))

    op.drop_table("customers")
    with op.batch_alter_table("app_passwords", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_passwords_employee_id"))

    op.drop_table("app_passwords")
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_history_task_id"))

    op.drop_table("task_history")
    op.drop_table("stored_files")
    op.drop_table("journal_counter")
    op.drop_table("groups")
    op.drop_table("employees")
    with op.batch_alter_table("change_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_journal_task_id"))

    op.drop_table("change_journal")
    op.drop_table("change_context")
