"""Sender verification from our MTA's Authentication-Results header only."""

from __future__ import annotations

from pathlib import Path

import pytest

from mail_gateway.authres import SenderAuth, authenticate_sender, parse_authres
from mail_gateway.mime import parse_message

DATA = Path(__file__).parents[1] / "data" / "mail" / "mime"
OURS = "mx.firma.pl"


def auth(raw: bytes, authserv_id: str | None = OURS) -> SenderAuth:
    return authenticate_sender(parse_message(raw), authserv_id=authserv_id)


def message(results: str, sender: str = "Jan <jan@klient.pl>") -> bytes:
    text = "".join(f"Authentication-Results: {value}\n" for value in results.split("\n\n") if value)
    text += f"From: {sender}\nTo: biuro@firma.pl\nSubject: x\n\nbody\n"
    return text.replace("\n", "\r\n").encode()


def test_trusted_fixture_is_verified_by_dmarc() -> None:
    result = auth((DATA / "authres_trusted.eml").read_bytes())
    assert result == SenderAuth(True, "dmarc", "mx.firma.pl: dmarc=pass header.from=klient.pl")


def test_injected_lower_header_is_ignored() -> None:
    result = auth((DATA / "authres_injected_lower.eml").read_bytes())
    assert not result.verified and result.method == "none"
    assert "dmarc=fail" in result.detail


def test_foreign_authserv_id_is_ignored() -> None:
    result = auth((DATA / "authres_foreign.eml").read_bytes())
    assert result == SenderAuth(False, "none", "no Authentication-Results from mx.firma.pl")


def test_no_authserv_id_configured() -> None:
    result = auth((DATA / "authres_trusted.eml").read_bytes(), authserv_id=None)
    assert result == SenderAuth(False, "none", "no authserv-id configured")


def test_authserv_id_compares_case_insensitively() -> None:
    assert auth(message("MX.Firma.PL; dmarc=pass header.from=klient.pl")).verified


@pytest.mark.parametrize(
    ("results", "method"),
    [
        ("mx.firma.pl; dkim=pass header.d=klient.pl", "dkim"),
        ("mx.firma.pl; dkim=pass (good signature) header.d=KLIENT.PL header.s=sel", "dkim"),
        ("mx.firma.pl; dkim=pass header.i=@klient.pl", "dkim"),
        ("mx.firma.pl; dkim=pass header.i=jan@klient.pl", "dkim"),
        ("mx.firma.pl; spf=pass smtp.mailfrom=bounce@klient.pl", "spf"),
        ("mx.firma.pl; spf=pass smtp.mailfrom=klient.pl", "spf"),
        ("mx.firma.pl; auth=pass smtp.auth=jan", "auth"),
        ('mx.firma.pl 1; dmarc = pass (p=reject) header.from = "klient.pl"', "dmarc"),
    ],
)
def test_verified_methods(results: str, method: str) -> None:
    result = auth(message(results))
    assert result.verified and result.method == method, result


def test_dkim_of_a_parent_domain_is_aligned() -> None:
    result = auth(message("mx.firma.pl; dkim=pass header.d=klient.pl", "a@biuro.klient.pl"))
    assert result.verified


@pytest.mark.parametrize(
    "results",
    [
        "mx.firma.pl; dkim=pass header.d=other.pl",
        "mx.firma.pl; dkim=pass header.d=pl",  # a TLD is nobody's parent
        "mx.firma.pl; dkim=pass header.d=sub.klient.pl",  # a child domain does not vouch up
        "mx.firma.pl; dkim=pass header.d=xklient.pl",
        "mx.firma.pl; dkim=fail header.d=klient.pl",
        "mx.firma.pl; spf=pass smtp.mailfrom=bounce@esp.example",
        "mx.firma.pl; spf=softfail smtp.mailfrom=klient.pl",
        "mx.firma.pl; dmarc=pass header.from=other.pl",
        "mx.firma.pl; none",
        "mx.firma.pl; auth=fail smtp.auth=jan",
        "mx.firma.pl; dkim=pass (header.d=klient.pl in a comment) header.d=other.pl",
        'mx.firma.pl; dkim=pass reason="header.d=klient.pl; x" header.d=other.pl',
    ],
)
def test_not_verified(results: str) -> None:
    assert not auth(message(results)).verified


def test_only_the_topmost_of_our_headers_counts() -> None:
    raw = message(
        "mx.firma.pl; dmarc=fail header.from=klient.pl\n\n"
        "mx.firma.pl; dmarc=pass header.from=klient.pl"
    )
    assert not auth(raw).verified


def test_foreign_headers_above_ours_are_skipped() -> None:
    raw = message(
        "evil.example; dmarc=fail header.from=klient.pl\n\n"
        "mx.firma.pl; dmarc=pass header.from=klient.pl"
    )
    assert auth(raw).verified


def test_multiple_from_addresses_are_never_verified() -> None:
    raw = message("mx.firma.pl; dmarc=pass header.from=klient.pl", "a@klient.pl, b@evil.example")
    assert auth(raw) == SenderAuth(False, "none", "2 From addresses")


def test_parser_details() -> None:
    parsed = parse_authres(
        "mx.firma.pl (Postfix (nested) comment); dkim=pass (1024-bit key) header.d=a.pl "
        'header.b="AbC=";\r\n\tspf=neutral smtp.mailfrom="x@b.pl"; arc=none'
    )
    assert parsed is not None
    server, results = parsed
    assert server == "mx.firma.pl"
    assert [(r.method, r.result, r.props) for r in results] == [
        ("dkim", "pass", {"header.d": "a.pl", "header.b": "AbC="}),
        ("spf", "neutral", {"smtp.mailfrom": "x@b.pl"}),
        ("arc", "none", {}),
    ]
    assert parse_authres("") is None
    assert parse_authres("; dkim=pass") is None
    assert parse_authres("mx.firma.pl; none") == ("mx.firma.pl", [])
    assert parse_authres("((((unbalanced") is None
