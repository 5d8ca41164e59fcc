"""``backup`` / ``restore``: taken from a running, written-to server, served again after restore.

SQLite only by nature (PostgreSQL has pg_dump); on PostgreSQL runs only the refusal test runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io
import json
import os
import subprocess
import tarfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import caldav
import pytest
from caldav.lib.error import AuthorizationError
from sqlalchemy import select

from hermes_groupware import backup, demo
from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, make_engine
from hermes_groupware.filestore import FileStore, chunks_of
from hermes_groupware.models.enums import Source
from hermes_groupware.models.files import StoredFile
from hermes_groupware.models.task import Task
from hermes_groupware.models.task_item import TaskItem
from hermes_groupware.services import items
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from hermes_groupware.services.tasks import create_task
from tests.caldav_backend.conftest import PASSWORD, start_server
from tests.conftest import ON_POSTGRESQL, migrated
from tests.hermes_groupware.cli.conftest import SCRIPT

sqlite_only = pytest.mark.skipif(
    ON_POSTGRESQL, reason="backup/restore cover the embedded SQLite database only"
)
READER = "mzielinska"  # sees HAN, REK and WEW, never SER
WRITER = "pwisniewski"  # writes SER tasks while the backup runs
SYNC_ALL = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:sync-token/><D:sync-level>1</D:sync-level>"
    "<D:prop><D:getetag/><C:calendar-data/></D:prop></D:sync-collection>"
)


@dataclass
class Site:
    """A SQLite database and file store, and how to run the CLI on them."""

    root: Path
    settings: Settings
    database: Database

    def env(self) -> dict[str, str]:
        config = self.root / "config.toml"
        config.write_text('[server]\ndemo = true\n[logging]\nlevel = "WARNING"\n', "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
        env.update(
            HERMES_CONFIG=str(config),
            HERMES_DATABASE_URL=self.settings.database.url,
            HERMES_FILES_PATH=str(self.settings.files_path),
        )
        return env

    def cli(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: PLW1510 - the exit code is checked below
            [SCRIPT, *args], env=self.env(), capture_output=True, text=True, timeout=120
        )
        assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result


def site_at(root: Path, *, create: bool = True) -> Site:
    """A database and file store under ``root``: migrated, or only configured (a target)."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'hermes.db'}"
    settings = dataclasses.replace(
        Settings(base_dir=root),
        server=dataclasses.replace(Settings().server, demo=True),
        database=dataclasses.replace(Settings().database, url=url),
        files=dataclasses.replace(Settings().files, path=str(root / "files")),
    )
    store = FileStore(settings.files_path, settings.files.max_file_bytes)
    return Site(root, settings, Database(migrated(url) if create else make_engine(url), store))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Site]:
    """A database with demo data and one attachment."""
    site = site_at(tmp_path / "live")
    with site.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        demo.load(uow, tasks=40, seed=11, demo_mode=True)
        task_id = uow.session.scalars(select(Task.id).order_by(Task.id)).first()
        assert task_id is not None
        items.add_file(
            uow, task_id, filename="oferta.pdf", content_type="application/pdf",
            chunks=chunks_of(b"%PDF-1.4 oferta"),
        )
    yield site
    site.database.engine.dispose()


@pytest.fixture
def archive(live: Site, tmp_path: Path) -> Path:
    """A backup of ``live`` (taken while nothing runs)."""
    result = json.loads(live.cli("backup", str(tmp_path), "--json").stdout)
    return Path(result["archive"])


def snapshot(client: caldav.DAVClient) -> dict[str, tuple[str, dict[str, tuple[str, str]]]]:
    """Per calendar: its sync token and every object's ETag and text."""
    calendars = {}
    for calendar in client.principal().calendars():
        response = client.request(
            str(calendar.url), "REPORT", SYNC_ALL,
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        assert response.status == 207, response.raw
        tree = ET.fromstring(response.raw)
        ns = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
        objects = {
            item.findtext("D:href", "", ns): (
                item.findtext(".//D:getetag", "", ns),
                item.findtext(".//C:calendar-data", "", ns),
            )
            for item in tree.findall("D:response", ns)
        }
        calendars[calendar.url.path] = (tree.findtext("D:sync-token", "", ns), objects)
    return calendars


class Writer(threading.Thread):
    """Creates SER task ``W-n`` with its attachment, one transaction each, until stopped."""

    def __init__(self, database: Database) -> None:
        super().__init__(daemon=True)
        self.database, self.done, self.stop = database, 0, threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self._write(self.done + 1)
                self.done += 1
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _write(self, n: int) -> None:
        with self.database.unit_of_work(Actor.system("test"), Source.CALDAV) as system:
            uow = system.acting_as(actor_for(employee_by_login(system.session, WRITER)))
            register = register_by_code(uow.session, "SER")
            task = create_task(uow, register_id=register.id, subject=f"W-{n}")
            uow.session.flush()
            items.add_file(
                uow, task.id, filename=f"w{n}.txt", content_type="text/plain",
                chunks=chunks_of(f"payload of W-{n}".encode()),
            )

    def wait_for(self, count: int) -> None:
        while self.done < count and self.error is None and self.is_alive():
            self.stop.wait(0.01)
        assert self.error is None, self.error


@sqlite_only
def test_backup_while_serving_and_writing_restores_same_tasks_etags_and_tokens(
    live: Site, tmp_path: Path
) -> None:
    url, server = start_server(live.settings)
    reader = caldav.DAVClient(url=url, username=READER, password=PASSWORD, timeout=30)
    try:
        before = snapshot(reader)
        writer = Writer(live.database)
        writer.start()
        writer.wait_for(3)
        started = writer.done
        result = json.loads(live.cli("backup", str(tmp_path / "b.tar.gz"), "--json").stdout)
        ended = writer.done
        writer.wait_for(ended + 3)
        writer.stop.set()
        writer.join()
        assert snapshot(reader) == before  # the writes never touch what READER sees
    finally:
        reader.close()
        server.stop()
    assert started < ended  # the writer wrote while the backup ran
    assert result["manifest"]["files"] >= started + 1 and result["missing_files"] == []

    restored = site_at(tmp_path / "restored", create=False)
    restored.cli("restore", result["archive"], "--keep-sync-tokens")
    url, server = start_server(restored.settings)
    client = caldav.DAVClient(url=url, username=READER, password=PASSWORD, timeout=30)
    try:
        assert snapshot(client) == before
        for calendar in client.principal().calendars():
            token = before[calendar.url.path][0]
            assert list(calendar.objects_by_sync_token(sync_token=token)) == []
    finally:
        client.close()
        server.stop()

    with restored.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        rows = uow.session.execute(
            select(Task.subject, StoredFile.sha256)
            .join(TaskItem, TaskItem.task_id == Task.id)
            .join(StoredFile, StoredFile.id == TaskItem.file_id)
            .where(Task.subject.like("W-%"))
        ).all()
    numbers = sorted(int(subject[2:]) for subject, _sha in rows)
    blobs = [sha for _subject, sha in rows]
    assert started <= len(numbers) <= ended  # a snapshot taken while the writer ran …
    assert numbers == list(range(1, len(numbers) + 1))  # … of whole transactions, in order
    assert {restored.database.files.read(sha) for sha in blobs} == {
        f"payload of W-{n}".encode() for n in numbers
    }


@sqlite_only
def test_restore_renews_sync_tokens_by_default_and_keeps_etags(
    live: Site, tmp_path: Path
) -> None:
    """Clients that synced after the backup must resync, not miss what the restore undid."""
    url, server = start_server(live.settings)
    client = caldav.DAVClient(url=url, username=READER, password=PASSWORD, timeout=30)
    try:
        before = snapshot(client)
    finally:
        client.close()
        server.stop()
    archive = json.loads(live.cli("backup", str(tmp_path), "--json").stdout)["archive"]
    restored = site_at(tmp_path / "restored", create=False)
    restore = json.loads(restored.cli("restore", archive, "--json").stdout)
    assert restore["sync_tokens_kept"] is False
    url, server = start_server(restored.settings)
    client = caldav.DAVClient(url=url, username=READER, password=PASSWORD, timeout=30)
    try:
        after = snapshot(client)
        calendar = client.principal().calendars()[0]
        token = before[calendar.url.path][0]
        old = SYNC_ALL.replace("<D:sync-token/>", f"<D:sync-token>{token}</D:sync-token>")
        with pytest.raises(AuthorizationError) as refused:  # RFC 6578 3.2: resync from scratch
            client.request(str(calendar.url), "REPORT", old, {"Depth": "1"})
    finally:
        client.close()
        server.stop()
    assert "valid-sync-token" in str(refused.value.body)
    assert {p: objects for p, (_token, objects) in after.items()} == {
        p: objects for p, (_token, objects) in before.items()
    }
    assert all(after[p][0] != before[p][0] for p in before)


def rewrite(archive: Path, change: dict[str, bytes]) -> None:
    """Replace members' bytes, keeping everything else (the manifest only if named)."""
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(archive, "w:gz") as tar:
        for member, original in members:
            data = change.get(member.name, original)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@sqlite_only
def test_restore_refuses_a_damaged_archive_and_changes_nothing(
    archive: Path, tmp_path: Path
) -> None:
    target = site_at(tmp_path / "target", create=False)
    with tarfile.open(archive, "r:gz") as tar:
        blob = next(m.name for m in tar.getmembers() if m.name.startswith("files/"))
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(archive.read_bytes())
    rewrite(tampered, {blob: b"%PDF-1.4 0ferta"})
    failed = target.cli("restore", str(tampered), expect=2)
    assert f"damaged archive: {blob} differs from the manifest" in failed.stderr

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert "damaged archive" in target.cli("restore", str(truncated), expect=2).stderr

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(gzip.compress(b"not a tar file" * 100))
    assert "damaged archive" in target.cli("restore", str(garbage), expect=2).stderr
    assert sorted(p.name for p in target.root.iterdir()) == ["config.toml"]  # nothing left


@sqlite_only
def test_restore_needs_force_over_a_database_and_then_replaces_it(
    live: Site, archive: Path
) -> None:
    with live.database.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tasks SET subject = 'after the backup'")
    refused = live.cli("restore", str(archive), expect=2)
    assert "--force" in refused.stderr and "not empty" in refused.stderr
    live.database.engine.dispose()  # the documented procedure: stop the server first
    restored = json.loads(live.cli("restore", str(archive), "--force", "--json").stdout)
    assert restored["upgrade_needed"] is False
    shown = json.loads(live.cli("task", "list", "--json").stdout)
    assert shown and not any(t["subject"] == "after the backup" for t in shown)
    assert not list(live.root.glob(".*"))  # no staging or replaced copies left behind


@sqlite_only
def test_restore_refuses_a_schema_newer_than_the_code(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    manifest["schema_revision"] = "9999_from_the_future"
    rewrite(archive, {"manifest.json": json.dumps(manifest).encode()})
    target = site_at(tmp_path / "target", create=False)
    failed = target.cli("restore", str(archive), expect=2)
    assert "9999_from_the_future is newer than this version" in failed.stderr
    assert not (target.root / "hermes.db").exists()


def test_backup_on_postgresql_points_to_the_documented_procedure(tmp_path: Path) -> None:
    site = Site(tmp_path, Settings(base_dir=tmp_path), None)  # type: ignore[arg-type]
    env = site.env() | {"HERMES_DATABASE_URL": "postgresql+psycopg://hermes@127.0.0.1/hermes"}
    result = subprocess.run(  # noqa: PLW1510 - checked below
        [SCRIPT, "backup", str(tmp_path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "pg_dump -Fc" in result.stderr and "docs/operations-backup.md" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "config.toml"]


@sqlite_only
def test_backup_reports_progress_and_files_the_database_misses(tmp_path: Path) -> None:
    site = site_at(tmp_path / "big")
    for n in range(backup.PROGRESS_EVERY):
        site.database.files.put(chunks_of(f"blob {n}".encode()))
    absent = "0" * 64
    with site.database.engine.begin() as conn:  # a row whose blob someone deleted by hand
        conn.exec_driver_sql(
            "INSERT INTO stored_files (sha256, size, created_at) "
            f"VALUES ('{absent}', 1, '2026-11-27 08:00:00.000000')"
        )
    site.database.engine.dispose()
    messages: list[str] = []
    now = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
    result = backup.backup(site.settings, tmp_path, now=now, report=messages.append)
    assert result.archive.endswith("hermes-backup-20261127T080000Z.tar.gz")
    assert len(result.manifest.files) == backup.PROGRESS_EVERY
    assert f"backup: {backup.PROGRESS_EVERY}/{backup.PROGRESS_EVERY} files" in "\n".join(messages)
    assert result.missing_files == (absent,)
    assert Path(result.archive).stat().st_mode & 0o777 == 0o600
