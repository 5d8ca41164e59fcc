"""What every command gets: settings, the database and the acting user."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from hermes_groupware.bootstrap import database_from_settings
from hermes_groupware.config import Settings, load_settings
from hermes_groupware.db import migrate
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.errors import PermissionDenied
from hermes_groupware.models.enums import Source
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login


class CommandContext:
    """Loaded lazily, so ``--help`` works without a config file or a database."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @cached_property
    def settings(self) -> Settings:
        """Validated settings (ConfigError -> exit 2 in the CLI's error translator)."""
        return load_settings(self.args.config)

    @cached_property
    def database(self) -> Database:
        """The database of these settings."""
        return database_from_settings(self.settings)

    @cached_property
    def current_database(self) -> Database:
        """The database, after checking that its schema is the one this code expects."""
        migrate.require_current(self.database.engine)
        return self.database

    @cached_property
    def actor(self) -> Actor:
        """``--as LOGIN`` acts as that employee with their rights; otherwise the admin CLI."""
        login = self.args.as_login
        if not login:
            return Actor.system("cli")
        system = Actor.system("cli")
        with self.current_database.unit_of_work(system, Source.CLI, read_only=True) as uow:
            employee = employee_by_login(uow.session, login, field="--as")
            if not employee.is_active:
                raise PermissionDenied(f"{login} is not active")
            return actor_for(employee)

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[UnitOfWork]:
        """One transaction for the command, with source ``cli``."""
        database = self.current_database
        with database.unit_of_work(self.actor, Source.CLI, read_only=read_only) as uow:
            yield uow
