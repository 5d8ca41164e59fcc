"""Turning the bytes of hostile, mislabelled mail into text without ever raising.

Polish mail is the reference case: Outlook labels Windows-1250 text ``iso-8859-2``, old
scripts send 8-bit text as ``us-ascii`` or with no charset at all, and headers arrive as raw
8-bit UTF-8 (RFC 6532) or raw Windows-1250.  Every function here returns *some* text; what
was guessed is reported as a note for the decision trail.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

import charset_normalizer

_LATIN2 = "iso8859-2"
_ASCII = "ascii"
# Only these are plausible for our senders; a wider candidate list makes short Polish texts
# come out as Turkish or Cyrillic.
_CANDIDATES = ["utf_8", "cp1250", "iso8859_2"]
_DETECT_SAMPLE = 64 * 1024
_C1 = re.compile(rb"[\x80-\x9f]")
_HIGH = re.compile(rb"[\x80-\xff]")
# Names mail clients use that Python does not know (or knows as something narrower).
_ALIASES = {
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "utf8": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso8859-8",
    "windows-874": "cp874",
    "x-mac-ce": "mac-latin2",
}


def normalize_charset(name: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unusable.

    Non-text codecs (``base64``, ``rot13``, ``zlib``…) are refused: a label is attacker-chosen.
    """
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    if not label or len(label) > 40:
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):  # ValueError: a NUL in the label
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in ("undefined", "mbcs"):
        return None
    return info.name


def detect(payload: bytes) -> str:
    """The most plausible codec among UTF-8, Windows-1250 and ISO-8859-2."""
    if not _HIGH.search(payload):
        return _ASCII
    if _valid_utf8(payload):
        return "utf-8"
    if _C1.search(payload):
        return "cp1250"  # ISO-8859-2 has only control codes there
    best = charset_normalizer.from_bytes(
        payload[:_DETECT_SAMPLE], cp_isolation=list(_CANDIDATES)
    ).best()
    if best is None:
        return "cp1250"
    return normalize_charset(best.encoding) or "cp1250"


def _valid_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _display(codec: str) -> str:
    """A codec name as mail people write it (for notes)."""
    return {"cp1250": "windows-1250", "iso8859-2": "iso-8859-2", "ascii": "us-ascii"}.get(
        codec, codec
    )


def decode_body(payload: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text of a body part and, when the label was not trusted, a note saying why."""
    codec, note = choose_codec(payload, declared)
    try:
        return payload.decode(codec), note
    except (UnicodeDecodeError, LookupError):
        return _decode(payload, codec), note or f"invalid {_display(codec)} bytes replaced"


def choose_codec(payload: bytes, declared: str | None) -> tuple[str, str | None]:
    """The codec to decode with, and a note when it is not the declared one."""
    codec = normalize_charset(declared)
    label = (declared or "").strip()
    if codec is None:
        guess = detect(payload)
        if label:
            return guess, f"unknown charset {label!r}; decoded as {_display(guess)}"
        return (
            guess,
            None if guess == _ASCII else f"no charset declared; decoded as {_display(guess)}",
        )
    return _mistrusted(payload, codec) or (codec, None)


def _mistrusted(payload: bytes, codec: str) -> tuple[str, str] | None:
    """The labels that senders get wrong in practice, and what the bytes really are."""
    if codec == _ASCII and _HIGH.search(payload):
        guess = detect(payload)
        return guess, f"labelled us-ascii but 8-bit; decoded as {_display(guess)}"
    if codec == _LATIN2 and _C1.search(payload):
        if _valid_utf8(payload):
            return "utf-8", "body decoded as utf-8 (labelled iso-8859-2)"
        return "cp1250", "body re-decoded as windows-1250 (labelled iso-8859-2)"
    if codec == "utf-8" and _HIGH.search(payload) and not _valid_utf8(payload):
        guess = detect(payload)
        if guess != "utf-8":
            return guess, f"labelled utf-8 but not UTF-8; decoded as {_display(guess)}"
    return None


def _decode(payload: bytes, codec: str) -> str:
    """Decode with replacement; codecs that fail outright fall back to UTF-8."""
    try:
        return payload.decode(codec, errors="replace")
    except (LookupError, UnicodeError, TypeError):
        return payload.decode("utf-8", errors="replace")


def decode_8bit(raw: bytes) -> str:
    """Raw header bytes: UTF-8 (RFC 6532) when valid, otherwise Windows-1250."""
    if not _HIGH.search(raw):
        return raw.decode(_ASCII)
    if _valid_utf8(raw):
        return raw.decode("utf-8")
    return _decode(raw, "cp1250")


def header_text(raw: str) -> str:
    """A raw header value from the parser as text: 8-bit bytes decoded, folding removed.

    The byte parser hands 8-bit header bytes over as surrogate escapes; they are turned
    back into bytes and decoded as a whole, so a UTF-8 sequence is never split.
    """
    data = raw.encode("utf-8", errors="surrogateescape")
    text = decode_8bit(data)
    return _FOLD.sub("", text).replace("\x00", "")  # NUL: never text, and PostgreSQL refuses it


_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*)\?=")


def _ew_bytes(encoding: str, text: str) -> bytes:
    """Payload of one encoded word (lenient: a broken word still yields its bytes)."""
    data = text.encode("ascii", errors="replace")
    if encoding in "Qq":
        return binascii.a2b_qp(data, header=True)
    return b64_lenient(data)[0]


def b64_lenient(data: bytes) -> tuple[bytes, bool]:
    """Base64 that tolerates junk characters and bad padding; True when it had to.

    The stdlib decoder gives up on a length of 4n+1 and returns the *encoded* text; here the
    stray character is dropped so the rest of the file is still recovered. Well-formed input
    (nearly all) is decoded straight from the caller's bytes, without working copies: a 25 MB
    attachment should not cost four times its size.
    """
    payload = len(data) - data.count(b"\r") - data.count(b"\n")
    if payload % 4 == 0 and not data.translate(None, _B64_WELL_FORMED):
        try:
            return binascii.a2b_base64(data, strict_mode=False), False
        except binascii.Error:
            pass  # bad padding: the careful path below says so
    body = data.translate(None, b" \t\r\n")
    core = body.rstrip(b"=")
    clean = core.translate(None, _B64_JUNK)
    broken = len(clean) != len(core) or len(body) % 4 != 0
    if len(clean) % 4 == 1:  # a lone sextet cannot encode a byte
        clean, broken = clean[:-1], True
    try:
        return base64.b64decode(clean + b"=" * (-len(clean) % 4)), broken
    except (binascii.Error, ValueError):  # pragma: no cover - input is clean by construction
        return b"", True


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_JUNK = bytes(b for b in range(256) if b not in _B64_ALPHABET)  # deleted by translate()
_B64_WELL_FORMED = _B64_ALPHABET + b"=\r\n"


def decode_words(text: str) -> str:
    """RFC 2047 decoding done the way clients expect.

    Whitespace between two encoded words disappears; adjacent words in the same charset are
    joined as bytes first, so a multibyte character split across two words survives.
    """
    pieces: list[tuple[str | None, bytes | str]] = []
    pos = 0
    last_was_word = False
    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos : match.start()]
        if gap and not (last_was_word and gap.isspace()):
            pieces.append((None, gap))
        charset, encoding, payload = match.groups()
        decoded = _ew_bytes(encoding, payload)
        if pieces and pieces[-1][0] == charset.lower() and last_was_word:
            prev = pieces[-1][1]
            assert isinstance(prev, bytes)
            pieces[-1] = (charset.lower(), prev + decoded)
        else:
            pieces.append((charset.lower(), decoded))
        last_was_word = True
        pos = match.end()
    pieces.append((None, text[pos:]))
    return "".join(_piece_text(charset, value) for charset, value in pieces)


def _piece_text(charset: str | None, value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    if charset is None:  # pragma: no cover - bytes always carry their charset
        return decode_8bit(value)
    return decode_body(value, charset)[0]


def decode_header_value(raw: str) -> str:
    """A header value from the parser, fully decoded to display text."""
    return decode_words(header_text(raw)).replace("\x00", "")  # an encoded word may hide one
