"""Radicale storage plugin: collections and items come from the calendar projection.

Reads build Items from stored text and metadata, so Radicale never parses them; writes go
through the domain services (permissions, history with source ``caldav``) and then refresh the
projection in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from radicale import item as radicale_item
from radicale import storage as radicale_storage
from radicale.item.filter import TIMESTAMP_MAX, TIMESTAMP_MIN
from sqlalchemy import and_, bindparam, or_, select, union_all

from caldav_backend import errors, paths
from caldav_backend.alarms import apply_alarm_edit
from caldav_backend.edits import apply_edit, create_from
from caldav_backend.filters import translate
from caldav_backend.home import CollectionInfo
from caldav_backend.runtime import Runtime
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import CalendarObject
from hermes_groupware.models.enums import TaskStatus
from hermes_groupware.services.tasks import delete_task, set_status
from sync import ical, projection

HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
#: what an Item is built from (with the href, which every row has)
ITEM_COLUMNS = (
    CalendarObject.body,
    CalendarObject.etag,
    CalendarObject.uid,
    CalendarObject.component,
    CalendarObject.start_ts,
    CalendarObject.end_ts,
    CalendarObject.last_modified,
)
_ITEM_NAMES = tuple(column.key for column in ITEM_COLUMNS)


class Collection(radicale_storage.BaseCollection):
    """The root, a principal, or one of a home's calendars (a value object per request)."""

    def __init__(self, runtime: Runtime, path: str, info: CollectionInfo | None = None) -> None:
        self.runtime, self._path, self.info = runtime, path, info

    @property
    def path(self) -> str:
        return self._path

    # -- metadata ---------------------------------------------------------------------
    def get_meta(self, key: str | None = None) -> Any:
        meta = self.info.meta if self.info else {}
        return dict(meta) if key is None else meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        """Collections are defined by Hermes; client PROPPATCHes (colour, order) are ignored."""

    @property
    def etag(self) -> str:
        return self.counters()[0]

    def counters(self) -> tuple[str, str]:
        """The collection's ETag (its ctag) and sync token, read once."""
        epoch, modseq = self._version()
        return f'"{epoch}-{modseq}"', projection.sync_token(epoch, modseq)

    @property
    def last_modified(self) -> str:
        with self.runtime.reading() as uow:
            when = uow.session.scalar(
                select(CalendarObject.last_modified)
                .where(CalendarObject.collection == self._key())
                .order_by(CalendarObject.modseq.desc())
                .limit(1)
            )
        return (when or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).strftime(HTTP_DATE)

    def _key(self) -> str:
        if self.info is None:
            raise ValueError("not a calendar")
        return self.info.key

    def _version(self) -> tuple[str, int]:
        if self.info is None:
            return "root", 0
        with self.runtime.reading() as uow:
            return self._position(uow)

    # -- reading ----------------------------------------------------------------------
    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        """RFC 6578: hrefs changed or deleted since the token; ValueError makes clients resync."""
        with self.runtime.reading() as uow:
            epoch, current = self._position(uow)
            if not old_token:
                hrefs = list(
                    uow.session.scalars(self._live().with_only_columns(CalendarObject.href))
                )
            else:
                since = projection.parse_sync_token(old_token, epoch)
                if since > current:
                    raise ValueError("sync token from the future")
                hrefs = projection.changed_hrefs(uow.session, self._key(), since)
        return projection.sync_token(epoch, current), hrefs

    def _position(self, uow: UnitOfWork) -> tuple[str, int]:
        """The projection's epoch and this collection's last change."""
        epoch = projection.state(uow.session, lock=False).epoch
        return epoch, projection.collection_modseq(uow.session, self._key())

    def _by_500(self, hrefs: list[str]) -> Iterator[dict[str, Any]]:
        """Parameters of :func:`_by_href` for ``hrefs``, 500 at a time."""
        for start in range(0, len(hrefs), 500):
            yield {"key": self._key(), "hrefs": hrefs[start : start + 500]}

    def live_object(self, uow: UnitOfWork, href: str) -> CalendarObject | None:
        """The live object at ``href`` (looked up by the unique index: see _by_href)."""
        by_href = select(CalendarObject).where(_by_href())
        found = uow.session.scalar(by_href, {"key": self._key(), "hrefs": [href]})
        return None if found is None or found.deleted else found

    def placing(self, uow: UnitOfWork, href: str, uid: str) -> tuple[CalendarObject | None, bool]:
        """The live object at ``href``, and whether an object with ``uid`` there would clash
        (the object at ``href`` has another UID, or another href has this one): what
        :meth:`live_object` and Radicale's ``has_uid`` answer in two statements."""
        params = {"key": self._key(), "href": href, "uid": uid}
        found = uow.session.scalars(_AT_HREF_OR_UID, params).all()
        old = next((o for o in found if o.href == href and not o.deleted), None)
        if old is not None:
            return old, old.uid != uid
        return None, any(o.uid == uid and not o.deleted for o in found)

    def _live(self) -> Any:
        return select(CalendarObject).where(
            CalendarObject.collection == self._key(), ~CalendarObject.deleted
        )

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        found = self.rows(hrefs)
        return [(href, None if row is None else self._item(row)) for href, row in found.items()]

    def get_all(self) -> Iterable[radicale_item.Item]:
        return [self._item(row) for row in self.rows().values()]

    def rows(
        self, hrefs: Iterable[str] | None = None, *, columns: Sequence[Any] = ITEM_COLUMNS
    ) -> dict[str, Any]:
        """The stored rows by href: every live one, or those of ``hrefs`` (None where there is
        none), with ``columns`` (listings leave the texts in the database)."""
        key, names = self._key(), tuple(column.key for column in columns)
        with self.runtime.reading() as uow:
            connection = uow.session.connection()  # plain rows; no ORM loading per row
            if hrefs is None:
                statement = _live_rows(names, by_href=False)
                return {row.href: row for row in connection.execute(statement, {"key": key})}
            found: dict[str, Any] = dict.fromkeys(hrefs)
            statement = _live_rows(names, by_href=True)
            for chunk in self._by_500(list(found)):
                rows = connection.execute(statement, chunk)
                found.update((row.href, row) for row in rows if not row.deleted)
        return found

    def rows_if_current(
        self, hrefs: Iterable[str], *, columns: Sequence[Any]
    ) -> dict[str, Any] | None:
        """:meth:`rows` of ``hrefs`` in one statement per 500, each also reading the journal's
        position: None when the projection is behind (catch it up, then use :meth:`rows`).
        The fast path's GET and multiget, at one round trip where a transaction costs three."""
        statement = _rows_at_position(tuple(column.key for column in columns))
        found: dict[str, Any] = dict.fromkeys(hrefs)
        with self.runtime.statements() as connection:
            for chunk in self._by_500(list(found)):
                result = connection.execute(statement, chunk).all()
                if projection.behind(result[0]):  # never empty: one position row at least
                    return None
                live = (row for row in result if row.href is not None and not row.deleted)
                found.update((row.href, row) for row in live)
        return found

    def get_filtered(self, filters: Iterable[Any]) -> Iterable[tuple[radicale_item.Item, bool]]:
        """SQL for the common shapes (component, time range, open tasks); exact ones skip
        Radicale's per-item check, the rest come back as a superset to be checked."""
        query = translate(filters)
        statement = _live_rows(_ITEM_NAMES, by_href=False)
        if query.component is not None:
            statement = statement.where(CalendarObject.component == query.component)
        if query.start > TIMESTAMP_MIN:
            statement = statement.where(
                or_(CalendarObject.end_ts.is_(None), CalendarObject.end_ts > query.start)
            )
        if query.end < TIMESTAMP_MAX:
            statement = statement.where(
                or_(CalendarObject.start_ts.is_(None), CalendarObject.start_ts < query.end)
            )
        if query.open_only:
            statement = statement.where(~CalendarObject.completed)
        exact = query.exact  # stored ranges follow RFC 4791 §9.9 (sync.ical.time_range)
        with self.runtime.reading() as uow:
            return [
                (self._item(row), exact and not _recurring(row.body))
                for row in uow.session.execute(statement, {"key": self._key()})
            ]

    def has_uid(self, uid: str) -> bool:
        with self.runtime.reading() as uow:
            found = (
                self._live().where(CalendarObject.uid == uid).with_only_columns(CalendarObject.id)
            )
            return uow.session.scalar(found) is not None

    def _item(self, obj: Any) -> radicale_item.Item:
        """An Item from a stored object or row, with every field given, so nothing is parsed."""
        return radicale_item.Item(
            collection=self,
            href=obj.href,
            text=obj.body,
            etag=obj.etag,
            uid=obj.uid,
            name="VCALENDAR",
            component_name=obj.component,
            time_range=(
                TIMESTAMP_MIN if obj.start_ts is None else obj.start_ts,
                TIMESTAMP_MAX if obj.end_ts is None else obj.end_ts,
            ),
            last_modified=obj.last_modified.strftime(HTTP_DATE),
        )

    # -- writing ----------------------------------------------------------------------
    def upload(
        self, href: str, item: radicale_item.Item
    ) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        """A client created or edited a task; returns what will be served (and its ETag)."""
        uow = self.runtime.write_unit()
        text = item.serialize()
        with errors.translated():
            fields = ical.read_client(text, projection.component_of(self._key()))
        old = self.live_object(uow, href)
        replaced = self._item(old) if old is not None else None
        self.store(uow, href, text, fields, old)
        stored = self.live_object(uow, href)
        if stored is None:  # the change took the task out of this collection (e.g. cancelled)
            return item, replaced
        return self._item(stored), replaced

    def store(
        self,
        uow: UnitOfWork,
        href: str,
        text: str,
        fields: ical.ClientFields,
        old: CalendarObject | None,
    ) -> None:
        """A client's ``text`` at ``href`` (where ``old`` is), through the services, and the
        projection refreshed with it (the change may take the task out of this collection).
        Refusals raise ValueError (:mod:`.errors`)."""
        key = self._key()
        with errors.translated():
            if old is not None and old.task_id is not None:
                shown = old.body
                apply_edit(uow, key, old.task_id, fields)
                apply_alarm_edit(uow, key, old.task_id, text, shown)
                task_id = old.task_id
            else:
                task_id = create_from(
                    uow, key, fields, self.runtime.settings.caldav.default_register
                )
        client = projection.ClientObject(key, task_id, href, fields.uid, text)
        projection.catch_up(uow.session, uow.now(), overrides=[client], directory=False)

    def delete(self, href: str | None = None) -> None:
        """DELETE of an item cancels (or deletes) its task; the item is gone either way."""
        if href is None:
            raise errors.forbidden("calendars are defined by Hermes and cannot be deleted")
        uow = self.runtime.write_unit()
        obj = self.live_object(uow, href)
        if obj is None:
            raise radicale_storage.ComponentNotFoundError(href)
        with errors.translated():
            if obj.task_id is not None:
                if self.runtime.settings.caldav.delete_policy == "delete":
                    delete_task(uow, obj.task_id)
                else:
                    set_status(uow, obj.task_id, TaskStatus.CANCELLED)
        projection.catch_up(uow.session, uow.now(), directory=False)
        still = self.live_object(uow, href)
        if still is not None:  # e.g. a delegate cancelled it but the owner keeps it open
            raise errors.forbidden("the task stays in this list")


@functools.cache
def _live_rows(names: tuple[str, ...], *, by_href: bool) -> Any:
    """A collection's live objects (some of them, ``by_href``): built once per shape, since
    the fast path runs it on every request."""
    columns = [getattr(CalendarObject, name) for name in names]
    if by_href:  # tombstones are dropped by the caller: see _by_href
        return select(CalendarObject.href, CalendarObject.deleted, *columns).where(_by_href())
    return select(CalendarObject.href, *columns).where(
        CalendarObject.collection == bindparam("key"), ~CalendarObject.deleted
    )


def _by_href() -> Any:
    """Objects of a collection by href, tombstones included (at most one row per href).

    With ``NOT deleted`` in the query PostgreSQL took the partial (collection, uid) index of
    live objects and read the whole collection whenever its statistics were stale (after a
    bulk catch-up: 25 ms for a multiget of 100 at 10,000 items instead of 0.3 ms); without it,
    only the unique (collection, href) index fits."""
    return and_(
        CalendarObject.collection == bindparam("key"),
        CalendarObject.href.in_(bindparam("hrefs", expanding=True)),
    )


#: the object at an href (tombstone or not), and the live one with a UID: each arm by its own
#: index (the unique href one, the partial live-UID one), see _by_href
_AT_HREF_OR_UID = select(CalendarObject).from_statement(
    union_all(
        select(CalendarObject).where(
            CalendarObject.collection == bindparam("key"),
            CalendarObject.href == bindparam("href"),
        ),
        select(CalendarObject).where(
            CalendarObject.collection == bindparam("key"),
            CalendarObject.uid == bindparam("uid"),
            ~CalendarObject.deleted,
        ),
    )
)


@functools.cache
def _rows_at_position(names: tuple[str, ...]) -> Any:
    """Some live objects of a collection, outer-joined to the projection's position row."""
    columns = [getattr(CalendarObject, name) for name in names]
    found = projection.POSITION.add_columns(CalendarObject.href, CalendarObject.deleted, *columns)
    return found.outerjoin(CalendarObject, _by_href())  # deleted is None: no object matched


def _recurring(body: str | None) -> bool:
    """A client may keep an RRULE in its own text; then our stored range is not the whole."""
    return body is not None and ("\nRRULE" in body or "\nRDATE" in body)


class Storage(radicale_storage.BaseStorage):
    """Radicale's entry point: discovery, locking, and refusals of what Hermes defines."""

    _supports_unicode = True
    _supports_trailing_whitespace = True
    _supports_problematic_chars = True

    def __init__(self, configuration: Any, runtime: Runtime) -> None:
        super().__init__(configuration)
        self.runtime = runtime

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: Callable[[str, str | None], AbstractContextManager[None]]
        | None = None,
        user_groups: set[str] = set(),  # noqa: B006 - Radicale's signature
    ) -> Iterator[Any]:
        try:
            where = paths.parse(path)
        except ValueError:
            return
        if where.login is None:
            yield Collection(self.runtime, "")
            return
        collections = self.runtime.home(where.login)
        if not collections:
            return
        if where.slug is None:
            yield Collection(self.runtime, where.login)
            if depth != "0":
                for info in collections:
                    yield Collection(self.runtime, f"{where.login}/{info.slug}", info)
            return
        found = next((c for c in collections if c.slug == where.slug), None)
        if found is None:
            return
        collection = Collection(self.runtime, f"{where.login}/{found.slug}", found)
        if where.href is not None:
            yield from (item for _, item in collection.get_multi([where.href]) if item)
            return
        yield collection
        if depth != "0":
            yield from collection.get_all()

    def create_collection(self, href: str, items: Any = None, props: Any = None) -> Any:
        """MKCALENDAR and whole-collection PUT are refused with 403: collections come from
        registers, groups and the employee's own tasks."""
        raise errors.forbidden("calendars are defined by Hermes; ask an administrator")

    def move(self, item: radicale_item.Item, to_collection: Any, to_href: str) -> None:
        """Moving between lists would change register or owner silently: refused (403)."""
        raise errors.forbidden("moving tasks between calendars is not supported")

    @contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        """Writes run in one database transaction that serialises on the projection row
        (correct across processes and hosts); reads first catch the projection up."""
        if mode == "w" and user:
            with self.runtime.writing(user):
                yield
            return
        self.runtime.ensure_current()
        yield

    def verify(self) -> bool:
        return True
