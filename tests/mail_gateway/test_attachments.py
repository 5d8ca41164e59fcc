"""Attachment names, danger flags and winmail.dat (TNEF) unpacking.

The TNEF blobs are produced by a tiny writer below (MS-OXTNEF layout: signature, key, then
attribute records of level, id, type, length, data, checksum), not copied from anywhere.
"""

from __future__ import annotations

import base64
import random
import struct

import pytest

from mail_gateway.attachments import (
    attachment_name,
    extension_for,
    is_dangerous,
    is_tnef,
    unpack_tnef,
)
from mail_gateway.mime import parse_message

# --- a minimal TNEF writer ------------------------------------------------------------------

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2


def record(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return (
        struct.pack("<BHHI", level, attr_id, attr_type, len(data))
        + data
        + struct.pack("<H", checksum)
    )


def mapi_unicode(prop_id: int, text: str) -> bytes:
    """One PT_UNICODE property: type, id, value count, byte length, UTF-16 text, padding."""
    raw = (text + "\0").encode("utf-16-le")
    return struct.pack("<HHII", 0x001F, prop_id, 1, len(raw)) + raw + b"\0" * (-len(raw) % 4)


def tnef_blob(files: list[tuple[str, bytes]], *, long_names: bool = True) -> bytes:
    out = struct.pack("<IH", SIGNATURE, 0x0001)
    out += record(LVL_MESSAGE, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # TNEF version
    out += record(LVL_MESSAGE, 0x9007, 0x0006, struct.pack("<II", 1250, 0))  # OEM code page
    out += record(LVL_MESSAGE, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\0")  # message class
    for name, data in files:
        out += record(LVL_ATTACHMENT, 0x9002, 0x0006, b"\x01\x00" + b"\xff" * 4 + b"\0" * 8)
        short = name if len(name) <= 12 else name[:8] + name[name.rfind(".") :]
        out += record(LVL_ATTACHMENT, 0x8010, 0x0001, short.encode("cp1250") + b"\0")
        out += record(LVL_ATTACHMENT, 0x800F, 0x0006, data)
        if long_names:
            mapi = struct.pack("<I", 1) + mapi_unicode(0x3707, name)  # PR_ATTACH_LONG_FILENAME
            out += record(LVL_ATTACHMENT, 0x9005, 0x0006, mapi)
    return out


PDF = b"%PDF-1.4\n% faktura\n" + bytes(range(256))
XLSX = b"PK\x03\x04 arkusz kalkulacyjny " * 4


# --- names and flags ------------------------------------------------------------------------


def test_attachment_name_fallbacks() -> None:
    assert attachment_name(None, 3, "image/jpeg") == "attachment-3.jpg"
    assert attachment_name("   ", 1, "text/calendar") == "attachment-1.ics"
    assert attachment_name("../..", 2, "application/x-unknown") == "attachment-2.bin"
    assert attachment_name("attachment", 1, "application/pdf") == "attachment"
    assert attachment_name("a\x00b\u202egpj.exe", 1, "image/jpeg") == "abgpj.exe"


def test_extension_for_is_deterministic() -> None:
    assert extension_for("TEXT/PLAIN") == ".txt"
    assert extension_for("message/rfc822") == ".eml"
    assert extension_for("text/x-weird") == ".txt"
    assert extension_for("application/x-weird") == ".bin"


@pytest.mark.parametrize(
    ("name", "ctype", "dangerous"),
    [
        ("faktura.pdf.exe", "application/octet-stream", True),
        ("FAKTURA.PDF.EXE", "application/octet-stream", True),
        ("skrypt.js", "text/plain", True),
        ("skrot.lnk", "application/octet-stream", True),
        ("aplikacja.hta", "application/octet-stream", True),
        ("narzedzie.ps1", "text/plain", True),
        ("instalator.msi", "application/octet-stream", True),
        ("program.jar", "application/octet-stream", True),
        ("dokument", "application/x-msdownload", True),
        ("faktura.pdf", "application/pdf", False),
        ("exe", "application/octet-stream", False),
        ("zdjecie.jpg", "image/jpeg", False),
    ],
)
def test_dangerous(name: str, ctype: str, dangerous: bool) -> None:
    assert is_dangerous(name, ctype) is dangerous


def test_is_tnef() -> None:
    assert is_tnef("WINMAIL.DAT", "application/octet-stream")
    assert is_tnef("x.dat", "application/ms-tnef")
    assert not is_tnef("data.dat", "application/octet-stream")


# --- TNEF -----------------------------------------------------------------------------------


def test_unpack_tnef_extracts_files_with_long_names() -> None:
    files = unpack_tnef(tnef_blob([("Faktura_październik.pdf", PDF), ("zestawienie.xlsx", XLSX)]))
    assert files is not None
    assert [(f.filename, f.content_type, f.data) for f in files] == [
        ("Faktura_październik.pdf", "application/pdf", PDF),
        (
            "zestawienie.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            XLSX,
        ),
    ]
    assert all(f.extracted_from == "winmail.dat" and not f.dangerous for f in files)


def test_unpack_tnef_short_names_in_the_code_page_and_danger() -> None:
    files = unpack_tnef(
        tnef_blob([("łódź.txt", b"plik tekstowy"), ("run.exe", b"MZ" * 10)], long_names=False)
    )
    assert files is not None
    assert [f.filename for f in files] == ["łódź.txt", "run.exe"]
    assert [f.dangerous for f in files] == [False, True]


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x78\x9f\x3e\x22",
        b"not a tnef blob at all, just text",
        tnef_blob([("a.pdf", PDF)])[:50],  # cut inside a record
        tnef_blob([("a.pdf", PDF)])[:-30],
        b"\x00" * 64,
    ],
)
def test_unpack_tnef_rejects_junk(blob: bytes) -> None:
    assert unpack_tnef(blob) is None


def forged(attr_id: int, level: int, body: bytes) -> bytes:
    head = struct.pack("<IH", SIGNATURE, 1)
    head += record(LVL_MESSAGE, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
    if level == LVL_ATTACHMENT:
        head += record(LVL_ATTACHMENT, 0x9002, 0x0006, b"\x01\x00" + b"\xff" * 12)
    return head + record(level, attr_id, 0x0006, body) + record(LVL_MESSAGE, 0x800C, 2, b"x" * 8)


@pytest.mark.parametrize(
    "blob",
    [
        # MAPI property list claiming 4 billion properties (tnefparse would loop on them)
        forged(0x9003, LVL_MESSAGE, struct.pack("<I", 0xFFFFFFFF) + b"\0" * 8),
        forged(0x9005, LVL_ATTACHMENT, struct.pack("<I", 0xFFFFFFFF) + b"\0" * 8),
        # recipient table with 4 billion rows
        forged(0x9004, LVL_MESSAGE, struct.pack("<II", 0xFFFFFFFF, 1) + b"\0" * 8),
        # a multi-valued short with 4 billion values
        forged(0x9003, LVL_MESSAGE, struct.pack("<IHHI", 1, 0x1002, 0x3001, 0xFFFFFFFF)),
        # a string property with 4 billion values
        forged(0x9003, LVL_MESSAGE, struct.pack("<IHHI", 1, 0x001E, 0x3001, 0xFFFFFFFF)),
        # an unknown property type
        forged(0x9003, LVL_MESSAGE, struct.pack("<IHHI", 1, 0x0999, 0x3001, 0)),
        # a string that does not decode, inside a recipient row
        forged(
            0x9004,
            LVL_MESSAGE,
            struct.pack("<IIHHII", 1, 1, 0x001F, 0x3001, 1, 3) + b"\x00\xd8\x00\x00",
        ),
    ],
)
def test_forged_counts_are_refused_before_tnefparse_sees_them(blob: bytes) -> None:
    assert unpack_tnef(blob) is None


def test_embedded_messages_nested_too_deep_are_refused() -> None:
    blob = tnef_blob([("a.txt", b"inner file")])
    for _ in range(6):
        value = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46" + blob
        prop = struct.pack("<HHII", 0x000D, 0x3701, 1, len(value)) + value
        prop += b"\0" * (-len(value) % 4)
        blob = tnef_blob([]) + record(LVL_ATTACHMENT, 0x9002, 6, b"\x01\x00" + b"\xff" * 12)
        blob += record(LVL_ATTACHMENT, 0x9005, 6, struct.pack("<I", 1) + prop)
    assert unpack_tnef(blob) is None


def test_random_bytes_never_hang_or_raise() -> None:
    rng = random.Random(99)
    good = tnef_blob([("a.pdf", PDF), ("b.txt", b"tekst " * 20)])
    for _ in range(300):
        blob = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(6, len(blob))
            blob[pos : pos + 4] = rng.randbytes(4)
        result = unpack_tnef(bytes(blob))
        assert result is None or isinstance(result, list)


# --- winmail.dat inside a message -----------------------------------------------------------


def outlook_with_winmail(blob: bytes) -> bytes:
    encoded = base64.encodebytes(blob).decode()
    text = (
        "From: Jan Kowalski <jan@klient.pl>\nTo: biuro@firma.pl\nSubject: Faktury\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=TNEF\n\n"
        "--TNEF\nContent-Type: text/plain; charset=us-ascii\n\nW zalaczeniu faktury.\n"
        '--TNEF\nContent-Type: application/ms-tnef; name="winmail.dat"\n'
        'Content-Disposition: attachment; filename="winmail.dat"\n'
        f"Content-Transfer-Encoding: base64\n\n{encoded}--TNEF--\n"
    )
    return text.replace("\n", "\r\n").encode()


def test_winmail_dat_is_kept_and_unpacked() -> None:
    blob = tnef_blob([("Faktura_październik.pdf", PDF), ("zestawienie.xlsx", XLSX)])
    msg = parse_message(outlook_with_winmail(blob))
    assert msg.text == "W zalaczeniu faktury."
    assert [(a.filename, a.extracted_from) for a in msg.attachments] == [
        ("winmail.dat", None),
        ("Faktura_październik.pdf", "winmail.dat"),
        ("zestawienie.xlsx", "winmail.dat"),
    ]
    assert msg.attachments[0].data == blob
    assert "winmail.dat unpacked: 2 files" in msg.notes


def test_broken_winmail_dat_stays_a_file_with_a_note() -> None:
    blob = tnef_blob([("a.pdf", PDF)])[:50]
    msg = parse_message(outlook_with_winmail(blob))
    assert [(a.filename, a.data) for a in msg.attachments] == [("winmail.dat", blob)]
    assert "winmail.dat could not be unpacked; kept as it is" in msg.notes
