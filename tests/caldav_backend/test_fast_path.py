"""The fast path answers exactly what Radicale answers, and really answers the common reads.

Two servers share one database: the usual one (fast path on) and one with
``[caldav] fast_path = false``. Every request below goes to both, and the parsed answers must be
equal (responses compared as sets: Radicale's own order is no contract).
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import http.client
import io
import re
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from radicale.app import Application as RadicaleApplication
from sqlalchemy import select, text

from caldav_backend.fast_path import GZIP_MIN_BYTES, FastPath
from caldav_backend.runtime import Runtime
from hermes_groupware.http.app import radicale_configuration
from hermes_groupware.models import Task
from hermes_groupware.models.enums import TaskStatus
from hermes_groupware.services.lookups import register_by_code
from hermes_groupware.services.tasks import TaskChanges, set_status, update_task
from tests.caldav_backend.conftest import PASSWORD, Server, start_server

D = "DAV:"
XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>'
PROPFIND = XML_HEAD + '<d:propfind xmlns:d="DAV:"><d:prop>{props}</d:prop></d:propfind>'
PROPFIND_CS = (
    XML_HEAD + '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop>{props}</d:prop></d:propfind>"
)
MULTIGET = (
    XML_HEAD + '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
    'xmlns:cs="http://calendarserver.org/ns/"><d:prop>{props}</d:prop>{hrefs}'
    "</c:calendar-multiget>"
)
SYNC = (
    XML_HEAD + '<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>"
    "<d:prop>{props}</d:prop></d:sync-collection>"
)
ETAG_AND_DATA = "<d:getetag/><c:calendar-data/>"


@dataclasses.dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def _auth(login: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def _call(
    base: str,
    method: str,
    path: str,
    body: str = "",
    *,
    depth: str | None = "1",
    login: str | None = "jkowalski",
    gzip_ok: bool = False,
    headers: dict[str, str] | None = None,
) -> Reply:
    host, port = base.split("//")[1].rstrip("/").split(":")
    headers = {"Content-Type": "application/xml; charset=utf-8", **(headers or {})}
    if depth is not None:
        headers["Depth"] = depth
    if login is not None:
        headers["Authorization"] = _auth(login)
    if gzip_ok:
        headers["Accept-Encoding"] = "gzip"
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body.encode(), headers)
        response = connection.getresponse()
        data = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    if found.get("content-encoding") == "gzip":
        data = gzip.decompress(data)
    return Reply(response.status, found, data)


def _canonical(element: ET.Element) -> Any:
    """An order-free form of a DAV answer: responses and properties as sorted tuples."""
    children = [_canonical(child) for child in element]
    if element.tag in (f"{{{D}}}multistatus", f"{{{D}}}prop", f"{{{D}}}response"):
        children.sort(key=repr)
    return (element.tag, (element.text or "").strip(), tuple(children))


@pytest.fixture(scope="module")
def plain_url(dav_server: Server) -> Iterator[str]:
    """A second server on the same database, with the fast path switched off."""
    settings = dataclasses.replace(
        dav_server.settings,
        caldav=dataclasses.replace(dav_server.settings.caldav, fast_path=False),
    )
    base, server = start_server(settings)
    yield base
    server.stop()


def _same(
    dav_server: Server, plain_url: str, method: str, path: str, body: str = "", **kw: Any
) -> Reply:
    """Send one request to both servers; assert equal answers; return the fast one."""
    _call(dav_server.url, "PROPFIND", "/jkowalski/", depth="0")  # the login is verified
    fast = _call(dav_server.url, method, path, body, **kw)
    plain = _call(plain_url, method, path, body, **kw)
    assert fast.status == plain.status, (fast.body[:300], plain.body[:300])
    for header in ("content-type", "etag", "last-modified", "dav"):
        assert fast.headers.get(header) == plain.headers.get(header), header
    if fast.headers.get("content-type", "").startswith("text/xml"):
        assert _canonical(ET.fromstring(fast.body)) == _canonical(ET.fromstring(plain.body))
    else:
        assert fast.body == plain.body
    return fast


def _hrefs(reply: Reply) -> list[str]:
    return re.findall(r"<href>([^<]+\.ics)</href>", reply.body.decode())


@pytest.mark.parametrize("slug", ["tasks", "planned", "register-han", "group-sprzedaz"])
@pytest.mark.parametrize(
    "props",
    [
        "<d:getetag/>",
        "<d:getcontenttype/><d:resourcetype/><d:getetag/>",  # Thunderbird
        "<d:getlastmodified/><d:getcontentlength/>",
    ],
)
def test_propfind_depth_1(dav_server: Server, plain_url: str, slug: str, props: str) -> None:
    reply = _same(
        dav_server, plain_url, "PROPFIND", f"/jkowalski/{slug}/", PROPFIND.format(props=props)
    )
    assert reply.status == 207
    if slug in ("tasks", "register-han"):
        assert _hrefs(reply)


@pytest.mark.parametrize("slug", ["tasks", "register-han"])
@pytest.mark.parametrize(
    "props",
    [
        "<cs:getctag/>",  # Thunderbird's poll
        "<cs:getctag/><d:sync-token/>",  # DAVx5's
        "<d:getetag/>",
    ],
)
def test_propfind_depth_0_counters(
    dav_server: Server, plain_url: str, slug: str, props: str
) -> None:
    body = PROPFIND_CS.format(props=props)
    reply = _same(dav_server, plain_url, "PROPFIND", f"/jkowalski/{slug}/", body, depth="0")
    assert reply.status == 207
    assert reply.body.count(b"<response>") == 1


def test_multiget_found_missing_foreign_and_odd_hrefs(dav_server: Server, plain_url: str) -> None:
    listing = _call(
        dav_server.url, "PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:getetag/>")
    )
    own = _hrefs(listing)
    foreign = _hrefs(
        _call(
            dav_server.url,
            "PROPFIND",
            "/jkowalski/register-han/",
            PROPFIND.format(props="<d:getetag/>"),
        )
    )
    hrefs = [
        own[0],
        own[0],  # a duplicate is answered once
        f"{dav_server.url.rstrip('/')}{own[1]}",  # a full URL
        own[2].replace("-", "%2D"),  # percent-encoded
        "/jkowalski/tasks/no-such-item.ics",
        foreign[0],  # another collection: 404
        "/elsewhere/x.ics",
    ]
    body = "".join(f"<d:href>{h}</d:href>" for h in hrefs)
    for props in (ETAG_AND_DATA, "<d:getetag/><d:getcontenttype/><cs:getctag/>"):
        reply = _same(
            dav_server,
            plain_url,
            "REPORT",
            "/jkowalski/tasks/",
            MULTIGET.format(props=props, hrefs=body),
        )
        assert reply.status == 207
        assert reply.body.count(b"404 Not Found") >= 2


def test_sync_collection_initial_then_changes_and_tombstones(
    dav_server: Server, plain_url: str
) -> None:
    path = "/jkowalski/register-han/"
    initial = _same(
        dav_server, plain_url, "REPORT", path, SYNC.format(token="", props="<d:getetag/>")
    )
    token = re.search(rb"<sync-token>([^<]+)</sync-token>", initial.body)
    assert token is not None
    with dav_server.uow() as uow:
        han = register_by_code(uow.session, "HAN")
        first, second = uow.session.scalars(
            select(Task.id)
            .where(
                Task.register_id == han.id,
                Task.status.in_((TaskStatus.NEW, TaskStatus.IN_PROGRESS)),
            )
            .order_by(Task.id)
            .limit(2)
        )
        update_task(uow, first, TaskChanges(subject="Zmieniony <temat> & więcej"))
        set_status(uow, second, TaskStatus.CANCELLED)  # leaves a tombstone
    changed = _same(
        dav_server,
        plain_url,
        "REPORT",
        path,
        SYNC.format(token=token.group(1).decode(), props=ETAG_AND_DATA),
        gzip_ok=True,
    )
    assert changed.body.count(b"<response>") == 2
    assert changed.headers["content-encoding"] == "gzip"  # two items with their texts
    assert b"404 Not Found" in changed.body
    assert "Zmieniony &lt;temat&gt; &amp; więcej".encode() in changed.body
    stale = SYNC.format(token="urn:hermes:sync:nope:1", props="<d:getetag/>")
    assert _same(dav_server, plain_url, "REPORT", path, stale).status == 403


def test_get_one_item_and_a_missing_one(dav_server: Server, plain_url: str) -> None:
    href = _hrefs(
        _call(
            dav_server.url, "PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:getetag/>")
        )
    )[0]
    reply = _same(dav_server, plain_url, "GET", href, depth=None, gzip_ok=True)
    assert reply.status == 200
    assert reply.body.startswith(b"BEGIN:VCALENDAR")
    assert len(reply.body) < GZIP_MIN_BYTES
    assert "content-encoding" not in reply.headers  # too small to be worth compressing
    assert (
        _same(dav_server, plain_url, "GET", "/jkowalski/tasks/nope.ics", depth=None).status == 404
    )


@pytest.mark.parametrize(
    ("login", "path"),
    [
        (None, "/jkowalski/tasks/"),  # anonymous: 401
        ("anowak", "/jkowalski/tasks/"),  # someone else's home
        ("jkowalski", "/jkowalski/register-ser/"),  # a register closed to him
    ],
)
def test_refusals_are_the_same(
    dav_server: Server, plain_url: str, login: str | None, path: str
) -> None:
    _call(dav_server.url, "PROPFIND", "/anowak/", depth="0", login="anowak")
    reply = _same(
        dav_server, plain_url, "PROPFIND", path, PROPFIND.format(props="<d:getetag/>"), login=login
    )
    assert reply.status in (401, 403, 404)


# -- which requests the fast path takes itself ----------------------------------------------
@pytest.fixture(scope="module")
def fast_path(dav_server: Server) -> FastPath:
    """A FastPath over the test server's database, with jkowalski's login just verified."""
    runtime = Runtime(settings=dav_server.settings, database=dav_server.database)
    runtime.logins.remember("jkowalski", PASSWORD, 60)
    return FastPath(runtime, RadicaleApplication(radicale_configuration(runtime)))


def _environ(
    method: str, path: str, body: str = "", depth: str = "1", login: str = "jkowalski"
) -> dict[str, Any]:
    data = body.encode()
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "HTTP_DEPTH": depth,
        "HTTP_AUTHORIZATION": _auth(login),
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }


def test_the_common_reads_are_answered_without_radicale(
    dav_server: Server, fast_path: FastPath
) -> None:
    listing = fast_path.respond(
        _environ("PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:getetag/>"))
    )
    assert listing is not None
    href = re.findall(rb"<href>([^<]+\.ics)</href>", listing[2])[0].decode()
    multiget = MULTIGET.format(props=ETAG_AND_DATA, hrefs=f"<d:href>{href}</d:href>")
    assert fast_path.respond(_environ("REPORT", "/jkowalski/tasks/", multiget)) is not None
    sync = SYNC.format(token="", props="<d:getetag/>")
    assert fast_path.respond(_environ("REPORT", "/jkowalski/tasks/", sync)) is not None
    poll = PROPFIND_CS.format(props="<cs:getctag/><d:sync-token/>")
    assert fast_path.respond(_environ("PROPFIND", "/jkowalski/tasks/", poll, depth="0")) is not None
    got = fast_path.respond(_environ("GET", href))
    assert got is not None
    assert got[0] == "200 OK"


@pytest.mark.parametrize(
    "environ",
    [
        _environ(
            "PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:displayname/>"), depth="0"
        ),
        _environ("PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:displayname/>")),
        _environ(
            "PROPFIND",
            "/jkowalski/tasks/",
            XML_HEAD + '<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>',
        ),
        _environ(
            "PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:getetag/>"), login="anowak"
        ),
        _environ("PROPFIND", "/anowak/tasks/", PROPFIND.format(props="<d:getetag/>")),
        _environ("PROPFIND", "/jkowalski/register-ser/", PROPFIND.format(props="<d:getetag/>")),
        _environ("PROPFIND", "/jkowalski//tasks/", PROPFIND.format(props="<d:getetag/>")),
        _environ("REPORT", "/jkowalski/tasks/", SYNC.format(token="bad", props="<d:getetag/>")),
        _environ(
            "REPORT",
            "/jkowalski/tasks/",
            XML_HEAD + '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            '<d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"/></c:filter>'
            "</c:calendar-query>",
        ),
        _environ("GET", "/jkowalski/tasks/"),
        _environ("GET", "/jkowalski/tasks/no-such.ics"),
        _environ("PROPFIND", "/jkowalski/tasks/", "<not xml"),
    ],
)
def test_everything_else_goes_to_radicale(fast_path: FastPath, environ: dict[str, Any]) -> None:
    body = environ["wsgi.input"].getvalue()
    assert fast_path.respond(environ) is None
    assert environ["wsgi.input"].read() == body  # Radicale still reads the whole body


def test_answers_keep_their_shape_after_a_pdf_report_loaded_weasyprint(
    dav_server: Server, plain_url: str, fast_path: FastPath
) -> None:
    """WeasyPrint takes the empty XML prefix process-wide when it loads (a PDF report in the
    same process); Radicale then writes ``ns0:`` prefixes, the fast path still its own."""
    import weasyprint.pdf.metadata  # noqa: F401 - loading it is the point

    body = PROPFIND.format(props="<d:getetag/>")
    answer = fast_path.respond(_environ("PROPFIND", "/jkowalski/register-han/", body))
    assert answer is not None
    assert b'<multistatus xmlns="DAV:"' in answer[2]
    assert re.findall(rb"<href>([^<]+\.ics)</href>", answer[2])
    _same(dav_server, plain_url, "PROPFIND", "/jkowalski/register-han/", body)


def test_get_and_multiget_see_a_change_written_straight_into_the_database(
    dav_server: Server, fast_path: FastPath
) -> None:
    """GET and multiget read in one statement that also checks the journal: a write that
    bypassed our code (the desktop application's plain SQL) is caught up first."""
    with dav_server.uow() as uow:
        task_id = uow.session.scalar(
            select(Task.id)
            .where(Task.register_id == register_by_code(uow.session, "HAN").id)
            .where(Task.status.in_((TaskStatus.NEW, TaskStatus.IN_PROGRESS)))
            .order_by(Task.id)
        )
    href = f"/jkowalski/register-han/hermes-{task_id}.ics"
    before = fast_path.respond(_environ("GET", href))
    assert before is not None
    with dav_server.database.engine.begin() as conn:
        conn.execute(
            text("UPDATE tasks SET subject = :s WHERE id = :id"),
            {"s": "Zmiana z programu Hermes", "id": task_id},
        )
    got = fast_path.respond(_environ("GET", href))
    assert got is not None
    assert b"Zmiana z programu Hermes" in got[2]
    assert dict(got[1])["ETag"] != dict(before[1])["ETag"]
    multiget = MULTIGET.format(props=ETAG_AND_DATA, hrefs=f"<d:href>{href}</d:href>")
    listed = fast_path.respond(_environ("REPORT", "/jkowalski/register-han/", multiget))
    assert listed is not None
    assert dict(got[1])["ETag"].encode() in listed[2]
    with dav_server.database.engine.begin() as conn:  # cancelled: a tombstone stays
        conn.execute(text("UPDATE tasks SET status = 'cancelled' WHERE id = :id"), {"id": task_id})
    assert fast_path.respond(_environ("GET", href)) is None  # Radicale words the 404
    gone = fast_path.respond(_environ("REPORT", "/jkowalski/register-han/", multiget))
    assert gone is not None
    assert b"404 Not Found" in gone[2]
    assert b"BEGIN:VCALENDAR" not in gone[2]


# -- PUT: a plain item is written without Radicale, with Radicale's answers -------------------
CLIENT_TODO = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Klient//PL\r\nBEGIN:VTODO\r\n"
    "UID:{uid}\r\nDTSTAMP:20261127T100000Z\r\nSUMMARY:{summary}\r\n"
    "DUE;VALUE=DATE:20261204\r\nPRIORITY:1\r\nX-APPLE-SORT-ORDER:7\r\n"
    "DESCRIPTION:Opis zadania z klienta\\, dość długi\\, żeby linia była zawinięta przez "
    "serwer i klienta\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Przypomnienie\r\n"
    "TRIGGER;RELATED=START:-PT15M\r\nX-MOZ-LASTACK:20261127T090000Z\r\nEND:VALARM\r\n"
    "END:VTODO\r\nEND:VCALENDAR\r\n"
)
ICS = {"Content-Type": "text/calendar; charset=utf-8"}
_PER_TASK = ("DTSTAMP:", "X-HERMES-TASK-ID:", "CREATED:", "LAST-MODIFIED:")


def _stored_shape(text: str, uid: str) -> dict[str, list[str]]:
    """A stored text's properties per component, sorted (the order of properties and of
    subcomponents is no contract), without what differs between two tasks (UID, number,
    id, stamps)."""
    unfolded = text.replace("\r\n ", "").replace(uid, "UID")
    unfolded = re.sub(r"[A-Z]+/\d{4}/\d+", "NUMBER", unfolded)
    blocks: dict[str, list[str]] = {}
    inside: list[str] = []
    for line in unfolded.split("\r\n"):
        if line.startswith("BEGIN:"):
            inside.append(line[6:])
        elif line.startswith("END:"):
            inside.pop()
        elif line and not line.startswith(_PER_TASK):
            blocks.setdefault("/".join(inside), []).append(line)
    return {path: sorted(lines) for path, lines in blocks.items()}


def test_a_plain_put_is_stored_and_answered_as_radicale_does(
    dav_server: Server, plain_url: str
) -> None:
    """The same new item and the same edit, once through each server (each its own item,
    since the servers share the database): same statuses and headers, same stored text."""
    _call(dav_server.url, "PROPFIND", "/jkowalski/", depth="0")  # the login is verified
    stored = {}
    for base, uid in ((dav_server.url, "put-fast-1"), (plain_url, "put-plain-1")):
        path = f"/jkowalski/register-han/{uid}.ics"
        body = CLIENT_TODO.format(uid=uid, summary="Nowe z telefonu")
        created = _call(base, "PUT", path, body, depth=None, headers={**ICS, "If-None-Match": "*"})
        got = _call(base, "GET", path, depth=None)
        edit = got.body.decode().replace("Nowe z telefonu", "Poprawione")
        headers = {**ICS, "If-Match": got.headers["etag"]}
        edited = _call(base, "PUT", path, edit, depth=None, headers=headers)
        final = _call(base, "GET", path, depth=None)
        stored[base] = (created, edited, _stored_shape(final.body.decode(), uid))
    fast, plain = stored[dav_server.url], stored[plain_url]
    for mine, theirs in zip(fast[:2], plain[:2], strict=True):
        assert (mine.status, mine.body) == (theirs.status, theirs.body)
        for header in ("content-type", "etag", "dav"):
            assert mine.headers.get(header) == theirs.headers.get(header), header
        print(mine.status, mine.headers, theirs.headers)
    assert [fast[0].status, fast[1].status] == [201, 204]
    assert fast[2] == plain[2]
    assert "X-APPLE-SORT-ORDER:7" in fast[2]["VCALENDAR/VTODO"]
    assert "SUMMARY:[NUMBER] Poprawione" in fast[2]["VCALENDAR/VTODO"]
    assert "X-MOZ-LASTACK:20261127T090000Z" in fast[2]["VCALENDAR/VTODO/VALARM"]


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        # an existing item with If-None-Match: *, and a stale If-Match: 412
        ("{existing}", CLIENT_TODO.format(uid="{uid}", summary="x"), {"If-None-Match": "*"}),
        ("{existing}", CLIENT_TODO.format(uid="{uid}", summary="x"), {"If-Match": '"stale"'}),
        (
            "/jkowalski/tasks/put-gone.ics",
            CLIENT_TODO.format(uid="g", summary="x"),
            {"If-Match": "*"},
        ),
        # a UID already in the list under another href, another UID at an href: 409
        ("/jkowalski/tasks/put-clash.ics", CLIENT_TODO.format(uid="{uid}", summary="x"), {}),
        ("{existing}", CLIENT_TODO.format(uid="put-other-uid", summary="x"), {}),
        # an event into a list of tasks, not iCalendar, no UID: 400 or 403
        (
            "/jkowalski/tasks/put-event.ics",
            CLIENT_TODO.format(uid="e", summary="x").replace("VTODO", "VEVENT"),
            {},
        ),
        ("/jkowalski/tasks/put-junk.ics", "to nie jest kalendarz", {}),
        ("/jkowalski/tasks/put-no-uid.ics", CLIENT_TODO.format(uid="", summary="x"), {}),
        # someone else's list, a register he may only read
        ("/anowak/tasks/put-foreign.ics", CLIENT_TODO.format(uid="f", summary="x"), {}),
        ("/jkowalski/register-ser/put-ser.ics", CLIENT_TODO.format(uid="s", summary="x"), {}),
    ],
)
def test_put_refusals_are_radicales(
    dav_server: Server, plain_url: str, path: str, body: str, headers: dict[str, str]
) -> None:
    listing = _call(
        dav_server.url, "PROPFIND", "/jkowalski/tasks/", PROPFIND.format(props="<d:getetag/>")
    )
    existing = _hrefs(listing)[0]
    uid = re.search(r"UID:(\S+)", _call(dav_server.url, "GET", existing, depth=None).body.decode())
    assert uid is not None
    path, body = path.format(existing=existing), body.replace("{uid}", uid.group(1))
    before = _call(dav_server.url, "GET", existing, depth=None)
    reply = _same(dav_server, plain_url, "PUT", path, body, depth=None, headers={**ICS, **headers})
    assert reply.status in (400, 403, 404, 409, 412), reply.status
    after = _call(dav_server.url, "GET", existing, depth=None)
    assert (after.headers["etag"], after.body) == (before.headers["etag"], before.body)
    assert _call(dav_server.url, "GET", path, depth=None).status in (403, 404) or path == existing


def _put_environ(path: str, body: str, **headers: str) -> dict[str, Any]:
    environ = _environ("PUT", path, body)
    environ["CONTENT_TYPE"] = headers.pop("content_type", "text/calendar; charset=utf-8")
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return environ


def test_a_plain_put_is_written_without_radicale(fast_path: FastPath) -> None:
    body = CLIENT_TODO.format(uid="put-direct-1", summary="Bez Radicale")
    answer = fast_path.respond(_put_environ("/jkowalski/tasks/put-direct-1.ics", body))
    assert answer == ("201 Created", [], b"")
    again = fast_path.respond(_put_environ("/jkowalski/tasks/put-direct-1.ics", body))
    assert again == ("204 No Content", [], b"")
    zone = (  # Outlook and Apple send the time zone first
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Warsaw\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    zoned = CLIENT_TODO.format(uid="put-direct-2", summary="Ze strefą").replace(
        "BEGIN:VTODO\r\n", zone + "BEGIN:VTODO\r\n"
    )
    zoned = zoned.replace("DUE;VALUE=DATE:20261204", "DUE;TZID=Europe/Warsaw:20261204T120000")
    answer = fast_path.respond(_put_environ("/jkowalski/tasks/put-direct-2.ics", zoned))
    assert answer == ("201 Created", [], b"")


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (CLIENT_TODO.replace("PRIORITY:1", "RRULE:FREQ=WEEKLY"), {}),  # recurrence
        (CLIENT_TODO.replace("PRIORITY:1", "DURATION:PT0S"), {}),  # Radicale's quirk fixes
        (CLIENT_TODO.replace("BEGIN:VALARM", "BEGIN:VJOURNAL\r\nEND:VJOURNAL\r\nBEGIN:VALARM"), {}),
        (CLIENT_TODO, {"content_type": "text/calendar; charset=iso-8859-2"}),
        (CLIENT_TODO, {"content_encoding": "gzip"}),
        (CLIENT_TODO, {"if_none_match": "*", "if_match": '"x"'}),
    ],
)
def test_puts_radicale_may_treat_otherwise_go_to_radicale(
    fast_path: FastPath, body: str, headers: dict[str, str]
) -> None:
    text = body.format(uid="put-declined", summary="x")
    environ = _put_environ("/jkowalski/tasks/put-declined.ics", text, **headers)
    assert fast_path.respond(environ) is None
    assert environ["wsgi.input"].read() == text.encode()  # Radicale still reads the whole body
