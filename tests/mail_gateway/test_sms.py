"""The SMS channel against a real local HTTP server standing in for the gateway.

The server records every request; what it answers (status, body, delay) is set per test, so
escaping, auth and the temporary/permanent split are checked on the wire, not on mocks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import socket
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mail_gateway.sms import (
    FORM,
    GSM_BASIC,
    GSM_EXTENSION,
    HttpProvider,
    InvalidNumber,
    LogProvider,
    SmsError,
    SmsMessage,
    SmsSettings,
    fit,
    next_allowed,
    normalise_number,
    over_rate_limit,
    provider_for,
    segments,
    settings_problems,
    transliterate,
)
from tests.mail_gateway.sms_gateway import FakeGateway, running_gateway

WARSAW = ZoneInfo("Europe/Warsaw")
UTC = dt.UTC
TOKEN = "Bearer s3cret-token"


# --- the fake gateway: tests/mail_gateway/sms_gateway.py ------------------------------------


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGateway]:
    monkeypatch.setenv("no_proxy", "*")  # a proxy in the environment must not see 127.0.0.1
    with running_gateway() as fake:
        yield fake


def _http(fake: FakeGateway, **changes: Any) -> HttpProvider:
    settings = SmsSettings(provider="http", url=fake.url, auth_header=TOKEN, timeout_seconds=5)
    return HttpProvider(dataclasses.replace(settings, **changes))


# --- HTTP provider on the wire ---------------------------------------------------------------


def test_json_body_is_escaped_and_authorised(gateway: FakeGateway) -> None:
    text = 'Zadanie "Łódź – {to}"\nprzypisał: Zażółć\\gęślą\t€'
    result = _http(gateway).send(SmsMessage("600 100 200", text))

    assert result == "17.0001"
    [request] = gateway.requests
    assert request.method == "POST"
    assert request.path == "/sms.do"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == TOKEN
    assert json.loads(request.body) == {"to": "+48600100200", "message": text, "from": "Hermes"}


def test_form_body_is_percent_encoded(gateway: FakeGateway) -> None:
    provider = _http(
        gateway,
        content_type=FORM,
        body_template="to={to_digits}&message={message}&from={sender}&format=json",
    )
    text = "A&B=C + ą?#%"
    provider.send(SmsMessage("+48600100200", text))

    [request] = gateway.requests
    assert request.headers["Content-Type"] == FORM
    assert urllib.parse.parse_qs(request.body.decode("ascii"), strict_parsing=True) == {
        "to": ["48600100200"],
        "message": [text],
        "from": ["Hermes"],
        "format": ["json"],
    }


def test_get_puts_the_body_in_the_query_string(gateway: FakeGateway) -> None:
    gateway.body = b"OK: 4711"
    provider = _http(
        gateway,
        url=gateway.url + "?format=text",
        method="GET",
        content_type=FORM,
        body_template="to={to}&msg={message}",
    )
    assert provider.send(SmsMessage("+48600100200", "Cześć")) == "HTTP 200: OK: 4711"

    [request] = gateway.requests
    assert request.method == "GET"
    assert request.body == b""
    path, query = request.path.split("?")
    assert path == "/sms.do"
    assert urllib.parse.parse_qs(query) == {
        "format": ["text"],
        "to": ["+48600100200"],
        "msg": ["Cześć"],
    }


def test_auth_header_may_name_its_own_header(gateway: FakeGateway) -> None:
    _http(gateway, auth_header="X-Api-Key: abc123").send(SmsMessage("+48600100200", "x"))

    [request] = gateway.requests
    assert request.headers["X-Api-Key"] == "abc123"
    assert "Authorization" not in request.headers


def test_no_auth_header_when_none_is_configured(gateway: FakeGateway) -> None:
    _http(gateway, auth_header="").send(SmsMessage("+48600100200", "x"))

    assert "Authorization" not in gateway.requests[0].headers


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        *[(500, False), (502, False), (503, False), (429, False), (408, False)],
        *[(400, True), (401, True), (403, True), (404, True), (422, True)],
    ],
)
def test_http_status_decides_temporary_or_permanent(
    gateway: FakeGateway, status: int, permanent: bool
) -> None:
    gateway.status = status
    gateway.body = b'{"error": "nope"}'

    with pytest.raises(SmsError) as caught:
        _http(gateway).send(SmsMessage("+48600100200", "x"))

    assert caught.value.permanent is permanent
    assert caught.value.status == status
    assert str(status) in str(caught.value)
    assert "nope" in str(caught.value)


def test_429_carries_retry_after(gateway: FakeGateway) -> None:
    gateway.status = 429
    gateway.extra_headers = {"Retry-After": "30"}

    with pytest.raises(SmsError) as caught:
        _http(gateway).send(SmsMessage("+48600100200", "x"))

    assert not caught.value.permanent
    assert caught.value.retry_after == 30.0


def test_redirect_is_not_followed(gateway: FakeGateway) -> None:
    """Following it would hand the token to wherever the Location points."""
    gateway.status = 302
    gateway.extra_headers = {"Location": "http://127.0.0.1:9/elsewhere"}

    with pytest.raises(SmsError) as caught:
        _http(gateway).send(SmsMessage("+48600100200", "x"))

    assert caught.value.permanent
    assert len(gateway.requests) == 1


@pytest.mark.parametrize(
    "body",
    [b'{"error": 13, "message": "No correct phone numbers"}', b'{"success": false}', b"ERROR:101"],
)
def test_a_200_that_reports_an_error_is_permanent(gateway: FakeGateway, body: bytes) -> None:
    gateway.body = body

    with pytest.raises(SmsError) as caught:
        _http(gateway).send(SmsMessage("+48600100200", "x"))

    assert caught.value.permanent


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"sid": "SM123", "status": "queued"}', "SM123"),
        (b'{"success": true, "items": [{"id": "abc", "phone": "+48600100200"}]}', "abc"),
        (b'{"message_id": 42}', "42"),
        (b"", "HTTP 200"),
        (b"x" * 200_000, "HTTP 200: " + "x" * 200 + "…"),
    ],
)
def test_result_is_the_message_id_or_a_bounded_summary(
    gateway: FakeGateway, body: bytes, expected: str
) -> None:
    gateway.body = body

    assert _http(gateway).send(SmsMessage("+48600100200", "x")) == expected


def test_connection_refused_is_temporary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as bound:  # bound but not listening: connecting is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        settings = SmsSettings(provider="http", url=f"http://127.0.0.1:{port}/sms.do")

        with pytest.raises(SmsError) as caught:
            HttpProvider(settings).send(SmsMessage("+48600100200", "x"))

    assert not caught.value.permanent
    assert "ConnectionRefusedError" in str(caught.value)


def test_slow_gateway_times_out_as_temporary(gateway: FakeGateway) -> None:
    gateway.delay = 10
    started = time.monotonic()

    with pytest.raises(SmsError) as caught:
        _http(gateway, timeout_seconds=1).send(SmsMessage("+48600100200", "x"))

    assert not caught.value.permanent
    assert time.monotonic() - started < 5
    assert len(gateway.requests) == 1


def test_secret_stays_out_of_errors_logs_and_repr(
    gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mail_gateway.sms")
    provider = _http(gateway, url=gateway.url + "?access_token=url-secret")
    provider.send(SmsMessage("+48600100200", "x"))
    gateway.status = 401
    with pytest.raises(SmsError) as caught:
        provider.send(SmsMessage("+48600100200", "x"))

    for text in (str(caught.value), caplog.text, repr(SmsSettings(auth_header=TOKEN))):
        assert "s3cret" not in text
        assert "url-secret" not in text
    assert "+48600100200" not in caplog.text  # the number is masked in the HTTP provider's log


def test_refused_before_the_network(gateway: FakeGateway) -> None:
    provider = _http(gateway, max_segments=1)
    for message in (
        SmsMessage("not a number", "x"),
        SmsMessage("+48600100200", "  "),
        SmsMessage("+48600100200", "a" * 161),
    ):
        with pytest.raises(SmsError) as caught:
            provider.send(message)
        assert caught.value.permanent
    assert gateway.requests == []


# --- settings and provider choice ------------------------------------------------------------


def test_default_settings_are_valid() -> None:
    assert settings_problems(SmsSettings()) == []
    assert settings_problems(SmsSettings(provider="http", url="https://api.smsapi.pl/sms.do")) == []


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"provider": "carrier-pigeon"}, "provider"),
        ({"url": "http://api.smsapi.pl/sms.do"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": ""}, "url"),
        ({"method": "PUT"}, "method"),
        ({"content_type": "text/plain"}, "content_type"),
        ({"method": "GET"}, "content_type"),
        ({"auth_header": "Bearer x\r\nX-Evil: 1"}, "auth_header"),
        ({"body_template": '{"to": {to}, "message": "{message}"}'}, "body_template"),
        ({"body_template": "static"}, "body_template"),
        ({"quiet_hours": "21-7"}, "quiet_hours"),
        ({"quiet_hours": "07:00-07:00"}, "quiet_hours"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"max_segments": 0}, "max_segments"),
        ({"per_recipient_per_hour": -1}, "per_recipient_per_hour"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"sender": "HermesGroupware"}, "sender"),
    ],
)
def test_settings_problems_name_the_key(changes: dict[str, Any], key: str) -> None:
    settings = SmsSettings(provider="http", url="https://api.smsapi.pl/sms.do")
    problems = settings_problems(dataclasses.replace(settings, **changes))

    assert key in [k for k, _ in problems]


def test_http_provider_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match=r"\[sms\] url"):
        HttpProvider(SmsSettings(provider="http", url="http://example.com/sms"))


def test_provider_for(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mail_gateway.sms")
    log_provider = provider_for(SmsSettings())
    assert isinstance(log_provider, LogProvider)
    assert log_provider.send(SmsMessage("600100200", "Zadanie przypisane")).startswith("log-")
    assert "+48600100200" in caplog.text
    assert "Zadanie przypisane" in caplog.text

    http = SmsSettings(provider="http", url="https://api.smsapi.pl/sms.do")
    assert isinstance(provider_for(http), HttpProvider)
    with pytest.raises(ValueError, match="provider"):
        provider_for(SmsSettings(provider="fax"))


def test_over_rate_limit() -> None:
    settings = SmsSettings(per_recipient_per_hour=10)
    assert not over_rate_limit(9, settings)
    assert over_rate_limit(10, settings)
    assert not over_rate_limit(10_000, SmsSettings(per_recipient_per_hour=0))


# --- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+48 600-100-200",
        "+48600100200",
        "600100200",
        "600 100 200",
        "600-100-200",
        "0048600100200",
        "0048 600 100 200",
        "48600100200",
        "+48 (0) 600 100 200",
        " +48.600.100.200 ",
    ],
)
def test_normalise_polish_numbers(raw: str) -> None:
    assert normalise_number(raw) == "+48600100200"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(22) 123 45 67", "48", "+48221234567"),
        ("+44 20 7946 0958", "48", "+442079460958"),
        ("0044 7911 123456", "48", "+447911123456"),
        ("07911 123456", "44", "+447911123456"),
        ("+1 (555) 010-0199", "48", "+15550100199"),
    ],
)
def test_normalise_other_numbers(raw: str, country: str, expected: str) -> None:
    assert normalise_number(raw, country) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "abc",
        "600 100 200 wew. 12",
        "600100200a",
        "++48600100200",
        "12345",
        "60010020",
        "6001002001",
        "+48 600 100 20",
        "+48 600 100 2000",
        "+48 060 010 020",
        "+0 600 100 200",
        "+48 600 100 200 100 200 1",
        "600100200; DROP TABLE",
    ],
)
def test_garbage_is_not_a_number(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalise_number(raw)


def test_invalid_number_is_a_value_error() -> None:
    assert issubclass(InvalidNumber, ValueError)
    with pytest.raises(ValueError, match="default_country"):
        normalise_number("600100200", "+48")


# --- segments, transliteration, fit ----------------------------------------------------------


def test_gsm_tables() -> None:
    assert len(GSM_BASIC) == 127  # 128 code points less ESC
    assert len(GSM_EXTENSION) == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),
        ("€" * 80 + "a", ("GSM-7", 2)),
        ("a" * 159 + "€", ("GSM-7", 2)),
        ("a" * 159 + "^", ("GSM-7", 2)),
        ("{}" * 40, ("GSM-7", 1)),
        ("[]|~\\" * 16 + "a", ("GSM-7", 2)),
        # 306 septets, but the escape pair may not straddle parts 1 and 2
        ("a" * 152 + "€" + "a" * 152, ("GSM-7", 3)),
        ("é ü ñ à Ä Ö Ü ß @ £ ¥ § ¿ ¡\n", ("GSM-7", 1)),
        ("ą" * 70, ("UCS-2", 1)),
        ("ą" * 71, ("UCS-2", 2)),
        ("ą" * 134, ("UCS-2", 2)),
        ("ą" * 135, ("UCS-2", 3)),
        ("a" * 69 + "ó", ("UCS-2", 1)),  # ó is not GSM-7 (ò is)
        ("a" * 70 + "ł", ("UCS-2", 2)),
        ("😀" * 35, ("UCS-2", 1)),  # two UTF-16 units each
        ("😀" * 35 + "a", ("UCS-2", 2)),
        ("a" * 66 + "😀" + "a" * 67, ("UCS-2", 3)),  # a surrogate pair is not split either
    ],
)
def test_segments(text: str, expected: tuple[str, int]) -> None:
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zażółć gęślą jaźń", "Zazolc gesla jazn"),
        ("ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "ZAZOLC GESLA JAZN"),
        ("„Cytat” – ‚tak’ — to…", "\"Cytat\" - 'tak' - to..."),
        ("café über señor", "café über señor"),
        ("Čeština, Ærøskøbing", "Cestina, Ærøskøbing"),
        ("Привет 😀 ą", "Привет 😀 a"),
        ("a\u00a0b\tc\u00add", "a b cd"),
        ("`kod`", "'kod'"),
    ],
)
def test_transliterate(text: str, expected: str) -> None:
    assert transliterate(text) == expected


def test_fit_keeps_polish_letters_that_cost_nothing() -> None:
    text = "Zadanie przypisane: Łódź, ul. Żółkiewskiego"
    assert fit(text, 3) == text


def test_fit_transliterates_when_it_saves_parts() -> None:
    text = "Przypomnienie: zadanie „Ogłoszenie przetargu” jest przeterminowane od środy. " * 2

    fitted = fit(text, 3)

    assert fitted == transliterate(text)
    assert segments(text) == ("UCS-2", 3)
    assert segments(fitted) == ("GSM-7", 1)


def test_fit_cuts_gsm_text_at_a_word_with_three_dots() -> None:
    text = "Zadanie przeterminowane: " + "sprawa numer dwanaście " * 40

    fitted = fit(text, 2)

    assert segments(fitted) == ("GSM-7", 2)
    assert fitted.endswith(" dwanascie...") or fitted.endswith(" numer...")
    assert fitted.endswith("...")
    assert transliterate(text).startswith(fitted[:-3])
    assert len(fitted) > 280  # cut near the limit, not far before it


def test_fit_cuts_ucs2_text_with_an_ellipsis() -> None:
    text = "Задача просрочена, срочно свяжитесь с клиентом " * 10

    fitted = fit(text, 1)

    assert segments(fitted) == ("UCS-2", 1)
    assert fitted.endswith("…")
    assert text.startswith(fitted[:-1])
    assert len(fitted) > 50


def test_fit_of_one_endless_word() -> None:
    fitted = fit("x" * 1000, 1)

    assert fitted == "x" * 157 + "..."
    assert segments(fitted) == ("GSM-7", 1)


def test_fit_needs_a_segment() -> None:
    with pytest.raises(ValueError, match="max_segments"):
        fit("x", 0)


# --- quiet hours -----------------------------------------------------------------------------


def _warsaw(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=WARSAW)


AFTERNOON_UTC = dt.datetime(2025, 6, 10, 18, 30, tzinfo=UTC)  # 20:30 in Warsaw


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_warsaw(2025, 6, 10, 20, 59), _warsaw(2025, 6, 10, 20, 59)),
        (_warsaw(2025, 6, 10, 21, 0), _warsaw(2025, 6, 11, 7, 0)),
        (_warsaw(2025, 6, 10, 23, 30), _warsaw(2025, 6, 11, 7, 0)),
        (_warsaw(2025, 6, 11, 0, 0), _warsaw(2025, 6, 11, 7, 0)),
        (_warsaw(2025, 6, 11, 6, 59), _warsaw(2025, 6, 11, 7, 0)),
        (_warsaw(2025, 6, 11, 7, 0), _warsaw(2025, 6, 11, 7, 0)),
        (_warsaw(2025, 12, 31, 22, 0), _warsaw(2026, 1, 1, 7, 0)),
        # given in UTC: 22:30 UTC in June is 00:30 in Warsaw
        (dt.datetime(2025, 6, 10, 22, 30, tzinfo=UTC), _warsaw(2025, 6, 11, 7, 0)),
        (AFTERNOON_UTC, AFTERNOON_UTC),
    ],
)
def test_quiet_hours_across_midnight(now: dt.datetime, expected: dt.datetime) -> None:
    result = next_allowed(now, SmsSettings())

    assert result == expected
    assert result.utcoffset() == expected.utcoffset()  # the same wall time too, not just instant


def test_quiet_night_when_clocks_spring_forward() -> None:
    """30 March 2025: 02:00 CET becomes 03:00 CEST; the night is an hour shorter."""
    now = _warsaw(2025, 3, 29, 21, 30)  # CET, 20:30 UTC

    result = next_allowed(now, SmsSettings())

    assert result.astimezone(UTC) == dt.datetime(2025, 3, 30, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert (result.hour, result.minute, result.utcoffset()) == (7, 0, dt.timedelta(hours=2))
    assert result.astimezone(UTC) - now.astimezone(UTC) == dt.timedelta(hours=8, minutes=30)


def test_quiet_night_when_clocks_fall_back() -> None:
    """26 October 2025: 03:00 CEST becomes 02:00 CET; the night is an hour longer."""
    now = _warsaw(2025, 10, 25, 22, 0)  # CEST, 20:00 UTC

    result = next_allowed(now, SmsSettings())

    assert result.astimezone(UTC) == dt.datetime(2025, 10, 26, 6, 0, tzinfo=UTC)  # 07:00 CET
    assert (result.hour, result.utcoffset()) == (7, dt.timedelta(hours=1))
    assert result.astimezone(UTC) - now.astimezone(UTC) == dt.timedelta(hours=10)


def test_quiet_window_ending_in_the_spring_gap_moves_on_by_the_gap() -> None:
    settings = SmsSettings(quiet_hours="22:00-02:30")  # 02:30 does not exist on 30 March 2025

    result = next_allowed(_warsaw(2025, 3, 29, 23, 0), settings)

    assert result.astimezone(UTC) == dt.datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert (result.hour, result.minute) == (3, 30)


def test_quiet_window_ending_in_the_autumn_overlap_ends_after_now() -> None:
    settings = SmsSettings(quiet_hours="01:00-02:30")  # 02:30 happens twice on 26 October 2025
    first_pass = dt.datetime(2025, 10, 26, 0, 15, tzinfo=UTC)  # 02:15 CEST
    second_pass = dt.datetime(2025, 10, 26, 1, 15, tzinfo=UTC)  # 02:15 CET

    first = next_allowed(first_pass, settings)
    second = next_allowed(second_pass, settings)

    assert first.astimezone(UTC) == dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert second.astimezone(UTC) == dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert second > second_pass


def test_quiet_hours_within_one_day_and_none() -> None:
    lunch = SmsSettings(quiet_hours="12:00-13:00")
    assert next_allowed(_warsaw(2025, 6, 10, 12, 30), lunch) == _warsaw(2025, 6, 10, 13, 0)
    assert next_allowed(_warsaw(2025, 6, 10, 23, 30), lunch) == _warsaw(2025, 6, 10, 23, 30)
    never = SmsSettings(quiet_hours="")
    assert next_allowed(_warsaw(2025, 6, 10, 3, 0), never) == _warsaw(2025, 6, 10, 3, 0)


def test_quiet_hours_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_allowed(dt.datetime(2025, 6, 10, 3, 0), SmsSettings())  # noqa: DTZ001
