"""The SMS channel of notifications: number and text rules, quiet hours and gateway providers.

Polish gateways (SMSAPI.pl, SerwerSMS, JustSend, Twilio-like REST APIs) differ only in URL,
auth header and body shape, so one :class:`HttpProvider` configured by a body template covers
them; :class:`LogProvider` stands in during development. Everything that needs shared state
(the per-recipient rate limit, retries) is left to the caller, which keeps sends in the
database; this module only offers the pure decisions (:func:`over_rate_limit`,
:func:`next_allowed`, :attr:`SmsError.permanent`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import ipaddress
import json
import logging
import re
import ssl
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hermes_groupware.config import SmsSettings

log = logging.getLogger(__name__)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_RESPONSE_BYTES = 64 * 1024
_SUMMARY_CHARS = 200
_USER_AGENT = "Hermes-Groupware-SMS/1"


class SmsError(Exception):
    """A send failed; ``permanent`` tells the caller whether retrying can help.

    ``retry_after`` carries a gateway's ``Retry-After`` (seconds) when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after


class InvalidNumber(ValueError):
    """The text is not a phone number we can send to (the caller shows it as a field error)."""

    field = "phone"


@dataclass(frozen=True)
class SmsMessage:
    """One text for one phone (``to`` as :func:`normalise_number` returns it)."""

    to: str
    text: str


class SmsProvider(Protocol):
    """Anything that can hand a message to a network; returns the gateway's id or summary."""

    def send(self, message: SmsMessage) -> str:
        """Send or raise :class:`SmsError`."""
        ...


# --- phone numbers ---------------------------------------------------------------------------

_NUMBER_CHARS = re.compile(r"\+?[0-9(][0-9 ()./\-]*")
# National significant number lengths we know; elsewhere only the E.164 bounds are checked.
_NATIONAL_DIGITS = {"48": 9}


def normalise_number(raw: str, default_country: str = "48") -> str:
    """E.164 (``+48600100200``) from how people type numbers, so one phone is one recipient.

    Accepts ``+48 600-100-200``, ``0048600100200``, ``48600100200`` and the national
    ``600 100 200`` (and a trunk ``0`` before it).

    Raises:
        InvalidNumber: letters, too few or too many digits, a wrong Polish length.
    """
    if not (default_country.isdigit() and 1 <= len(default_country) <= 3):
        raise ValueError(f"default_country must be 1-3 digits, got {default_country!r}")
    text = raw.strip().replace("(0)", "")  # "+48 (0) 22 …": the trunk 0 some people write
    if not _NUMBER_CHARS.fullmatch(text):
        raise InvalidNumber(f"not a phone number: {raw!r}")
    digits = re.sub(r"\D", "", text)
    national = _NATIONAL_DIGITS.get(default_country, 0)
    with_country = national > 0 and len(digits) == len(default_country) + national
    if text.startswith("+"):
        full = digits
    elif digits.startswith("00"):
        full = digits[2:]
    elif with_country and digits.startswith(default_country):
        full = digits
    else:
        full = default_country + digits.removeprefix("0")
    if full.startswith("0") or not 8 <= len(full) <= 15:
        raise InvalidNumber(f"not a phone number: {raw!r}")
    for country, length in _NATIONAL_DIGITS.items():
        rest = full[len(country) :]
        if full.startswith(country) and (len(rest) != length or rest.startswith("0")):
            raise InvalidNumber(f"a +{country} number has {length} digits: {raw!r}")
    return "+" + full


def _mask(number: str) -> str:
    """Enough of a number to tell sends apart in a log, not enough to be a phone book."""
    return number[:-6] + "***" + number[-3:] if len(number) > 8 else "***"


# --- text: encoding, segments, transliteration ----------------------------------------------

# GSM 03.38 default alphabet (ESC left out: it is not a character) and its extension table,
# whose characters cost two septets each.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = "GSM-7"
_UCS2 = "UCS-2"
# (single message, per part of a concatenated message) in the encoding's units
_CAPACITY = {_GSM7: (160, 153), _UCS2: (70, 67)}

_TRANSLITERATION = str.maketrans(
    {
        **dict(zip("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ", strict=True)),
        "„": '"',
        "”": '"',
        "“": '"',
        "«": '"',
        "»": '"',
        "″": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "′": "'",
        "`": "'",
        "–": "-",
        "—": "-",
        "‒": "-",
        "−": "-",
        "‐": "-",
        "…": "...",
        "•": "*",
        "\t": " ",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u00ad": "",
        "\u200b": "",
    }
)


def _is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def segments(text: str) -> tuple[str, int]:
    """The encoding a phone network will use and how many billed parts the text takes.

    GSM-7: 160 septets alone, 153 per part when concatenated, extension characters (€ ^ { } …)
    take two and are never split across parts. Any other character makes it UCS-2: 70 alone,
    67 per part, counted in UTF-16 units (an emoji takes two). An empty text is one message.
    """
    if _is_gsm(text):
        encoding = _GSM7
        costs = [2 if ch in GSM_EXTENSION else 1 for ch in text]
    else:
        encoding = _UCS2
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    single, per_part = _CAPACITY[encoding]
    if sum(costs) <= single:
        return encoding, 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return encoding, parts


def transliterate(text: str) -> str:
    """GSM-7 look-alikes for Polish letters and typography, so a text costs GSM-7 rates.

    ``ą``→``a``, ``Ł``→``L``, ``„…”``→``"..."``; other accented Latin letters lose their accent
    unless GSM-7 has them (``é``, ``ü`` stay). Characters with no look-alike (Cyrillic, emoji)
    are left alone.
    """
    out = []
    for ch in text.translate(_TRANSLITERATION):
        if ch in GSM_BASIC or ch in GSM_EXTENSION:
            out.append(ch)
            continue
        bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(bare if bare and _is_gsm(bare) else ch)
    return "".join(out)


def fit(text: str, max_segments: int) -> str:
    """The text as it should be sent: as cheap as it can be without losing meaning, then cut.

    Polish letters are transliterated when that saves parts (a one-part text keeps them); a
    text with characters GSM-7 cannot show stays UCS-2 as written. A text still too long is cut,
    at a word boundary when one is near, and ends with ``...`` (GSM-7, where ``…`` would force
    UCS-2) or ``…`` (UCS-2).
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    plain = transliterate(text)
    as_written = segments(text)[1]
    if _is_gsm(plain) and (segments(plain)[1] < as_written or as_written > max_segments):
        text = plain
    encoding, count = segments(text)
    if count <= max_segments:
        return text
    ellipsis = "..." if encoding == _GSM7 else "…"

    def cut(n: int) -> str:
        return text[:n].rstrip() + ellipsis

    low, high = 0, len(text)  # cut(low) fits, cut(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if segments(cut(middle))[1] <= max_segments:
            low = middle
        else:
            high = middle
    head = text[:low]
    space = max(head.rfind(" "), head.rfind("\n"))
    if not text[low].isspace() and space >= max(1, low - 20):
        head = head[:space]
    return head.rstrip() + ellipsis


# --- when and how often ---------------------------------------------------------------------

_WINDOW = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*")


def quiet_window(spec: str) -> tuple[dt.time, dt.time] | None:
    """``"21:00-07:00"`` as two wall-clock times; ``""`` means no quiet hours."""
    if not spec.strip():
        return None
    match = _WINDOW.fullmatch(spec)
    if not match:
        raise ValueError(f"quiet hours must look like 21:00-07:00, got {spec!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start == end:
        raise ValueError(f"quiet hours start and end at the same time: {spec!r}")
    return start, end


def next_allowed(now: dt.datetime, settings: SmsSettings) -> dt.datetime:
    """``now`` outside quiet hours, else the instant the quiet window ends (to defer to).

    The window is wall-clock time in ``settings.time_zone``, so it ends at 07:00 local on the
    nights the clocks change too. An end time that does not exist that night (spring forward)
    is moved on by the gap, as zoneinfo does; one that happens twice (fall back) is the first
    of the two still ahead. ``now`` must be aware; the result is in the settings' zone.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    window = quiet_window(settings.quiet_hours)
    if window is None:
        return now
    zone = ZoneInfo(settings.time_zone)
    local = now.astimezone(zone)
    clock, (start, end) = local.time(), window
    if start < end:
        inside, end_day = start <= clock < end, local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + dt.timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return now
    return _first_after(dt.datetime.combine(end_day, end), zone, now)


def _first_after(wall: dt.datetime, zone: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """The earliest reading of a local wall time that lies after ``now`` (compared in UTC)."""
    utc = dt.UTC
    earlier = wall.replace(tzinfo=zone, fold=0).astimezone(utc)
    later = wall.replace(tzinfo=zone, fold=1).astimezone(utc)
    exists = earlier.astimezone(zone).replace(tzinfo=None) == wall
    candidates = sorted({earlier, later}) if exists else [earlier]
    after = [c for c in candidates if c > now.astimezone(utc)]
    return (after[0] if after else candidates[-1]).astimezone(zone)


def over_rate_limit(sent_in_last_hour: int, settings: SmsSettings) -> bool:
    """Whether one more SMS to this recipient would exceed the hourly limit (0 = no limit).

    Counting is the caller's: instances share it through the database.
    """
    limit = settings.per_recipient_per_hour
    return limit > 0 and sent_in_last_hour >= limit


# --- settings validation --------------------------------------------------------------------

_HEADER_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{(to|to_digits|message|sender)\}")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def settings_problems(settings: SmsSettings) -> list[tuple[str, str]]:
    """Every wrong value as ``(key, problem)``, for the config loader to report as ConfigError.

    Plain ``http://`` is refused except to loopback: the auth header is a secret.
    """
    problems = _general_problems(settings)
    if settings.provider == "http":
        problems += _http_problems(settings)
    return problems


def _general_problems(s: SmsSettings) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if s.provider not in ("log", "http"):
        problems.append(("provider", "expected log or http"))
    try:
        quiet_window(s.quiet_hours)
    except ValueError as exc:
        problems.append(("quiet_hours", str(exc)))
    try:
        ZoneInfo(s.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(("time_zone", f"unknown time zone {s.time_zone!r}"))
    if s.max_segments < 1:
        problems.append(("max_segments", "expected at least 1"))
    if s.per_recipient_per_hour < 0:
        problems.append(("per_recipient_per_hour", "expected 0 (no limit) or more"))
    if s.timeout_seconds < 1:
        problems.append(("timeout_seconds", "expected at least 1"))
    # "" leaves the sender to the gateway's account default (drop {sender} from the template)
    if not re.fullmatch(r"\+?\d{1,15}|[A-Za-z0-9 ._-]{0,11}", s.sender):
        problems.append(("sender", "expected up to 11 letters and digits, or a phone number"))
    return problems


def _http_problems(s: SmsSettings) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    url = urllib.parse.urlsplit(s.url)
    if url.scheme != "https" and not (url.scheme == "http" and _is_loopback(url.hostname)):
        problems.append(("url", "expected an https:// URL (http:// only to this machine)"))
    if s.method not in ("POST", "GET"):
        problems.append(("method", "expected POST or GET"))
    if s.content_type not in (JSON, FORM):
        problems.append(("content_type", f"expected {JSON} or {FORM}"))
    elif s.method == "GET" and s.content_type != FORM:
        problems.append(("content_type", f"GET sends the body as a query string: use {FORM}"))
    if "\r" in s.auth_header or "\n" in s.auth_header:
        problems.append(("auth_header", "must be one line"))
    if not _PLACEHOLDER.search(s.body_template):
        problems.append(("body_template", "uses none of {to} {message} {sender}"))
    elif s.content_type == FORM and not s.body_template.isascii():
        problems.append(("body_template", "a form body is ASCII (values are %-escaped)"))
    elif s.content_type == JSON:
        sample = _render(s.body_template, s.content_type, to='+48"1', text='"\n\\', sender="x")
        try:
            json.loads(sample)
        except ValueError:
            problems.append(("body_template", "is not JSON (placeholders go inside quotes)"))
    return problems


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- providers ------------------------------------------------------------------------------


def _check_message(message: SmsMessage, max_segments: int) -> str:
    """The normalised recipient; refuses what no gateway should be paid to send."""
    try:
        to = normalise_number(message.to)
    except ValueError as exc:
        raise SmsError(str(exc), permanent=True) from exc
    if not message.text.strip():
        raise SmsError("empty message", permanent=True)
    count = segments(message.text)[1]
    if count > max_segments:
        raise SmsError(
            f"message takes {count} parts, the limit is {max_segments} (use fit())", permanent=True
        )
    return to


class LogProvider:
    """Development stand-in: logs the message (number and text in full) and sends nothing."""

    def __init__(self, settings: SmsSettings | None = None) -> None:
        self._max_segments = (settings or SmsSettings()).max_segments

    def send(self, message: SmsMessage) -> str:
        """Log and return a made-up id, applying the same checks the HTTP provider does."""
        to = _check_message(message, self._max_segments)
        encoding, count = segments(message.text)
        message_id = f"log-{uuid.uuid4().hex[:12]}"
        log.info("SMS %s to %s (%s, %d part(s)): %s", message_id, to, encoding, count, message.text)
        return message_id


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would replay the auth header to another URL and turn POST into GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpProvider:
    """A gateway spoken to by one HTTP request per message, shaped by the settings' template.

    TLS is verified, redirects are refused (permanent: the URL is wrong), the response body
    is read up to 64 KB. ``timeout_seconds`` applies to connecting and to each read. The auth
    header never reaches a log or an error message, nor does the URL (it may carry a token).
    """

    def __init__(self, settings: SmsSettings) -> None:
        problems = _general_problems(settings) + _http_problems(settings)
        problems = [p for p in problems if p[0] != "provider"]
        if problems:
            raise ValueError("; ".join(f"[sms] {key}: {problem}" for key, problem in problems))
        self._settings = settings
        self._host = urllib.parse.urlsplit(settings.url).hostname or ""
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ssl.create_default_context()), _NoRedirects()
        )

    def send(self, message: SmsMessage) -> str:
        """Send; returns the gateway's message id when it names one, else a response summary.

        Raises:
            SmsError: permanent for 4xx (but 408/429) and 3xx and a 2xx that reports an error;
                temporary for 5xx, 408, 429, refused connections and timeouts.
        """
        s = self._settings
        to = _check_message(message, s.max_segments)
        body = _render(s.body_template, s.content_type, to=to, text=message.text, sender=s.sender)
        request = self._request(body)
        try:
            with self._opener.open(request, timeout=s.timeout_seconds) as response:
                status, data = response.status, response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise SmsError(
                f"SMS gateway {self._host} unreachable: {type(reason).__name__}: {reason}",
                permanent=False,
            ) from None
        summary = _summary(status, data)
        log.info("SMS to %s accepted by %s: %s", _mask(to), self._host, summary)
        return summary

    def _request(self, body: str) -> urllib.request.Request:
        s = self._settings
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json, text/plain, */*"}
        if s.auth_header:
            named = _HEADER_NAME.fullmatch(s.auth_header)
            name, value = (named[1], named[2]) if named else ("Authorization", s.auth_header)
            headers[name] = value
        if s.method == "GET":
            separator = "&" if urllib.parse.urlsplit(s.url).query else "?"
            url = s.url + separator + body if body else s.url
            # the scheme is https (or loopback http): checked in __init__
            return urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310
        headers["Content-Type"] = s.content_type
        data = body.encode()
        return urllib.request.Request(s.url, data=data, headers=headers, method="POST")  # noqa: S310


def _render(template: str, content_type: str, *, to: str, text: str, sender: str) -> str:
    """The body with each placeholder replaced once (a message saying "{to}" stays as it is)."""
    escape = _json_escape if content_type == JSON else _form_escape
    values = {"to": to, "to_digits": to.lstrip("+"), "message": text, "sender": sender}
    return _PLACEHOLDER.sub(lambda m: escape(values[m[1]]), template)


def _json_escape(value: str) -> str:
    """The inside of a JSON string: quotes, backslashes and control characters escaped."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _form_escape(value: str) -> str:
    return urllib.parse.quote_plus(value, safe="")


def _http_error(exc: urllib.error.HTTPError) -> SmsError:
    """A non-2xx answer as an SmsError; temporary when the gateway is overloaded or broken."""
    try:
        data = exc.read(MAX_RESPONSE_BYTES)
    except (OSError, http.client.HTTPException):
        data = b""
    finally:
        exc.close()
    code = exc.code
    temporary = code >= 500 or code in (408, 429)
    return SmsError(
        f"SMS gateway answered {code}: {_text(data) or exc.reason}",
        permanent=not temporary,
        status=code,
        retry_after=_retry_after(exc.headers.get("Retry-After")) if exc.headers else None,
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


_ID_KEYS = ("id", "message_id", "messageId", "msg_id", "sid", "smsId", "uuid")
_LIST_KEYS = ("list", "items", "messages", "data", "result")


def _summary(status: int, data: bytes) -> str:
    """The gateway's message id when the JSON names one, else the start of the answer.

    A 2xx that reports an error (SMSAPI's ``{"error": 13, …}`` or ``ERROR:101``, SerwerSMS's
    ``"success": false``) is a permanent :class:`SmsError`: it was not sent, and resending the
    same request will not change that.
    """
    text = _text(data)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        found = _find_id(parsed)
        if found is not None:
            return found
        if parsed.get("error") or parsed.get("success") is False:
            raise SmsError(f"SMS gateway answered {status} with an error: {text}", permanent=True)
    if text.upper().startswith("ERROR"):
        raise SmsError(f"SMS gateway answered {status} with an error: {text}", permanent=True)
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def _find_id(parsed: dict[str, Any]) -> str | None:
    for key in _ID_KEYS:
        if isinstance(parsed.get(key), str | int) and not isinstance(parsed[key], bool):
            return str(parsed[key])
    for key in _LIST_KEYS:
        items = parsed.get(key)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            return _find_id(items[0])
        if isinstance(items, dict):
            return _find_id(items)
    return None


def _text(data: bytes) -> str:
    """A one-line, bounded rendering of a gateway's answer for errors and logs."""
    text = " ".join(data.decode("utf-8", "replace").split())
    return text[:_SUMMARY_CHARS] + ("…" if len(text) > _SUMMARY_CHARS else "")


def provider_for(settings: SmsSettings) -> SmsProvider:
    """The provider the settings name."""
    if settings.provider == "log":
        return LogProvider(settings)
    if settings.provider == "http":
        return HttpProvider(settings)
    raise ValueError(f"[sms] provider: expected log or http, got {settings.provider!r}")
