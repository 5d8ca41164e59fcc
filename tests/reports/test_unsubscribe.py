"""One-click unsubscribe: the signed token, and the link served by the real HTTP server."""

from __future__ import annotations

import dataclasses
import http.client
import urllib.parse
from collections.abc import Iterator

import pytest

from hermes_groupware.http.server_thread import ServerThread
from hermes_groupware.models.enums import ReportRunStatus
from hermes_groupware.services import report_schedule_admin, report_schedules
from reports.unsubscribe import make_token, read_token, unsubscribe_url
from tests.conftest import DatabaseFactory
from tests.reports.mailing import Mailing, mailing_on

SECRET = "a-secret-key-for-the-tests"


# --- the token --------------------------------------------------------------------------------


def test_a_token_names_its_schedule_and_address() -> None:
    token = make_token(SECRET, 12, "Jan@Partner.PL")

    assert read_token(SECRET, token) == (12, "jan@partner.pl")
    assert urllib.parse.quote(token, safe="") == token  # goes into a URL as it is


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: make_token("another-key", 12, "jan@partner.pl"),
        lambda t: make_token(SECRET, 13, "jan@partner.pl").split(".")[0] + "." + t.split(".")[1],
        lambda t: make_token(SECRET, 12, "ewa@partner.pl").split(".")[0] + "." + t.split(".")[1],
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0],
        lambda t: t + ".x",
        lambda t: "!!!." + t.split(".")[1],
        lambda t: t.split(".")[0] + "." + "A" * 5000,
        lambda t: "",
    ],
    ids=[
        "other-key",
        "other-schedule",
        "other-address",
        "altered-signature",
        "no-signature",
        "extra-part",
        "not-base64",
        "oversized",
        "empty",
    ],
)
def test_an_altered_or_forged_token_is_refused(forge: object) -> None:
    token = make_token(SECRET, 12, "jan@partner.pl")

    assert read_token(SECRET, forge(token)) is None  # type: ignore[operator]


# --- the link over HTTP -----------------------------------------------------------------------


@dataclasses.dataclass
class Site:
    """The HTTP server and the database and settings behind it."""

    mailing: Mailing
    host: str
    port: int

    def request(
        self, method: str, url: str, body: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        """Status, headers and text of one plain request to ``url`` (absolute or a path)."""
        parts = urllib.parse.urlsplit(url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def subscribed(self, schedule_id: int, address: str) -> bool:
        with self.mailing.uow() as uow:
            return report_schedules.is_subscribed(uow.session, schedule_id, address)


@pytest.fixture(scope="module")
def site(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real WSGI application on a loopback port; report links point at it."""
    tmp = tmp_path_factory.mktemp("unsubscribe")
    with mailing_on(db_factory, tmp) as mailing:
        server = ServerThread(mailing.settings, "127.0.0.1", 0, 2)
        port = server.port
        server.start()
        public = f"http://127.0.0.1:{port}"
        mailing.settings = dataclasses.replace(
            mailing.settings,
            feeds=dataclasses.replace(mailing.settings.feeds, public_url=public),
        )
        try:
            yield Site(mailing, "127.0.0.1", port)
        finally:
            server.stop()


def _schedule(site: Site, name: str, *recipients: str) -> int:
    return site.mailing.schedule(name=name, recipients=list(recipients))


def _link(site: Site, schedule_id: int, address: str) -> str:
    return unsubscribe_url(site.mailing.settings, schedule_id, address)


def test_post_from_the_mail_header_unsubscribes_and_the_next_run_skips_the_address(
    site: Site,
) -> None:
    mailing = site.mailing
    schedule = _schedule(site, "Co tydzień", "boss", "bob", "jan@partner.pl")
    first, _ = mailing.send(schedule)
    header = mailing.mails(first)["jan@partner.pl"]["List-Unsubscribe"]
    url = header.strip("<>")
    assert url.startswith(f"http://127.0.0.1:{site.port}/reports/unsubscribe?t=")

    status, headers, page = site.request("POST", url, body="List-Unsubscribe=One-Click")

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert "jan@partner.pl" in page
    assert "Co tydzień" in page
    assert not site.subscribed(schedule, "jan@partner.pl")
    assert site.subscribed(schedule, "bob@firma.pl")
    run_id, sent = mailing.send(schedule)
    assert sent is ReportRunStatus.SENT
    assert mailing.run(run_id).recipients == 2
    with mailing.uow() as uow:
        latest = report_schedule_admin.get_schedule(uow, schedule)
    assert latest.unsubscribed == ("jan@partner.pl",)
    assert sorted(mailing.mails(run_id)) == ["bob@firma.pl", "boss@firma.pl"]


def test_get_only_shows_a_button_and_never_unsubscribes(site: Site) -> None:
    schedule = _schedule(site, "Podgląd linku", "bob")
    link = _link(site, schedule, "bob@firma.pl")

    status, headers, page = site.request("GET", link)
    head_status, head_headers, head_body = site.request("HEAD", link)

    assert status == head_status == 200
    assert site.subscribed(schedule, "bob@firma.pl")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Robots-Tag"] == "noindex"
    assert headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    )
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["t"][0]
    assert f'<form method="post" action="?t={token}">' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "Wypisz" in page
    assert "Unsubscribe" in page
    assert "<script" not in page
    assert "http" not in page.split("<body>")[1]  # no external resources
    assert head_body == ""
    assert head_headers["Content-Length"] == headers["Content-Length"]


def test_the_page_escapes_the_schedule_name(site: Site) -> None:
    schedule = _schedule(site, '<img src=x onerror="alert(1)"> & co', "bob")

    for method in ("GET", "POST"):
        status, _, page = site.request(method, _link(site, schedule, "bob@firma.pl"))
        assert status == 200
        assert "<img" not in page
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co" in page


def test_a_second_post_is_harmless(site: Site) -> None:
    schedule = _schedule(site, "Dwa kliknięcia", "bob")
    link = _link(site, schedule, "bob@firma.pl")

    statuses = [site.request("POST", link, body="List-Unsubscribe=One-Click")[0] for _ in "12"]

    assert statuses == [200, 200]
    assert not site.subscribed(schedule, "bob@firma.pl")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tampered_or_forged_token_is_a_plain_404(site: Site, method: str) -> None:
    schedule = _schedule(site, f"Podróbka {method}", "bob", "jan@partner.pl")
    genuine = make_token(site.mailing.settings.secret_key, schedule, "bob@firma.pl")
    other = make_token(site.mailing.settings.secret_key, schedule, "jan@partner.pl")
    base = "/reports/unsubscribe?t="
    forged = [
        base + make_token("not-our-key", schedule, "bob@firma.pl"),
        base + genuine.split(".")[0] + "." + other.split(".")[1],
        base + genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),
        base,
        "/reports/unsubscribe",
        f"/reports/unsubscribe?t={genuine}&t={genuine}",
    ]

    answers = [site.request(method, url, body="List-Unsubscribe=One-Click") for url in forged]

    assert {status for status, _, _ in answers} == {404}
    assert {page for _, _, page in answers} == {"Nie znaleziono.\nNot found.\n"}
    assert site.subscribed(schedule, "bob@firma.pl")
    assert site.subscribed(schedule, "jan@partner.pl")


def test_a_link_of_a_deleted_schedule_is_a_404(site: Site) -> None:
    schedule = _schedule(site, "Usunięty", "bob")
    link = _link(site, schedule, "bob@firma.pl")
    with site.mailing.uow() as uow:
        report_schedule_admin.delete_schedule(uow, schedule)

    assert site.request("GET", link)[0] == 404
    assert site.request("POST", link)[0] == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PROPFIND"])
def test_other_methods_are_not_allowed(site: Site, method: str) -> None:
    schedule = _schedule(site, f"Metoda {method}", "bob")

    status, headers, _ = site.request(method, _link(site, schedule, "bob@firma.pl"))

    assert status == 405
    assert headers["Allow"] == "GET, HEAD, POST"
    assert site.subscribed(schedule, "bob@firma.pl")
