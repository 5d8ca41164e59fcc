"""``backup`` and ``restore`` of the embedded SQLite database and the file store."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from hermes_groupware import backup
from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, progress
from hermes_groupware.errors import InvalidInput

BACKUP_EPILOG = """\
The database is copied with SQLite's online backup API, so the server may keep running and
writing. The archive (gzip tar, mode 0600) holds hermes.db, the [files] path blobs and
manifest.json (schema revision, created_at, size and SHA-256 of every member). It does not
hold config.toml or secrets. PostgreSQL: use pg_dump -Fc and copy the file store, see
docs/operations-backup.md.

examples:
  hermes-groupware backup /srv/backup/                   # hermes-backup-<UTC time>.tar.gz there
  hermes-groupware backup /srv/backup/before-upgrade.tar.gz --json
"""

RESTORE_EPILOG = """\
Restores into the database and [files] path of the current configuration. Stop every server
on them first. Every member is checked against the manifest before anything changes; a backup
of a newer schema than this version knows is refused; an older one needs `db upgrade` after.

Calendar clients resync once after a restore (a new sync epoch): those that synced after the
backup was taken would otherwise miss changes. --keep-sync-tokens keeps the tokens, for a
backup known to be the newest state (a stopped server moved to another machine).

examples:
  hermes-groupware restore /srv/backup/hermes-backup-20261127T080000Z.tar.gz
  HERMES_CONFIG=/etc/hermes/test.toml hermes-groupware restore nightly.tar.gz --force --json
  hermes-groupware restore moved-from-old-host.tar.gz --keep-sync-tokens
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    take = commands.add_parser(
        "backup",
        help="archive the SQLite database and the file store (online, while serving)",
        description="Archive the SQLite database and the file store into one .tar.gz file.",
        epilog=BACKUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    take.add_argument("dest", metavar="DEST", help="archive file to create, or a directory")
    take.add_argument("--json", action="store_true", help="machine-readable summary")
    take.set_defaults(handler=_backup)

    back = commands.add_parser(
        "restore",
        help="replace the SQLite database and the file store with a backup",
        description="Check a backup archive, then put its database and files in place.",
        epilog=RESTORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    back.add_argument("src", metavar="SRC", help="archive made by `hermes-groupware backup`")
    back.add_argument(
        "--force", action="store_true", help="replace a database or file store that is not empty"
    )
    back.add_argument(
        "--keep-sync-tokens",
        action="store_true",
        help="let clients continue from their sync tokens (only for the newest state)",
    )
    back.add_argument("--json", action="store_true", help="machine-readable summary")
    back.set_defaults(handler=_restore)


def _refuse_as(ctx: CommandContext) -> None:
    if ctx.args.as_login:
        raise InvalidInput("--as", "backup and restore work on the files, not as an employee")


def _backup(ctx: CommandContext, args: argparse.Namespace) -> int:
    _refuse_as(ctx)
    now = dt.datetime.now(dt.UTC)
    result = backup.backup(ctx.settings, Path(args.dest), now=now, report=progress)
    if args.json:
        print_json(
            {
                "archive": result.archive,
                "archive_bytes": result.archive_bytes,
                "manifest": backup.manifest_summary(result.manifest),
                "missing_files": list(result.missing_files),
            }
        )
    else:
        summary = backup.manifest_summary(result.manifest)
        print(
            f"{result.archive}: {result.archive_bytes} bytes; database at revision "
            f"{summary['schema_revision']}, {summary['files']} files ({summary['files_bytes']} "
            "bytes)"
        )
    return 0


def _restore(ctx: CommandContext, args: argparse.Namespace) -> int:
    _refuse_as(ctx)
    result = backup.restore(
        ctx.settings,
        Path(args.src),
        force=args.force,
        keep_sync_tokens=args.keep_sync_tokens,
        report=progress,
    )
    if args.json:
        print_json(
            {
                "database": result.database,
                "files_path": result.files_path,
                "manifest": backup.manifest_summary(result.manifest),
                "upgrade_needed": result.upgrade_needed,
                "sync_tokens_kept": result.sync_tokens_kept,
            }
        )
    else:
        print(
            f"restored {result.database} and {result.files_path} from the backup of "
            f"{result.manifest.created_at}"
        )
    if result.upgrade_needed:
        progress("the backup's schema is older than this version: run hermes-groupware db upgrade")
    return 0
