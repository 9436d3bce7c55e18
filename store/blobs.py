"""Content-addressed files: raw messages and attachments, written in pieces and made durable in groups.

A `BlobWriter` hashes what it is given on the way into a temp file under `tmp/`, so that no caller
needs a whole message or attachment in memory. A finished blob waits as `tmp/pending-<sha256>`
until `sync()`: one flush of the file system (syncfs) makes every waiting blob durable at once,
and only then is each renamed to its content's name `ab/cd/abcd…`. A name in the store therefore
always holds complete content; a rename that a crash undid is redone when the store is opened
(the pending file is durable and is checked against its name). Callers sync before they commit
a row that names a blob: the one-shot `put_*` calls do it themselves, the poller once per batch of
messages and the pipeline once per verdict.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, cast

from store.private import FILE_MODE, private_folder

log = logging.getLogger(__name__)
_SHA = re.compile(r"^[0-9a-f]{64}$")
_FANOUT = re.compile(r"^[0-9a-f]{2}$")
CHUNK = 1024 * 1024
PENDING = "pending-"
NEW_STORE = "new-store-since"  # written by `intake db upgrade --new-store`: blobs older than it are an earlier store's


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):  # not Linux: every file is flushed by itself instead
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return cast(Callable[[int], int], function)


_SYNCFS = _load_syncfs()
_HOST = re.sub(r"[^A-Za-z0-9_]", "_", os.uname().nodename)[:40] or "host"


def _owner() -> str:
    """In the names of this process's pending blobs and work folders."""
    return f"{_HOST}.{os.getpid()}"


class BlobStore:
    """Files named by their sha256: `ab/cd/abcd…`. Writing the same content twice is a no-op."""

    def __init__(self, *, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        private_folder(self.tmp)
        self._pending: dict[str, Path] = {}
        self._folders: set[Path] = set()  # known to exist: not made again for every blob
        self._lock = threading.Lock()
        self._recover()

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    # -- writing -----------------------------------------------------------------------------------

    def put_bytes(self, data: bytes, *, sync: bool = True) -> str:
        return self.put_chunks([data], sync=sync)

    def put_file(self, stream: BinaryIO, *, limit: int | None = None, sync: bool = True) -> str:
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
            return out.finish(sync=sync)

    def put_chunks(self, chunks: Iterable[bytes], *, sync: bool = True) -> str:
        """Write chunks to a temp file and name it by its content (durable at once unless sync=False)."""
        with self.writer() as out:
            for chunk in chunks:
                out.write(chunk)
            return out.finish(sync=sync)

    def writer(self) -> BlobWriter:
        """A new blob written in pieces: `write()` each, then `finish()` (a writer left unfinished leaves nothing)."""
        return BlobWriter(store=self)

    def adopt(self, path: Path, *, sha256: str | None = None, sync: bool = True) -> str:
        """Move a finished temp file (on the same file system) into the store, without copying it.

        With sha256 (computed while the file was written) the file is not read again."""
        if sha256 is None:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(CHUNK), b""):
                    digest.update(chunk)
            sha256 = digest.hexdigest()
        self._wait(path, sha256)
        if sync:
            self.sync()
        return sha256

    def _wait(self, path: Path, sha256: str) -> None:
        """Park a complete file as pending under its content's name, for the next sync()."""
        with self._lock:
            if sha256 in self._pending or self.path(sha256).is_file():
                path.unlink()
                return
            waiting = self.tmp / f"{PENDING}{_owner()}-{sha256}"
            os.chmod(path, FILE_MODE)  # a file written elsewhere (a decoded attachment) keeps no wider mode
            os.replace(path, waiting)
            self._pending[sha256] = waiting

    def sync(self) -> None:
        """Make every pending blob durable (one flush of the file system), then give each its name."""
        with self._lock:
            if not self._pending:
                return
            _flush(self.tmp, list(self._pending.values()))
            for sha256, waiting in self._pending.items():
                final = self.path(sha256)
                if final.parent not in self._folders:
                    private_folder(final.parent)
                    self._folders.add(final.parent)
                try:
                    os.replace(waiting, final)
                except FileNotFoundError:  # its folder was removed meanwhile: made again
                    private_folder(final.parent)
                    os.replace(waiting, final)
            self._pending.clear()

    def _recover(self) -> None:
        """Name the pending blobs that a stopped process left behind (their content checked), drop
        the rest with its work folders; what a running process (another worker) has is left alone."""
        for entry in self.tmp.iterdir():
            name = entry.name
            if name.startswith(PENDING) and _gone(name[len(PENDING) :].rsplit("-", 1)[0]):
                sha256 = name.rsplit("-", 1)[1]
                final = self.path(sha256) if _SHA.match(sha256) else None
                if final is not None and not final.is_file() and _digest(entry) == sha256:
                    private_folder(final.parent)
                    os.chmod(entry, FILE_MODE)
                    os.replace(entry, final)
                    log.info("blob %s recovered from the pending folder", sha256[:12])
                else:
                    entry.unlink(missing_ok=True)
            elif name.startswith("work-") and entry.is_dir() and _gone(name[len("work-") :].rsplit("-", 1)[0]):
                shutil.rmtree(entry, ignore_errors=True)

    # -- an earlier store's files -----------------------------------------------------------------

    def mark_new_store(self, *, at: dt.datetime) -> None:
        """Say that a new database starts over these files: what is stored now belongs to an earlier store."""
        marker = self.root / NEW_STORE
        tmp = self.tmp / f"{NEW_STORE}-{_owner()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(f"{at.astimezone(dt.UTC).isoformat()}\n")
        os.replace(tmp, marker)

    def new_store_since(self) -> dt.datetime | None:
        """When the database was started over these files with `--new-store`, or None."""
        try:
            text = (self.root / NEW_STORE).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return dt.datetime.fromisoformat(text)

    def stored_before(self, sha256: str, when: dt.datetime) -> bool:
        """Whether the blob was written before when (a blob written again keeps its first time)."""
        try:
            mtime = self.path(sha256).stat().st_mtime
        except FileNotFoundError:
            return False
        return mtime < when.timestamp()

    # -- reading -----------------------------------------------------------------------------------

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def read_head(self, sha256: str, size: int) -> bytes:
        """At most the first size bytes of a blob (a message's header, without reading its body)."""
        with self.open(sha256) as fh:
            return fh.read(size)

    def read_bytes(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    # -- work folders ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def workdir(self) -> Iterator[Path]:
        """This thread's work folder under tmp/ (made once, emptied after each use): creating and
        removing a folder per message costs more than judging a small one."""
        folder = self.tmp / f"work-{_owner()}-{threading.get_ident()}"
        private_folder(folder)
        try:
            yield folder
        finally:
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)


def holds_files(root: Path) -> bool:
    """Whether a blob folder holds any stored file (its `ab/` folders of content names are not empty)."""
    if not root.is_dir():
        return False
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir() and _FANOUT.match(entry.name):
                with os.scandir(entry) as inside:
                    if any(True for _ in inside):
                        return True
    return False


def _gone(owner: str) -> bool:
    """Whether the process that wrote `host.pid` has stopped (only this machine's are known)."""
    host, _, pid = owner.rpartition(".")
    if host != _HOST or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True  # an earlier process that had our number
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _flush(folder: Path, files: list[Path]) -> None:
    """Everything written so far durable: syncfs on Linux, else each file and the folder fsync'd."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS is not None:
            if _SYNCFS(fd) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, os.strerror(errno), str(folder))
            return
        for path in files:
            _fsync_file(path)
        os.fsync(fd)
    finally:
        os.close(fd)


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
        fd, tmp = tempfile.mkstemp(dir=store.tmp, prefix="blob-")
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

    def finish(self, *, sync: bool = True) -> str:
        """Close and name the blob by its content (a no-op when that content is stored already);
        with sync it is durable on return, else at the store's next sync()."""
        out = self._out
        if out is None:
            raise ValueError("the blob is finished")
        try:
            out.close()
            self._out = None
            sha = self._digest.hexdigest()
            self.store._wait(self.tmp, sha)
            if sync:
                self.store.sync()
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
        self.discard()  # after finish() the temp file has moved on already


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
