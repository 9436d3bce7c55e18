"""Content-addressed files: raw messages and attachments, written atomically under blob_dir.

Everything is written in pieces: a `BlobWriter` hashes what it is given on the way into a temp
file under `tmp/` and renames it to its content's name when finished, so that no caller needs a
whole message or attachment in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

_SHA = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class BlobStore:
    """Files named by their sha256: `ab/cd/abcd…`. Writing the same content twice is a no-op."""

    def __init__(self, *, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_bytes(self, data: bytes) -> str:
        return self.put_chunks([data])

    def put_file(self, stream: BinaryIO, *, limit: int | None = None) -> str:
        """Copy a stream into the store in pieces; with limit, at most that many bytes are read."""
        with self.writer() as out:
            left = limit
            while left is None or left > 0:
                chunk = stream.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    break
                out.write(chunk)
                if left is not None:
                    left -= len(chunk)
            return out.finish()

    def put_chunks(self, chunks: Iterable[bytes]) -> str:
        """Write chunks to a temp file, fsync, then rename to the content's name; returns the sha256."""
        with self.writer() as out:
            for chunk in chunks:
                out.write(chunk)
            return out.finish()

    def writer(self) -> BlobWriter:
        """A new blob written in pieces: `write()` each, then `finish()` (a writer left unfinished leaves nothing)."""
        return BlobWriter(store=self)

    def adopt(self, path: Path, *, sha256: str | None = None) -> str:
        """Move a finished temp file (on the same file system) into the store, without copying it.

        With sha256 (computed while the file was written) the file is not read again."""
        if sha256 is None:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(CHUNK), b""):
                    digest.update(chunk)
            sha = digest.hexdigest()
        else:
            sha = sha256
        final = self.path(sha)
        if final.is_file():
            path.unlink()
            return sha
        _fsync_file(path)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, final)
        _fsync_dir(final.parent)
        return sha

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def read_head(self, sha256: str, size: int) -> bytes:
        """At most the first size bytes of a blob (a message's header, without reading its body)."""
        with self.open(sha256) as fh:
            return fh.read(size)

    def read_bytes(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def tempdir(self) -> tempfile.TemporaryDirectory[str]:
        return tempfile.TemporaryDirectory(dir=self.root / "tmp", prefix="work-")


@dataclass(frozen=True, kw_only=True)
class Stored:
    """A blob in the store: its name and size."""

    sha256: str
    size: int


class BlobWriter:
    """One blob being written: hashed and written in pieces, then named by its content."""

    def __init__(self, *, store: BlobStore) -> None:
        self.store = store
        self.size = 0
        self._digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=store.root / "tmp", prefix="blob-")
        self.tmp = Path(tmp)
        self._out: BinaryIO | None = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        if self._out is None:
            raise ValueError("the blob is finished")
        try:
            self._out.write(chunk)
        except OSError as exc:
            self._where(exc)
            raise
        self._digest.update(chunk)
        self.size += len(chunk)

    def finish(self) -> str:
        """fsync, then rename to the content's name (a no-op when that content is stored already)."""
        out = self._out
        if out is None:
            raise ValueError("the blob is finished")
        try:
            out.flush()
            os.fsync(out.fileno())
            out.close()
            self._out = None
            sha = self._digest.hexdigest()
            final = self.store.path(sha)
            if final.is_file():
                os.unlink(self.tmp)
                return sha
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp, final)
            _fsync_dir(final.parent)
            return sha
        except OSError as exc:
            self._where(exc)
            raise

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.tmp.exists():
            self.tmp.unlink()

    def _where(self, exc: OSError) -> None:
        """A failed write names no file: say where (raises a copy naming the store; else returns)."""
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(self.store.root)) from exc

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.discard()  # after finish() the temp file is gone already


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
