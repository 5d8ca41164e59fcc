"""Content-addressed file store: bytes on disk named by SHA-256, metadata in ``stored_files``.

A blob is written (temporary file, fsync, rename) before the transaction that references it
commits; a rolled-back transaction can leave an unreferenced blob behind, never a reference
without its blob.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hermes_groupware.errors import InvalidInput

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    """A stored blob's name and size."""

    sha256: str
    size: int


class FileStore:
    """``root/ab/cd/abcd…`` files; writing the same content twice stores it once."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        """Where the blob with this hash lives."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, chunks: Iterable[bytes]) -> Blob:
        """Store the content; raises InvalidInput when it exceeds the size limit."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise InvalidInput(
                            "file", f"larger than the limit of {self.max_bytes} bytes"
                        )
                    digest.update(chunk)
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            target = self.path(digest.hexdigest())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Blob(sha256=digest.hexdigest(), size=size)

    def read(self, sha256: str) -> bytes:
        """The blob's content."""
        return self.path(sha256).read_bytes()


def chunks_of(data: bytes) -> Iterable[bytes]:
    """Feed in-memory content to :meth:`FileStore.put`."""
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
