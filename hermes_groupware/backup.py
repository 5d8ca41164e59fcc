"""Backup and restore of the embedded SQLite database and the file store, as one archive.

A running server keeps writing, so the database is copied with SQLite's online backup API: one
step, one read transaction, a consistent snapshot while writers go on (WAL). The file store is
copied *after* the snapshot: a blob is on disk before the transaction that references it
commits (``filestore.py``), so every blob the snapshot references is there by then; blobs of
later transactions come along unreferenced, which is harmless.

The archive is a gzip tar: ``hermes.db``, ``files/ab/cd/<sha256>`` and ``manifest.json`` last,
whose checksums are computed while the other members are written (each byte is read once).
Restore unpacks next to the targets, checks every checksum and the schema revision, and only
then renames into place. PostgreSQL has its own tools (docs/operations-backup.md).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import make_url

from hermes_groupware import __version__
from hermes_groupware.config import Settings
from hermes_groupware.db.migrate import MIGRATIONS
from hermes_groupware.errors import InvalidInput

FORMAT = "hermes-groupware-backup/1"
DB_MEMBER = "hermes.db"
MANIFEST_MEMBER = "manifest.json"
BLOB_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")
PROGRESS_EVERY = 1000  # files between progress lines
CHUNK = 1024 * 1024
POSTGRESQL_HINT = (
    "backup and restore handle the embedded SQLite database; for PostgreSQL use pg_dump -Fc "
    "and pg_restore plus a copy of the [files] path directory (docs/operations-backup.md)"
)

Report = Callable[[str], None]


@dataclass(frozen=True)
class Entry:
    """One archive member's name, size and SHA-256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What the archive holds; restore trusts nothing it cannot check against this."""

    format: str
    created_at: str
    hermes_version: str
    schema_revision: str
    database: Entry
    files: tuple[Entry, ...]

    def to_json(self) -> bytes:
        """The ``manifest.json`` member."""
        data = {
            "format": self.format,
            "created_at": self.created_at,
            "hermes_version": self.hermes_version,
            "schema_revision": self.schema_revision,
            "database": vars(self.database),
            "files": [vars(entry) for entry in self.files],
            "files_bytes": sum(entry.size for entry in self.files),
        }
        return json.dumps(data, indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse ``manifest.json``; raises InvalidInput when it is not one of ours."""
        try:
            data = json.loads(raw)
            if data["format"] != FORMAT:
                raise InvalidInput("SRC", f"unknown backup format {data['format']!r}")
            return cls(
                format=data["format"],
                created_at=str(data["created_at"]),
                hermes_version=str(data["hermes_version"]),
                schema_revision=str(data["schema_revision"]),
                database=Entry(**data["database"]),
                files=tuple(Entry(**entry) for entry in data["files"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("SRC", f"damaged archive: unreadable manifest.json ({exc})") from exc


@dataclass(frozen=True)
class BackupResult:
    """Where the archive went and what it holds."""

    archive: str
    archive_bytes: int
    manifest: Manifest
    missing_files: tuple[str, ...]


@dataclass(frozen=True)
class RestoreResult:
    """What was restored where."""

    database: str
    files_path: str
    manifest: Manifest
    upgrade_needed: bool
    sync_tokens_kept: bool


def database_file(settings: Settings) -> Path:
    """The SQLite file of ``[database] url``; raises InvalidInput for any other database."""
    url = make_url(settings.database.url)
    if url.get_backend_name() != "sqlite":
        raise InvalidInput("[database] url", POSTGRESQL_HINT)
    if not url.database or url.database == ":memory:":
        raise InvalidInput("[database] url", "an in-memory database cannot be backed up")
    path = Path(url.database)
    return (path if path.is_absolute() else settings.base_dir / path).resolve()


def archive_path(dest: Path, now: dt.datetime) -> Path:
    """DEST itself, or a time-stamped name inside DEST when it is a directory."""
    if dest.is_dir():
        return dest / f"hermes-backup-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    return dest


def backup(settings: Settings, dest: Path, *, now: dt.datetime, report: Report) -> BackupResult:
    """Write a consistent archive of the database and the file store; never overwrites."""
    db_path, files_root = database_file(settings), settings.files_path
    if not db_path.is_file():
        raise InvalidInput("[database] url", f"{db_path} does not exist")
    archive = archive_path(dest, now)
    if archive.exists():
        raise InvalidInput("DEST", f"{archive} already exists; give a new name or a directory")
    if not archive.parent.is_dir():
        raise InvalidInput("DEST", f"directory {archive.parent} does not exist")
    timeout = settings.database.busy_timeout_ms / 1000
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".hermes-backup-") as work:
        snapshot = Path(work) / DB_MEMBER
        report(f"backup: copying the database {db_path}")
        _snapshot(db_path, snapshot, timeout)
        revision, referenced = _snapshot_facts(snapshot)
        with _partial_file(archive) as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
            database = _add_file(tar, DB_MEMBER, snapshot)
            files = _add_store(tar, files_root, report)
            manifest = Manifest(
                format=FORMAT,
                created_at=now.astimezone(dt.UTC).isoformat(),
                hermes_version=__version__,
                schema_revision=revision,
                database=database,
                files=files,
            )
            _add_bytes(tar, MANIFEST_MEMBER, manifest.to_json())
    stored = {entry.name.rsplit("/", 1)[1] for entry in files}
    missing = tuple(sorted(referenced - stored))
    if missing:
        report(f"backup: warning: {len(missing)} referenced files are missing from {files_root}")
    report(f"backup: wrote {archive} ({len(files)} files)")
    return BackupResult(str(archive), archive.stat().st_size, manifest, missing)


def _snapshot(source: Path, target: Path, timeout: float) -> None:
    """Online backup in one step (a stepwise copy restarts on every concurrent write)."""
    with (
        closing(sqlite3.connect(source, timeout=timeout)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it


def _snapshot_facts(snapshot: Path) -> tuple[str, set[str]]:
    """The snapshot's schema revision and the blobs it references."""
    with closing(sqlite3.connect(snapshot)) as conn:
        try:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            referenced = {row[0] for row in conn.execute("SELECT sha256 FROM stored_files")}
        except sqlite3.OperationalError as exc:
            raise InvalidInput(
                "[database] url", f"the database has no Hermes schema ({exc}); nothing to back up"
            ) from exc
    if revision is None:
        raise InvalidInput("[database] url", "the database has no schema revision")
    return str(revision[0]), referenced


@contextmanager
def _partial_file(archive: Path) -> Iterator[IO[bytes]]:
    """A 0600 temporary file renamed to ``archive`` once complete and synced (the archive
    holds password hashes and everyone's tasks)."""
    fd, partial = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, archive)
    finally:
        Path(partial).unlink(missing_ok=True)


class _HashingReader:
    """Feeds a file to tarfile while hashing it, so nothing is read twice."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> Entry:
    info = tarfile.TarInfo(name)
    with path.open("rb") as raw:
        info.size = os.fstat(raw.fileno()).st_size
        info.mtime, info.mode = int(path.stat().st_mtime), 0o600
        reader = _HashingReader(raw)
        tar.addfile(info, reader)  # tarfile only calls read()
    return Entry(name=name, size=reader.size, sha256=reader.digest.hexdigest())


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    with tempfile.SpooledTemporaryFile() as buffer:
        buffer.write(data)
        buffer.seek(0)
        tar.addfile(info, buffer)


def _add_store(tar: tarfile.TarFile, root: Path, report: Report) -> tuple[Entry, ...]:
    """Every blob of the store (temporary ``.incoming-*`` files are not blobs)."""
    blobs = sorted(p for p in root.glob("??/??/*") if BLOB_MEMBER.fullmatch(_member(root, p)))
    if len(blobs) >= PROGRESS_EVERY:
        report(f"backup: {len(blobs)} files to copy from {root}")
    entries: list[Entry] = []
    done_bytes = 0
    for count, path in enumerate(blobs, start=1):
        entries.append(_add_file(tar, _member(root, path), path))
        done_bytes += entries[-1].size
        if count % PROGRESS_EVERY == 0:
            report(f"backup: {count}/{len(blobs)} files, {done_bytes / 1e6:.1f} MB")
    return tuple(entries)


def _member(root: Path, path: Path) -> str:
    return "files/" + path.relative_to(root).as_posix()


def restore(
    settings: Settings, src: Path, *, force: bool, keep_sync_tokens: bool, report: Report
) -> RestoreResult:
    """Replace the database and the file store with the archive's, after checking all of it.

    Unless ``keep_sync_tokens``, the calendar sync epoch is renewed: clients that synced after
    the backup hold tokens whose numbers the restored database will hand out again for other
    changes, and would silently miss those; a new epoch makes each client resync once (object
    ETags stay, so only changed objects are fetched).

    Raises InvalidInput when a target is not empty and ``force`` is off, when the archive is
    damaged, or when its schema is newer than this code; then nothing has changed.
    """
    db_path, files_root = database_file(settings), settings.files_path
    if not src.is_file():
        raise InvalidInput("SRC", f"{src} is not a file")
    occupied = _occupied(db_path, files_root)
    if occupied and not force:
        raise InvalidInput(
            "--force",
            f"{' and '.join(occupied)} not empty; restore replaces them only with --force "
            "(stop every server on them first)",
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    files_root.parent.mkdir(parents=True, exist_ok=True)
    fd, staged_name = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.restore-")
    os.close(fd)
    staged_db = Path(staged_name)
    staged_files = Path(tempfile.mkdtemp(dir=files_root.parent, prefix=f".{files_root.name}."))
    try:
        manifest, seen = _unpack(src, staged_db, staged_files, report)
        _verify(manifest, seen)
        upgrade_needed = _check_schema(manifest, staged_db)
        if not keep_sync_tokens:
            _renew_sync_epoch(staged_db)
        report(f"restore: checked {len(seen)} members against the manifest; putting them in place")
        _put_in_place(staged_db, staged_files, db_path, files_root)
    finally:
        staged_db.unlink(missing_ok=True)
        shutil.rmtree(staged_files, ignore_errors=True)
    return RestoreResult(
        str(db_path), str(files_root), manifest, upgrade_needed, keep_sync_tokens
    )


def _occupied(db_path: Path, files_root: Path) -> list[str]:
    occupied = []
    if db_path.exists() and db_path.stat().st_size > 0:
        occupied.append(f"database {db_path}")
    if files_root.is_dir() and any(files_root.iterdir()):
        occupied.append(f"file store {files_root}")
    return occupied


def _unpack(
    src: Path, staged_db: Path, staged_files: Path, report: Report
) -> tuple[Manifest, dict[str, Entry]]:
    """Stream the archive into the staging places, hashing each member."""
    manifest: Manifest | None = None
    seen: dict[str, Entry] = {}
    try:
        with tarfile.open(src, mode="r|gz") as tar:
            for member in tar:
                source = tar.extractfile(member) if member.isfile() else None
                if source is None:
                    raise InvalidInput("SRC", f"unexpected archive member {member.name!r}")
                if member.name == MANIFEST_MEMBER:
                    manifest = Manifest.from_json(source.read())
                    continue
                seen[member.name] = _write(source, _staged(member.name, staged_db, staged_files))
                if len(seen) % PROGRESS_EVERY == 0:
                    report(f"restore: {len(seen)} members unpacked")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InvalidInput("SRC", f"damaged archive: {exc}") from exc
    if manifest is None:
        raise InvalidInput("SRC", "damaged archive: no manifest.json (truncated?)")
    return manifest, seen


def _staged(name: str, staged_db: Path, staged_files: Path) -> Path:
    """Where a member goes; names are checked, so nothing lands outside the staging places."""
    if name == DB_MEMBER:
        return staged_db
    match = BLOB_MEMBER.fullmatch(name)
    if match is None:
        raise InvalidInput("SRC", f"unexpected archive member {name!r}")
    target = staged_files.joinpath(*match.groups())
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _write(source: IO[bytes], target: Path) -> Entry:
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return Entry(name="", size=size, sha256=digest.hexdigest())


def _verify(manifest: Manifest, seen: dict[str, Entry]) -> None:
    """Every member present, none extra, each with the manifest's size and SHA-256."""
    expected = {entry.name: entry for entry in (manifest.database, *manifest.files)}
    problems = [f"{name} missing" for name in sorted(expected.keys() - seen.keys())]
    problems += [f"{name} not in the manifest" for name in sorted(seen.keys() - expected.keys())]
    for name in sorted(expected.keys() & seen.keys()):
        want, got = expected[name], seen[name]
        if (want.size, want.sha256) != (got.size, got.sha256):
            problems.append(f"{name} differs from the manifest (SHA-256 {got.sha256[:12]}…)")
    if problems:
        more = f"; and {len(problems) - 5} more" if problems[5:] else ""
        shown = "; ".join(problems[:5]) + more
        raise InvalidInput("SRC", f"damaged archive: {shown}")


def _check_schema(manifest: Manifest, staged_db: Path) -> bool:
    """Refuse a schema this code does not know; True when ``db upgrade`` should follow."""
    script = _migrations()
    known = {revision.revision for revision in script.walk_revisions()}
    head = script.get_current_head()
    if manifest.schema_revision not in known:
        raise InvalidInput(
            "SRC",
            f"the backup's schema revision {manifest.schema_revision} is newer than this version "
            f"of Hermes Groupware knows (newest {head}); restore it with the release that made "
            f"it ({manifest.hermes_version}) or a later one",
        )
    with closing(sqlite3.connect(staged_db)) as conn:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if check != "ok" or revision is None or revision[0] != manifest.schema_revision:
        raise InvalidInput("SRC", f"damaged archive: the database fails its check ({check})")
    return manifest.schema_revision != head


def _renew_sync_epoch(staged_db: Path) -> None:
    """A new ``calendar_state.epoch`` (every sync token names it); schemas before the calendar
    projection have none, and ``db upgrade`` makes a fresh one."""
    with closing(sqlite3.connect(staged_db)) as conn, conn:
        has_state = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calendar_state'"
        ).fetchone()
        if has_state:
            conn.execute("UPDATE calendar_state SET epoch = ?", (secrets.token_hex(4),))


def _migrations() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _put_in_place(staged_db: Path, staged_files: Path, db_path: Path, files_root: Path) -> None:
    """Rename the checked copies over the targets (each rename is atomic; files go first, so
    the database never references a blob that is not there)."""
    replaced: Path | None = None
    if files_root.exists():
        replaced = files_root.with_name(f".{files_root.name}.replaced-{uuid.uuid4().hex[:8]}")
        os.replace(files_root, replaced)
    os.replace(staged_files, files_root)
    for suffix in ("-wal", "-shm", "-journal"):  # a stale WAL would be replayed into the copy
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(staged_db, db_path)
    _fsync_dir(db_path.parent)
    _fsync_dir(files_root.parent)
    if replaced is not None:
        shutil.rmtree(replaced)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    """The manifest without the per-file list (``--json`` output stays short for big stores)."""
    return {
        "format": manifest.format,
        "created_at": manifest.created_at,
        "hermes_version": manifest.hermes_version,
        "schema_revision": manifest.schema_revision,
        "database": vars(manifest.database),
        "files": len(manifest.files),
        "files_bytes": sum(entry.size for entry in manifest.files),
    }
