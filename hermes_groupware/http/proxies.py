"""The client's real address behind the reverse proxies we trust (``[http] trusted_proxies``).

Behind nginx or a load balancer every request comes from the proxy's address, so per-address
login back-off would lock a whole company out after a few typos, and address allow-lists would
admit everyone. When the peer is a trusted proxy, ``REMOTE_ADDR`` becomes the nearest address
in ``X-Forwarded-For`` that is not itself a trusted proxy (walking from the right: the left
part of the header is whatever the client chose to send). From an untrusted peer the header
means nothing and ``REMOTE_ADDR`` stays as it is.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")
_CLAIMED_ORIGIN = (
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_SERVER",
)


def networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` as networks (the config loader validated them)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_address(environ: dict[str, Any], trusted: Sequence[Network]) -> str | None:
    """The client's address when the peer is a trusted proxy that named one, else None."""
    if not trusted or not _is_trusted(environ.get("REMOTE_ADDR", ""), trusted):
        return None
    hops = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    client = None
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_address(hop):
            break  # garbage: trust nothing further left
        client = hop
        if not _is_trusted(hop, trusted):
            break
    return client


def behind_proxies(app: WSGIApp, trusted: Sequence[Network]) -> WSGIApp:
    """``app`` seeing the client's address, scheme and host; forwarding headers are consumed
    when trusted.

    From a trusted proxy, ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` become the scheme
    and host the application sees: TLS ends at the proxy, yet the console must set Secure
    cookies and give phones an ``https://`` address. From any other peer the host and scheme
    a client claims are dropped; the address headers stay, so that ``/metrics`` can tell a
    proxied request from a local one.
    """

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not _is_trusted(environ.get("REMOTE_ADDR", ""), trusted):
            for header in _CLAIMED_ORIGIN:
                environ.pop(header, None)
            return app(environ, start_response)
        _take_origin(environ)
        client = client_address(environ, trusted)
        if client is not None:
            environ["REMOTE_ADDR"] = client
            for header in _FORWARDING:
                environ.pop(header, None)
        return app(environ, start_response)

    return wrapped


def _take_origin(environ: dict[str, Any]) -> None:
    """Scheme and host as the nearest (trusted) proxy names them; values it appended last."""
    proto = environ.get("HTTP_X_FORWARDED_PROTO", "").rsplit(",", 1)[-1].strip().lower()
    if proto in ("http", "https"):
        environ["wsgi.url_scheme"] = proto
    host = environ.get("HTTP_X_FORWARDED_HOST", "").rsplit(",", 1)[-1].strip()
    if _HOST.fullmatch(host):
        environ["HTTP_HOST"] = host


_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(text: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in trusted)
