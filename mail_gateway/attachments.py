"""Attachments of inbound mail: safe names, danger flags and winmail.dat unpacking.

Names come from the sender and end up on a user's disk, so every name goes through
``safe_filename``; the danger flag looks at the *sanitised* name, which is what the user sees.
TNEF (winmail.dat) is parsed by tnefparse, a stale library that loops on forged counts, so the
blob is walked and bounds-checked here first and tnefparse only ever sees a sane structure.
"""

from __future__ import annotations

import mimetypes
import struct
from dataclasses import dataclass
from typing import Any

from hermes_groupware.services.items import safe_filename

DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe", "bat", "cmd", "com", "scr", "js", "jse", "vbs", "vbe", "msi", "msp", "ps1",
        "psm1", "jar", "lnk", "hta", "pif", "cpl", "wsf", "wsh", "reg", "scf", "msc", "dll",
        "appx", "msix", "application", "gadget", "sh",
    }
)  # fmt: skip
DANGEROUS_TYPES = frozenset(
    {
        "application/x-msdownload", "application/x-msdos-program", "application/x-ms-installer",
        "application/x-msi", "application/x-dosexec", "application/x-executable",
        "application/javascript", "application/x-javascript", "text/javascript",
        "text/vbscript", "application/x-sh", "application/hta", "application/java-archive",
        "application/x-ms-shortcut", "application/x-bat",
    }
)  # fmt: skip
# Deterministic extensions for nameless parts; the system mime.types differs between hosts.
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "message/rfc822": ".eml",
    "application/ms-tnef": ".dat",
    "application/zip": ".zip",
    "application/octet-stream": ".bin",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
}


@dataclass(frozen=True)
class Attachment:
    """One file of a message, ready to be stored as a task item."""

    filename: str
    content_type: str
    data: bytes
    inline: bool
    content_id: str | None
    dangerous: bool
    extracted_from: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A part kept out by a limit or the type policy; recorded so the trail can say so."""

    filename: str
    content_type: str
    size: int
    reason: str


def extension_for(content_type: str) -> str:
    """A file extension for a content type (``.bin`` when unknown)."""
    ctype = content_type.lower()
    if ctype in _EXTENSIONS:
        return _EXTENSIONS[ctype]
    guessed = mimetypes.guess_extension(ctype, strict=True)
    return guessed or (".txt" if ctype.startswith("text/") else ".bin")


def attachment_name(raw: str | None, index: int, content_type: str) -> str:
    """A safe, non-empty file name; ``attachment-N.<ext>`` when the sender gave none."""
    if raw and raw.strip():
        name = safe_filename(raw)
        if name != "attachment" or raw.strip() == "attachment":
            return name
    return f"attachment-{index}{extension_for(content_type)}"


def extension(filename: str) -> str:
    """The final extension, lower case, with its dot (``""`` when none)."""
    stem, dot, ext = filename.rpartition(".")
    return f".{ext.lower()}" if dot and stem and ext else ""


def is_dangerous(filename: str, content_type: str) -> bool:
    """Executable or script: by the final extension (so ``faktura.pdf.exe``) or by type."""
    return (
        extension(filename)[1:] in DANGEROUS_EXTENSIONS or content_type.lower() in DANGEROUS_TYPES
    )


def make_attachment(
    filename: str,
    content_type: str,
    data: bytes,
    *,
    inline: bool = False,
    content_id: str | None = None,
    extracted_from: str | None = None,
) -> Attachment:
    """An attachment with its danger flag computed from the (already safe) name."""
    return Attachment(
        filename=filename,
        content_type=content_type,
        data=data,
        inline=inline,
        content_id=content_id,
        dangerous=is_dangerous(filename, content_type),
        extracted_from=extracted_from,
    )


def is_tnef(filename: str, content_type: str) -> bool:
    """Outlook's rich-text container, by type or by its well-known name."""
    return content_type.lower() in ("application/ms-tnef", "application/vnd.ms-tnef") or (
        filename.lower() == "winmail.dat"
    )


def unpack_tnef(data: bytes) -> list[Attachment] | None:
    """Files inside a winmail.dat; None when it cannot be parsed (caller keeps the original).

    Embedded Outlook items (forwarded messages inside TNEF) are not files and are left out.
    """
    if not _tnef_sane(data, 0):
        return None
    try:
        from tnefparse.tnef import TNEF  # noqa: PLC0415 - stale library, loaded only when needed

        parsed: Any = TNEF(data, do_checksum=False)
        files: list[Attachment] = []
        for index, item in enumerate(parsed.attachments, start=1):
            if hasattr(item, "embed"):
                continue
            payload = item.data if isinstance(item.data, bytes) else b""
            name = attachment_name(_tnef_name(item), index, "application/octet-stream")
            ctype = mimetypes.guess_type(name, strict=True)[0] or "application/octet-stream"
            files.append(make_attachment(name, ctype, payload, extracted_from="winmail.dat"))
    except Exception:  # any failure of the stale library means "cannot be parsed"
        return None
    return files


def _tnef_name(item: Any) -> str:
    """The long file name, falling back to the 8.3 title in the message's code page."""
    try:
        name = item.long_filename()
    except UnicodeDecodeError:  # tnefparse decodes the 8.3 title as UTF-8
        raw = getattr(item, "_name", b"")
        codepage = getattr(item, "codepage", None) or "cp1252"
        name = _decode_title(raw, codepage) if isinstance(raw, bytes) else str(raw)
    if isinstance(name, bytes):
        name = name.decode("utf-8", errors="replace")
    return str(name).strip("\x00")


def _decode_title(raw: bytes, codepage: str) -> str:
    try:
        return raw.decode(codepage, errors="replace")
    except LookupError:
        return raw.decode("cp1252", errors="replace")


# --- TNEF structure check -------------------------------------------------------------------
# Mirrors how tnefparse walks the blob and refuses anything where a count could make it loop
# far beyond the data (it iterates a forged 32-bit count even past the end of the buffer).

_TNEF_SIGNATURE = 0x223E9F78
_MAX_TNEF_COPY = 4_000_000_000  # bytes tnefparse may copy around; ~0.5 s
_MAX_TNEF_DEPTH = 3
_ATT_REND_DATA, _ATT_MAPI_PROPS, _ATT_RECIP_TABLE, _ATT_ATTACHMENT = 0x9002, 0x9003, 0x9004, 0x9005
_ATT_OEM_CODEPAGE = 0x9007
_CODEPAGES = {20127: "ascii", 20866: "koi8-r", 28591: "iso-8859-1", 65001: "utf-8"}
_LVL_ATTACHMENT = 0x02
_MAPI_ATTACH_DATA_OBJ = 0x3701
_IMESSAGE_SIG = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0048: 16}
_FIXED_SIZES.update(dict.fromkeys((0x0005, 0x0007, 0x0006, 0x0014, 0x0040), 8))
_VARIABLE_TYPES = frozenset({0x001E, 0x001F, 0x000D, 0x0102, 0x0000})


class _Insane(Exception):
    """The TNEF blob is not something tnefparse can be trusted with."""


def _u16(data: bytes, offset: int) -> int:
    if offset + 2 > len(data):
        raise _Insane
    value: int = struct.unpack_from("<H", data, offset)[0]
    return value


def _u32(data: bytes, offset: int) -> int:
    if offset + 4 > len(data):
        raise _Insane
    value: int = struct.unpack_from("<I", data, offset)[0]
    return value


def _tnef_sane(data: bytes, depth: int) -> bool:
    """True when every object and MAPI count in the blob fits inside the blob."""
    try:
        _TnefCheck(depth).blob(data)
    except (_Insane, RecursionError):
        return False
    return True


class _TnefCheck:
    """Walks a TNEF blob exactly as tnefparse will, raising ``_Insane`` where it would misstep.

    Besides counts, every string must decode: inside a recipient table tnefparse swallows a
    decode error and resumes at a stale offset, where a forged count makes it spin.
    """

    def __init__(self, depth: int) -> None:
        if depth > _MAX_TNEF_DEPTH:
            raise _Insane
        self.depth = depth
        self.codepage: str | None = None

    def blob(self, data: bytes) -> None:
        if _u32(data, 0) != _TNEF_SIGNATURE:
            raise _Insane
        offset, copied, attach_codepage = 6, 0, self.codepage
        while offset + 12 < len(data):
            # tnefparse slices the rest of the blob for every object: quadratic copying
            copied += len(data) - offset
            if copied > _MAX_TNEF_COPY:
                raise _Insane
            level, name = data[offset], _u16(data, offset + 1)
            length = _u32(data, offset + 5) + 11
            if length > len(data) - offset:  # truncated; tnefparse would read what is there
                raise _Insane
            body = data[offset + 9 : offset + length - 2]
            if name == _ATT_REND_DATA:
                attach_codepage = self.codepage
            if level == _LVL_ATTACHMENT:
                if name == _ATT_ATTACHMENT:
                    self.mapi(body, 0, attach_codepage)
            elif name == _ATT_MAPI_PROPS:
                self.mapi(body, 0, self.codepage)
            elif name == _ATT_RECIP_TABLE:
                self.recipients(body)
            elif name == _ATT_OEM_CODEPAGE:
                number = _u32(body, 0)
                self.codepage = _CODEPAGES.get(number, f"cp{number}")
            offset += length
        if offset != len(data):  # a cut-off record, which tnefparse would silently drop
            raise _Insane

    def recipients(self, body: bytes) -> None:
        rows, at = _u32(body, 0), 4
        if rows > len(body) // 4:
            raise _Insane
        for _ in range(rows):
            at = self.mapi(body, at, self.codepage)

    def mapi(self, data: bytes, offset: int, codepage: str | None) -> int:
        """One MAPI property list; the offset after it."""
        count = _u32(data, offset)
        offset += 4
        if count > (len(data) - offset) // 4:
            raise _Insane
        for _ in range(count):
            attr_type, attr_name = _u16(data, offset), _u16(data, offset + 2)
            offset = self.named(data, offset + 4) if attr_name >= 0x8000 else offset + 4
            values, multi = 1, bool(attr_type & 0x1000)
            attr_type &= ~0x1000
            if multi:
                values = _u32(data, offset) or 1
                offset += 4
                if values > len(data) - offset:
                    raise _Insane
            for _ in range(values):
                offset = self.value(data, offset, (attr_type, attr_name), multi, codepage)
            if values % 2 and attr_type in (0x0002, 0x000B):
                offset += 2
        return offset

    def named(self, data: bytes, offset: int) -> int:
        """Skip a named property's GUID and id or name."""
        kind = _u32(data, offset + 16)
        offset += 20
        if kind == 0:
            return _within(data, offset + 4)
        size = _u32(data, offset)
        size += -size % 4
        _decodes(data[offset + 4 : offset + 4 + size], "utf-16")
        return _within(data, offset + 4 + size)

    def value(
        self, data: bytes, offset: int, tag: tuple[int, int], multi: bool, codepage: str | None
    ) -> int:
        attr_type, attr_name = tag
        if attr_type in _FIXED_SIZES:
            return _within(data, offset + _FIXED_SIZES[attr_type])
        if attr_type not in _VARIABLE_TYPES:
            raise _Insane
        items = 1
        if not multi:
            items = _u32(data, offset)
            offset += 4
            if items > (len(data) - offset) // 4:
                raise _Insane
        joined = b""
        for _ in range(items):
            size = _u32(data, offset)
            size += -size % 4
            item = data[offset + 4 : offset + 4 + size]
            offset = _within(data, offset + 4 + size)
            if attr_type == 0x001F:
                _decodes(item, "utf-16")
            elif attr_type == 0x001E:
                _decodes(item, codepage)
            elif attr_name == _MAPI_ATTACH_DATA_OBJ:
                joined += item.rstrip(b"\x00")
        if joined.startswith(_IMESSAGE_SIG):
            _TnefCheck(self.depth + 1).blob(joined[len(_IMESSAGE_SIG) :])
        return offset


def _within(data: bytes, offset: int) -> int:
    if offset > len(data):
        raise _Insane
    return offset


def _decodes(item: bytes, codec: str | None) -> None:
    if codec is None:
        raise _Insane
    try:
        item.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:
        raise _Insane from exc
