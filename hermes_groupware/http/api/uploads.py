"""File bodies: the raw body named by ``?filename=``, or the ``file`` part of a form.

The bytes stream into the file store (:func:`items.add_file`), which stops at
``[files] max_file_bytes``; a body announced larger is refused before it is read (413).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from flask import request

from hermes_groupware.errors import InvalidInput
from hermes_groupware.filestore import CHUNK
from hermes_groupware.http.api.registry import Upload

_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]{0,63}/[A-Za-z0-9][\w.+-]{0,63}", re.ASCII)
_FALLBACK = "application/octet-stream"


def read_upload(filename: str | None) -> Upload:
    """The file of this request; InvalidInput names ``file`` or ``filename`` when missing."""
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise InvalidInput("file", "send the file as the form part named 'file'")
        name = filename or part.filename or ""
        return Upload(_named(name), media_type(part.mimetype), _chunks(part.stream))
    return Upload(_named(filename or ""), media_type(request.mimetype), _chunks(request.stream))


def media_type(value: str) -> str:
    """A plain ``type/subtype`` as given, anything else (parameters, junk) as octet-stream."""
    return value.lower() if _MEDIA_TYPE.fullmatch(value) else _FALLBACK


def _named(filename: str) -> str:
    if not filename.strip():
        raise InvalidInput("filename", "name the file: ?filename=… (or the form part's name)")
    return filename


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
