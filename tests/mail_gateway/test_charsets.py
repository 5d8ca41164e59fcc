"""Charset decisions for mislabelled Polish mail; nothing here may raise."""

from __future__ import annotations

import random

import pytest

from mail_gateway.charsets import (
    b64_lenient,
    decode_body,
    decode_header_value,
    decode_words,
    detect,
    normalize_charset,
)

POLISH = "Zażółć gęślą jaźń. Proszę o zwrot środków za październik."


@pytest.mark.parametrize(
    "label", ["iso-8859-2", "ISO-8859-2", "latin2", "iso8859-2", '"iso-8859-2"']
)
def test_outlook_cp1250_labelled_latin2_is_redecoded(label: str) -> None:
    text, note = decode_body("Brak środków na koncie".encode("cp1250"), label)
    assert text == "Brak środków na koncie"  # not "Brak rodków"
    assert note == "body re-decoded as windows-1250 (labelled iso-8859-2)"


def test_genuine_latin2_stays_latin2() -> None:
    text, note = decode_body(POLISH.encode("iso-8859-2"), "iso-8859-2")
    assert (text, note) == (POLISH, None)


def test_utf8_labelled_latin2_is_decoded_as_utf8() -> None:
    text, note = decode_body(POLISH.encode("utf-8"), "iso-8859-2")
    assert text == POLISH
    assert note is not None and "utf-8" in note


@pytest.mark.parametrize("codec", ["utf-8", "cp1250"])
def test_us_ascii_label_with_8bit_bytes_is_detected(codec: str) -> None:
    text, note = decode_body(POLISH.encode(codec), "us-ascii")
    assert text == POLISH
    assert note is not None and note.startswith("labelled us-ascii but 8-bit")


@pytest.mark.parametrize("codec", ["utf-8", "cp1250", "iso-8859-2"])
def test_undeclared_charset_is_detected_among_polish_candidates(codec: str) -> None:
    text, note = decode_body(POLISH.encode(codec), None)
    assert text == POLISH
    assert note is not None and note.startswith("no charset declared")


def test_undeclared_ascii_needs_no_note() -> None:
    assert decode_body(b"plain ascii", None) == ("plain ascii", None)


@pytest.mark.parametrize(
    "label", ["x-klingon", "unknown-8bit", "base64", "rot13", "undefined", "zlib"]
)
def test_unknown_or_non_text_charset_falls_back_to_detection(label: str) -> None:
    text, note = decode_body(POLISH.encode("utf-8"), label)
    assert text == POLISH
    assert note is not None and "decoded as utf-8" in note


def test_invalid_bytes_for_the_declared_charset_are_replaced() -> None:
    text, note = decode_body(b"o\x00k\x00!", "utf-16-le")
    assert text.startswith("ok") and "\ufffd" in text
    assert note is not None and note.startswith("invalid") and note.endswith("bytes replaced")


def test_a_utf8_label_on_windows_1250_bytes_is_not_trusted() -> None:
    text, note = decode_body("Proszę o zwrot środków".encode("cp1250"), "utf-8")
    assert text == "Proszę o zwrot środków"
    assert note == "labelled utf-8 but not UTF-8; decoded as windows-1250"


def test_decode_body_never_raises_on_random_bytes() -> None:
    rng = random.Random(1234)
    labels = [None, "utf-8", "iso-8859-2", "us-ascii", "utf-16", "utf-7", "bogus", "cp1250", ""]
    for _ in range(300):
        payload = rng.randbytes(rng.randint(0, 200))
        text, _note = decode_body(payload, rng.choice(labels))
        assert isinstance(text, str)


def test_normalize_charset() -> None:
    assert normalize_charset("UTF8") == "utf-8"
    assert normalize_charset("windows-1250") == "cp1250"
    assert normalize_charset("ks_c_5601-1987") == "cp949"
    assert normalize_charset("hex") is None
    assert normalize_charset("") is None
    assert normalize_charset("x" * 100) is None
    assert normalize_charset("utf\x008") is None


def test_detect_prefers_cp1250_when_c1_bytes_present() -> None:
    assert detect("środki".encode("cp1250")) == "cp1250"
    assert detect(b"ascii") == "ascii"


def test_split_encoded_words_keep_their_spaces() -> None:
    raw = "=?iso-8859-2?Q?Reklamacja_op=B3aty?= =?iso-8859-2?Q?_za_pa=BCdziernik?="
    assert decode_header_value(raw) == "Reklamacja opłaty za październik"


def test_folded_encoded_words_are_joined() -> None:
    raw = "=?UTF-8?Q?Zam=C3=B3wienie?=\r\n =?UTF-8?Q?_nr_12?="
    assert decode_header_value(raw) == "Zamówienie nr 12"


def test_multibyte_character_split_across_encoded_words() -> None:
    # "ż" is C5 BC; some mailers cut words between the two bytes
    raw = "=?utf-8?B?xQ==?= =?utf-8?B?vHl3aWVj?="
    assert decode_words(raw) == "żywiec"


def test_encoded_word_next_to_plain_text_keeps_the_space() -> None:
    assert decode_words("Re: =?utf-8?q?Zam=C3=B3wienie?= nr 5") == "Re: Zamówienie nr 5"


def test_rfc2231_language_in_encoded_word_is_ignored() -> None:
    assert decode_words("=?utf-8*pl?q?=C5=9Bruba?=") == "śruba"


def test_raw_utf8_header_rfc6532() -> None:
    # the byte parser hands 8-bit header bytes over as surrogate escapes
    raw = "Zamówienie – pilne".encode().decode("ascii", errors="surrogateescape")
    assert decode_header_value(raw) == "Zamówienie – pilne"


def test_raw_cp1250_header() -> None:
    raw = "Pilne: środki".encode("cp1250").decode("ascii", errors="surrogateescape")
    assert decode_header_value(raw) == "Pilne: środki"


def test_broken_encoded_words_do_not_raise() -> None:
    for raw in ["=?utf-8?B?####?=", "=?x-bogus?Q?abc?=", "=?utf-8?B?a?=", "=?utf-8?Q?=ZZ?=", "=?"]:
        assert isinstance(decode_header_value(raw), str)


def test_b64_lenient() -> None:
    assert b64_lenient(b"aGVs\r\nbG8=") == (b"hello", False)
    data, broken = b64_lenient(b"aGVs!!bG8")
    assert (data, broken) == (b"hello", True)
    data, broken = b64_lenient(b"aGVsbG8hA")  # 4n+1 characters
    assert data.startswith(b"hello") and broken
