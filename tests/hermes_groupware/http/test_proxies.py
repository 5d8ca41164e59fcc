"""The client's address behind trusted proxies: taken from X-Forwarded-For only from them."""

from __future__ import annotations

from typing import Any

import pytest

from hermes_groupware.http.proxies import behind_proxies, client_address, networks

TRUSTED = networks(["127.0.0.1", "10.0.0.0/8"])


def _environ(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    environ: dict[str, Any] = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return environ


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "198.51.100.7, 10.1.2.3", "198.51.100.7"),  # two proxies of ours
        ("127.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own claim ignored
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "not-an-address, 198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "198.51.100.7, garbage", None),  # nothing usable after our proxy
        ("127.0.0.1", "10.9.9.9", "10.9.9.9"),  # only proxies: the farthest one
        ("127.0.0.1", None, None),
        ("203.0.113.9", "198.51.100.7", None),  # an untrusted peer names nobody
    ],
)
def test_the_client_is_the_nearest_untrusted_hop(
    peer: str, forwarded: str | None, client: str | None
) -> None:
    assert client_address(_environ(peer, forwarded), TRUSTED) == client


def test_the_application_sees_the_client_and_no_forwarding_headers() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    wrapped = behind_proxies(app, TRUSTED)
    wrapped(_environ("127.0.0.1", "198.51.100.7"), None)
    assert seen["REMOTE_ADDR"] == "198.51.100.7"
    assert "HTTP_X_FORWARDED_FOR" not in seen
    seen.clear()
    wrapped(_environ("203.0.113.9", "198.51.100.7"), None)
    assert seen["REMOTE_ADDR"] == "203.0.113.9"
    assert seen["HTTP_X_FORWARDED_FOR"] == "198.51.100.7"  # left for whoever checks it


def test_an_untrusted_peer_cannot_claim_a_host_or_scheme() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    claims = {"HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "https"}
    for trusted in ((), TRUSTED):
        seen.clear()
        behind_proxies(app, trusted)({**_environ("203.0.113.9", "198.51.100.7"), **claims}, None)
        assert "HTTP_X_FORWARDED_HOST" not in seen
        assert "HTTP_X_FORWARDED_PROTO" not in seen
        assert seen["REMOTE_ADDR"] == "203.0.113.9"
    seen.clear()
    behind_proxies(app, TRUSTED)({**_environ("127.0.0.1", "198.51.100.7"), **claims}, None)
    assert seen["HTTP_X_FORWARDED_HOST"] == "evil.example"  # the balancer's word counts


def test_without_trusted_proxies_addresses_stay() -> None:
    assert client_address(_environ("127.0.0.1", "198.51.100.7"), ()) is None


@pytest.mark.parametrize(
    ("peer", "proto", "host", "scheme", "seen_host"),
    [
        ("127.0.0.1", "https", "hermes.firma.pl", "https", "hermes.firma.pl"),
        (
            "127.0.0.1",
            "http, https",
            "a.example, hermes.firma.pl:8443",
            "https",
            "hermes.firma.pl:8443",
        ),
        ("127.0.0.1", "gopher", "bad host/with path", "http", "internal:5232"),  # nonsense kept out
        ("203.0.113.9", "https", "evil.example", "http", "internal:5232"),  # not a proxy of ours
    ],
)
def test_a_trusted_proxy_names_the_scheme_and_host(
    peer: str, proto: str, host: str, scheme: str, seen_host: str
) -> None:
    """TLS ends at the proxy: the console's Secure cookie and https:// links depend on this."""
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    environ = {
        **_environ(peer),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "internal:5232",
        "HTTP_X_FORWARDED_PROTO": proto,
        "HTTP_X_FORWARDED_HOST": host,
    }
    behind_proxies(app, TRUSTED)(environ, None)
    assert (seen["wsgi.url_scheme"], seen["HTTP_HOST"]) == (scheme, seen_host)
