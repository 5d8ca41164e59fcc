"""The fast path: the hottest client reads on Hermes calendars, answered without Radicale.

Clients spend nearly all their requests on five reads of one calendar: the Depth 0 poll for
its ctag or sync token, PROPFIND Depth 1 for the ETags, calendar-multiget, sync-collection and
GET of one item. Radicale builds an XML tree
per item and checks rights and paths item by item; here the same answers are written straight
from the stored renderings, through the same :class:`~caldav_backend.storage.Collection` reads
the storage plugin uses, for a login the auth plugin verified moments ago.

Anything else (another property, another depth, a login not in the cache, a path that is not
plainly ours) gets ``None`` and goes to Radicale as before, so the fast path changes speed,
never answers: ``tests/caldav_backend/test_fast_path.py`` compares the two answer for answer.
A plain PUT of one item by its owner is written here too (:mod:`caldav_backend.fast_put`).
``[caldav] fast_path = false`` turns it off.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import io
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlparse
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from radicale import httputils, pathutils, xmlutils

from caldav_backend import fast_put, paths, request_body
from caldav_backend.runtime import Runtime
from caldav_backend.storage import HTTP_DATE, Collection
from hermes_groupware.models import CalendarObject

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: status line, headers, body
Answer = tuple[str, list[tuple[str, str]], bytes]

ENCODING = "utf-8"
#: smaller answers go uncompressed: a deflate stream costs ~60 us to set up, more than the
#: bytes it saves on one item or a Depth 0 answer
GZIP_MIN_BYTES = 1024
_PLAIN = re.compile(r"[A-Za-z0-9_.~/-]*")  # what quote() leaves alone and escape() too
OK = "HTTP/1.1 200 OK"
NOT_FOUND = "HTTP/1.1 404 Not Found"
_D = "{DAV:}"
_C = "{urn:ietf:params:xml:ns:caldav}"
GETETAG, GETCONTENTTYPE = f"{_D}getetag", f"{_D}getcontenttype"
GETLASTMODIFIED, GETCONTENTLENGTH = f"{_D}getlastmodified", f"{_D}getcontentlength"
RESOURCETYPE = f"{_D}resourcetype"
CALENDAR_DATA = f"{_C}calendar-data"
GETCTAG = "{http://calendarserver.org/ns/}getctag"
SYNC_TOKEN = f"{_D}sync-token"
MULTIGET, SYNC_COLLECTION = f"{_C}calendar-multiget", f"{_D}sync-collection"
#: the collection's change counters, asked for alone at Depth 0 by every polling client
COLLECTION_PROPS = frozenset({GETCTAG, GETETAG, SYNC_TOKEN})
#: what Radicale answers for an item in a PROPFIND; any other property goes to Radicale
PROPFIND_ITEM_PROPS = frozenset(
    {GETETAG, GETCONTENTTYPE, GETLASTMODIFIED, GETCONTENTLENGTH, RESOURCETYPE}
)
_COLUMNS = {
    GETLASTMODIFIED: CalendarObject.last_modified,
    GETCONTENTLENGTH: CalendarObject.body,
    CALENDAR_DATA: CalendarObject.body,
}


_ITEM_METHODS = frozenset({"GET", "PUT"})
_METHODS = frozenset({"PROPFIND", "REPORT", *_ITEM_METHODS})


@dataclass(frozen=True)
class _Target:
    """A request on one of the user's own collections, by a login verified moments ago."""

    collection: Collection
    href: str | None
    base_prefix: str
    gzip: bool


class FastPath:
    """Answers the common reads itself; ``respond`` returns None for everything else."""

    def __init__(self, runtime: Runtime, caldav: WSGIApp) -> None:
        self.runtime = runtime
        self.caldav = caldav

    def respond(self, environ: dict[str, Any]) -> Answer | None:
        """The answer to ``environ``, or None when Radicale should answer it."""
        method = environ.get("REQUEST_METHOD", "")
        item = method in _ITEM_METHODS
        target = self._target(environ, item=item) if method in _METHODS else None
        if target is None:
            return None
        if item:
            return self._get(target) if method == "GET" else self._put(environ, target)
        body, root = _xml_body(environ)
        if root is None or not _answerable(method, environ.get("HTTP_DEPTH"), root):
            return None  # Radicale answers (and words the 400); decided before any I/O
        if root.tag == MULTIGET:  # one statement: no transaction needed
            return self._multiget(target, root)
        with self.runtime.snapshot():  # several reads: one transaction
            if method == "PROPFIND":
                return self._propfind(environ, target, root, body)
            return self._sync(target, root)

    # -- who and what -------------------------------------------------------------------
    def _target(self, environ: dict[str, Any], *, item: bool) -> _Target | None:
        """The collection (and item) asked for, when the path is plainly one of ours and the
        user is its owner, verified moments ago."""
        where = _plain_path(environ)
        if where is None or (where.href is not None) != item or where.slug is None:
            return None
        login = self._verified_login(environ)
        if login is None or where.login != login:
            return None
        info = next((c for c in self.runtime.home(login) if c.slug == where.slug), None)
        if info is None:
            return None
        accepted = environ.get("HTTP_ACCEPT_ENCODING", "").split(",")
        return _Target(
            collection=Collection(self.runtime, f"{login}/{info.slug}", info),
            href=where.href,
            base_prefix=environ.get("SCRIPT_NAME", "").rstrip("/"),
            gzip="gzip" in (a.strip() for a in accepted),
        )

    def _verified_login(self, environ: dict[str, Any]) -> str | None:
        """The Basic login, if the auth plugin verified this very pair a moment ago."""
        scheme, _, credentials = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode(ENCODING)
        except (binascii.Error, UnicodeDecodeError):
            return None
        login, separator, password = decoded.partition(":")
        if not separator or not self.runtime.logins.knows(login, password):
            return None
        return login

    # -- the answers -------------------------------------------------------------------
    def _get(self, target: _Target) -> Answer | None:
        assert target.href is not None
        columns = (CalendarObject.body, CalendarObject.etag, CalendarObject.last_modified)
        row = self._current_rows(target, [target.href], columns)[target.href]
        if row is None:
            return None  # Radicale words the 404
        headers = [
            ("Content-Type", f"text/calendar; charset={ENCODING}"),
            ("Last-Modified", _http_date(row.last_modified)),
            ("ETag", row.etag),
        ]
        return _finish("200 OK", headers, row.body.encode(ENCODING), target.gzip)

    @staticmethod
    def _put(environ: dict[str, Any], target: _Target) -> Answer | None:
        assert target.href is not None
        return fast_put.put(target.collection, target.href, environ)

    def _current_rows(
        self, target: _Target, names: list[str], columns: Sequence[Any]
    ) -> dict[str, Any]:
        """The rows of ``names``, read in one statement when the projection is current (the
        common case), else after catching it up."""
        collection = target.collection
        found = collection.rows_if_current(names, columns=columns)
        if found is None:
            self.runtime.ensure_current()
            found = collection.rows(names, columns=columns)
        return found

    def _propfind(
        self, environ: dict[str, Any], target: _Target, root: ET.Element, body: bytes
    ) -> Answer | None:
        """Radicale answers for the collection itself (Depth 0, its many properties); the
        items' responses are added here."""
        props = _propfind_props(root) or []
        if environ.get("HTTP_DEPTH") == "0":
            return self._collection_state(target, props)
        answer = self._radicale_depth0(environ, body)
        if answer is None:
            return None
        headers, own = answer
        prefixes = set(_prefixes(props))
        head = _serialized(own, prefixes)
        if head is None:
            return None
        names = [_local(tag) for tag in props]
        parts = [head]
        rows = target.collection.rows(columns=_columns(props))
        for href, row in rows.items():
            values = (
                f"<{name}>{_propfind_value(tag, row)}</{name}>"
                for tag, name in zip(props, names, strict=True)
            )
            parts.append(_response(target, href, found="".join(values)))
        return _multistatus(target, prefixes, "", parts, headers)

    def _collection_state(self, target: _Target, props: list[str]) -> Answer:
        """Depth 0 for the ctag or sync token: the poll every client sends every few minutes
        for every calendar, answered from two counters."""
        collection = target.collection
        ctag, token = collection.counters()
        values = {GETCTAG: ctag, GETETAG: ctag, SYNC_TOKEN: token}
        found = "".join(f"<{_local(tag)}>{escape(values[tag])}</{_local(tag)}>" for tag in props)
        response = _response(target, "", found=found)  # the collection's own href
        headers = [("DAV", httputils.DAV_HEADERS)]
        return _multistatus(target, _prefixes(props), "", [response], headers)

    def _radicale_depth0(
        self, environ: dict[str, Any], body: bytes
    ) -> tuple[list[tuple[str, str]], ET.Element] | None:
        """Radicale's Depth 0 answer for the collection: its headers and its one response."""
        inner = {key: value for key, value in environ.items() if key != "HTTP_ACCEPT_ENCODING"}
        inner.update({"HTTP_DEPTH": "0", "wsgi.input": io.BytesIO(body)})
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            captured.append((status, headers))

        answer = b"".join(self.caldav(inner, start_response))
        if not captured or not captured[0][0].startswith("207"):
            return None
        responses = ET.fromstring(answer).findall(f"{_D}response")  # noqa: S314 - Radicale's
        if len(responses) != 1:
            return None
        kept = [
            (name, value)
            for name, value in captured[0][1]
            if name.lower() not in ("content-length", "content-encoding", "content-type")
        ]
        return kept, responses[0]

    def _multiget(self, target: _Target, root: ET.Element) -> Answer | None:
        props = _report_props(root) or []
        collection = target.collection
        names: list[str] = []
        invalid: list[str] = []
        for reference in _references(root, target.base_prefix):
            try:
                name = pathutils.name_from_path(reference, collection)
            except ValueError:
                invalid.append(reference)
                continue
            if not name:
                return None  # the collection itself: a filtered query, Radicale's job
            names.append(name)
        missing = [_missing(target, reference) for reference in invalid]
        rows = self._current_rows(target, names, _columns(props))
        responses = missing + _report_responses(target, rows, props)
        return _multistatus(target, _prefixes(props), "", responses)

    def _sync(self, target: _Target, root: ET.Element) -> Answer | None:
        props = _report_props(root) or []
        token_element = root.find(f"{_D}sync-token")
        old_token = (token_element.text or "").strip() if token_element is not None else ""
        names: list[str] | None = None  # an initial sync: every live item, in one query
        if old_token:
            try:
                token, changed = target.collection.sync(old_token)
            except ValueError:
                return None  # Radicale answers an invalid token with its DAV error
            names = list(changed)
        else:
            token = target.collection.counters()[1]
        head = f"<sync-token>{escape(token)}</sync-token>"
        rows = target.collection.rows(names, columns=_columns(props))
        responses = _report_responses(target, rows, props)
        return _multistatus(target, _prefixes(props), head, responses)


# -- XML, written as Radicale writes it ---------------------------------------------------
def _plain_path(environ: dict[str, Any]) -> paths.DavPath | None:
    """The parsed path when it is plain ASCII, already sanitised and below a sane prefix."""
    path = environ.get("PATH_INFO") or "/"
    prefix = environ.get("SCRIPT_NAME", "")
    if not path.isascii() or pathutils.sanitize_path(path) != path:
        return None
    if prefix and not prefix.startswith("/"):
        return None
    try:
        return paths.parse(path)
    except ValueError:
        return None


def _xml_body(environ: dict[str, Any]) -> tuple[bytes, ET.Element | None]:
    """The request body (put back so that Radicale can still read it) and its XML, or None
    when it does not parse."""
    body = request_body.read(environ)
    try:
        return body, ET.fromstring(body)  # noqa: S314 - DTDs and entities refused in front
    except ET.ParseError:
        return body, None


def _local(tag: str) -> str:
    """``{DAV:}getetag`` -> ``getetag``; ``{urn:...caldav}calendar-data`` -> ``C:calendar-data``."""
    namespace, _, name = tag[1:].partition("}")
    prefix = xmlutils.NAMESPACES_REV[namespace]
    return name if prefix == "D" else f"{prefix}:{name}"


def _propfind_value(tag: str, row: Any) -> str:
    if tag == GETETAG:
        return escape(row.etag)
    if tag == GETCONTENTTYPE:
        return _content_type(row.component)
    if tag == GETLASTMODIFIED:
        return _http_date(row.last_modified)
    if tag == GETCONTENTLENGTH:
        return str(len(row.body.encode(ENCODING)))
    return ""  # resourcetype: an item is no collection


def _columns(props: Sequence[str]) -> list[Any]:
    """The stored columns the answer needs (the texts only for calendar-data or a length)."""
    wanted = {tag: column for tag, column in _COLUMNS.items() if tag in props}
    return [CalendarObject.etag, CalendarObject.component, *dict.fromkeys(wanted.values())]


def _content_type(component: str) -> str:
    """As Radicale's ``xmlutils.get_content_type`` for a stored calendar object."""
    return f"text/calendar;charset={ENCODING};component={component}"


@functools.lru_cache(maxsize=4096)
def _http_date(when: dt.datetime) -> str:
    """RFC 9110 date, as the storage plugin gives it to Radicale (many rows share one)."""
    return when.strftime(HTTP_DATE)


def _answerable(method: str, depth: str | None, root: ET.Element) -> bool:
    """Whether the request has a shape the fast path answers exactly as Radicale would."""
    if method == "REPORT":
        return root.tag in (MULTIGET, SYNC_COLLECTION) and _report_props(root) is not None
    props = _propfind_props(root)
    if not props:
        return False
    wanted = set(props)
    return (depth == "0" and wanted <= COLLECTION_PROPS) or (
        depth == "1" and wanted <= PROPFIND_ITEM_PROPS
    )


def _propfind_props(root: ET.Element) -> list[str] | None:
    """The properties of a ``<propfind><prop>…</prop></propfind>`` (not allprop or propname)."""
    if root.tag != f"{_D}propfind" or len(root) != 1 or root[0].tag != f"{_D}prop":
        return None
    return [prop.tag for prop in root[0]]


def _report_props(root: ET.Element) -> list[str] | None:
    """The properties asked for, or None when Radicale should answer (no list, an expansion,
    a filter, a namespace it would not know)."""
    prop = root.find(f"{_D}prop")
    if prop is None or len(prop) == 0 or root.find(f".//{_C}expand") is not None:
        return None
    if root.find(f"{_C}filter") is not None:
        return None
    tags = [p.tag for p in prop]
    if any(t[1:].partition("}")[0] not in xmlutils.NAMESPACES_REV for t in tags):
        return None
    return tags


def _references(root: ET.Element, base_prefix: str) -> list[str]:
    """The multiget's hrefs as paths below the base prefix (Radicale skips the others)."""
    found: set[str] = set()
    for element in root.findall(f"{_D}href"):
        path = pathutils.sanitize_path(unquote(urlparse(element.text or "").path))
        if (path + "/").startswith(base_prefix + "/"):
            found.add(path[len(base_prefix) :])
    return sorted(found)


def _item_href(target: _Target, name: str) -> str:
    """The escaped href of a stored item (``make_href`` of its path, without re-sanitising a
    name Radicale accepted when it was stored; our own names need no quoting)."""
    prefix = f"{target.base_prefix}/{target.collection.path}/"
    if _PLAIN.fullmatch(prefix) and _PLAIN.fullmatch(name):
        return prefix + name
    return escape(quote(prefix + name))


def _response(target: _Target, name: str, *, found: str, not_found: str = "") -> str:
    parts = [f"<response><href>{_item_href(target, name)}</href>"]
    if found:
        parts.append(f"<propstat><prop>{found}</prop><status>{OK}</status></propstat>")
    if not_found:
        parts.append(f"<propstat><prop>{not_found}</prop><status>{NOT_FOUND}</status></propstat>")
    parts.append("</response>")
    return "".join(parts)


def _missing(target: _Target, path: str) -> str:
    href = escape(xmlutils.make_href(target.base_prefix, path))
    return f"<response><href>{href}</href><status>{NOT_FOUND}</status></response>"


def _report_responses(target: _Target, rows: dict[str, Any], props: Sequence[str]) -> list[str]:
    """Responses for ``rows`` by name: 404 for those not (or no longer) in the collection
    first, as Radicale orders them, then the found ones with the properties asked for."""
    missing = [
        f"<response><href>{_item_href(target, name)}</href><status>{NOT_FOUND}</status></response>"
        for name, row in rows.items()
        if row is None
    ]
    return missing + [
        _report_response(target, name, row, props) for name, row in rows.items() if row is not None
    ]


def _report_response(target: _Target, name: str, row: Any, props: Sequence[str]) -> str:
    found: list[str] = []
    not_found: list[str] = []
    for tag in props:
        local = _local(tag)
        if tag == GETETAG:
            found.append(f"<{local}>{escape(row.etag)}</{local}>")
        elif tag == GETCONTENTTYPE:
            found.append(f"<{local}>{_content_type(row.component)}</{local}>")
        elif tag == CALENDAR_DATA:
            found.append(f"<{local}>{escape(row.body)}</{local}>")
        else:
            not_found.append(f"<{local} />")
    return _response(target, name, found="".join(found), not_found="".join(not_found))


def _multistatus(
    target: _Target,
    prefixes: Iterable[str],
    head: str,
    responses: list[str],
    headers: Sequence[tuple[str, str]] = (),
) -> Answer:
    declared = "".join(
        f' xmlns:{p}="{xmlutils.NAMESPACES[p]}"' for p in sorted(set(prefixes) - {"D"})
    )
    text = (
        f"<?xml version='1.0' encoding='{ENCODING}'?>\n"
        f'<multistatus xmlns="DAV:"{declared}>{head}{"".join(responses)}</multistatus>'
    )
    content_type = ("Content-Type", f"text/xml; charset={ENCODING}")
    return _finish("207 Multi-Status", [*headers, content_type], text.encode(ENCODING), target.gzip)


def _prefixes(tags: Iterable[str]) -> list[str]:
    """Radicale's namespace prefixes of Clark-notation tags (``D`` for ``DAV:``)."""
    return [xmlutils.NAMESPACES_REV[tag[1:].partition("}")[0]] for tag in tags]


def _serialized(element: ET.Element, prefixes: set[str]) -> str | None:
    """``element`` written with Radicale's prefixes (``DAV:`` as the default namespace),
    whatever prefixes the process-wide ElementTree registry holds today (WeasyPrint, loaded
    for PDF reports, takes the empty prefix for itself); adds the prefixes it used. None for
    a namespace Radicale has no prefix for, or a namespaced attribute."""
    namespace = element.tag[1:].partition("}")[0] if element.tag.startswith("{") else ""
    prefix = xmlutils.NAMESPACES_REV.get(namespace)
    if prefix is None or any(k.startswith("{") for k in element.attrib):
        return None
    prefixes.add(prefix)
    name = _local(element.tag)
    attributes = "".join(f" {k}={quoteattr(v)}" for k, v in element.attrib.items())
    children = [_serialized(child, prefixes) for child in element]
    if any(child is None for child in children):
        return None
    inner = escape(element.text or "") + "".join(c or "" for c in children)
    tail = escape(element.tail or "")
    if not inner:
        return f"<{name}{attributes} />{tail}"
    return f"<{name}{attributes}>{inner}</{name}>{tail}"


def _finish(status: str, headers: list[tuple[str, str]], body: bytes, gzip: bool) -> Answer:
    if gzip and len(body) >= GZIP_MIN_BYTES:
        compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        body = compressor.compress(body) + compressor.flush()
        headers = [*headers, ("Content-Encoding", "gzip")]
    return status, [*headers, ("Content-Length", str(len(body)))], body
