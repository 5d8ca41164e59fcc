"""Whether our own MTA vouches for the From address (RFC 8601 Authentication-Results).

Anyone can write an Authentication-Results header, so only the topmost one carrying our
authserv-id counts: our MTA adds its header above everything that arrived with the message.
Lower ones and those of other servers are ignored, they may be forged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mail_gateway.mime import ParsedMessage


@dataclass(frozen=True)
class SenderAuth:
    """The verdict on the sender and what it rests on."""

    verified: bool
    method: str  # "dmarc", "dkim", "spf", "auth" (SMTP AUTH) or "none"
    detail: str


@dataclass(frozen=True)
class _Result:
    method: str
    result: str
    props: dict[str, str]


def authenticate_sender(msg: ParsedMessage, *, authserv_id: str | None) -> SenderAuth:
    """Verified only when our MTA's results show an aligned pass for the single From domain."""
    if not authserv_id:
        return SenderAuth(False, "none", "no authserv-id configured")
    if len(msg.from_) != 1:
        return SenderAuth(False, "none", f"{len(msg.from_)} From addresses")
    ours = _our_results(msg, authserv_id)
    if ours is None:
        return SenderAuth(False, "none", f"no Authentication-Results from {authserv_id}")
    domain = msg.from_[0].domain
    checks = (
        ("dmarc", "header.from", _equal),
        ("dkim", "header.d", _aligned),
        ("dkim", "header.i", _aligned),
        ("spf", "smtp.mailfrom", _aligned),
    )
    for method, prop, fits in checks:
        for res in ours:
            value = _domain_of(res.props.get(prop, ""))
            if res.method == method and res.result == "pass" and value and fits(value, domain):
                return SenderAuth(True, method, f"{authserv_id}: {method}=pass {prop}={value}")
    for res in ours:
        if res.method == "auth" and res.result == "pass":
            who = res.props.get("smtp.auth", "?")
            return SenderAuth(True, "auth", f"{authserv_id}: auth=pass smtp.auth={who}")
    summary = ", ".join(f"{r.method}={r.result}" for r in ours) or "none"
    return SenderAuth(False, "none", f"{authserv_id}: {summary}; nothing aligned with {domain}")


def _our_results(msg: ParsedMessage, authserv_id: str) -> list[_Result] | None:
    for value in msg.header("Authentication-Results"):
        parsed = parse_authres(value)
        if parsed is not None and parsed[0].lower() == authserv_id.lower():
            return parsed[1]
    return None


def _equal(value: str, domain: str) -> bool:
    return value == domain


def _aligned(value: str, domain: str) -> bool:
    """Same domain, or a parent of it (``firma.pl`` signs for ``biuro.firma.pl``); no TLDs."""
    return "." in value and (domain == value or domain.endswith("." + value))


def _domain_of(value: str) -> str:
    return value.rpartition("@")[2].strip().rstrip(".").lower()


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s";=]+)|([=;])', re.DOTALL)


def parse_authres(value: str) -> tuple[str, list[_Result]] | None:
    """(authserv-id, results) of one header value; None when it is not parseable."""
    tokens = _tokens(_strip_comments(value))
    if not tokens or tokens[0][0] != "word":
        return None
    server = tokens[0][1]
    results: list[_Result] = []
    for resinfo in _resinfos(tokens[1:]):
        pairs = _pairs(resinfo)
        if not pairs:
            continue  # "none", or junk
        method, result = pairs[0]
        props = {k.lower(): v for k, v in pairs[1:] if "." in k}
        results.append(_Result(method.lower().split("/")[0], result.lower(), props))
    return server, results


def _strip_comments(value: str) -> str:
    """Drop RFC 5322 comments (nested, with escapes), leaving quoted strings alone."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
        elif char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def _tokens(value: str) -> list[tuple[str, str]]:
    """("word", text) for atoms and quoted strings, ("=", "=") and (";", ";") for specials."""
    found: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(value):
        quoted, word, special = match.groups()
        if special:
            found.append((special, special))
        elif word is not None:
            found.append(("word", word))
        else:
            found.append(("word", re.sub(r"\\(.)", r"\1", quoted)))
    return found


def _resinfos(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Resinfos are separated by semicolons; what precedes the first is the version."""
    groups: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == ";":
            groups.append([])
        else:
            groups[-1].append(token)
    return [group for group in groups[1:] if group]


def _pairs(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ``key=value`` pairs of one resinfo (``none`` and stray words give nothing)."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i + 2 < len(tokens):
        key, equals, value = tokens[i], tokens[i + 1], tokens[i + 2]
        if key[0] == "word" and equals[0] == "=" and value[0] == "word":
            pairs.append((key[1], value[1]))
            i += 3
        else:
            i += 1
    return pairs
