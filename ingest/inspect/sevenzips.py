"""Read 7z archives (py7zr): decompression pushes each member into a capped writer of ours."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import py7zr
from py7zr.helpers import get_sanitized_output_path
from py7zr.io import Py7zIO, WriterFactory

from ingest.inspect.archives import DAMAGED, Entry, LimitExceeded, Listing, MemberFile, Sink


class SevenZipBackend:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._archive: py7zr.SevenZipFile | None = None

    def listing(self) -> Listing:
        try:
            self._archive = py7zr.SevenZipFile(self._path, "r")
            infos = self._archive.list()
            locked = self._archive.needs_password()
        except py7zr.PasswordRequired:
            return Listing(entries=(), encrypted=True)
        except Exception:  # bad signature, broken header, unsupported method, …
            return Listing(entries=(), refusals=(DAMAGED,))
        entries = tuple(
            Entry(
                name=info.filename,
                size=info.uncompressed,
                packed=info.compressed,
                key=(info.filename, info.crc32),
                is_dir=info.is_directory,
                is_symlink=info.is_symlink,
            )
            for info in infos
        )
        return Listing(entries=entries, encrypted=locked)

    def extract(self, entries: Sequence[Entry], sink: Sink) -> None:
        archive = self._archive
        assert archive is not None, "listing() comes first"
        factory = _Factory(entries, sink)
        if not factory.targets:
            return
        try:
            archive.extract(targets=factory.targets, factory=factory)
        except LimitExceeded:
            raise
        except Exception:  # damaged data; members finished before it are kept
            if factory.bug is not None:
                raise factory.bug from None
            factory.abandon()
            factory.give_up_unreached()

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()


def _key(entry: Entry) -> tuple[str, int | None]:
    """A 7z entry's key: its name in the archive and the CRC-32 the archive declares for it."""
    return cast("tuple[str, int | None]", entry.key)


class _Factory(WriterFactory):
    """Maps py7zr's output names back to our entries, the way py7zr derives them (dedup suffixes)."""

    def __init__(self, entries: Sequence[Entry], sink: Sink) -> None:
        self._sink = sink
        self._by_output: dict[str, Entry] = {}
        self._open: list[_Writer] = []
        self._lock = threading.Lock()
        self.bug: BaseException | None = None
        self.targets: list[str] = []
        seen: dict[str, int] = {}
        for entry in entries:
            name, _ = _key(entry)
            if name in seen:
                output = f"{name}_{seen[name]}"
                seen[name] += 1
            else:
                output = name
                seen[name] = 0
            try:
                key = get_sanitized_output_path(output, None).as_posix()
            except Exception:  # a name py7zr refuses to extract ("../x"): left out and reported
                sink.broken(entry)
                continue
            self._by_output[key] = entry
            if name not in self.targets:
                self.targets.append(name)

    def create(self, filename: str) -> Py7zIO:
        entry = self._by_output.pop(filename, None)
        if entry is None:
            self.bug = RuntimeError(f"py7zr asked for an output name we did not derive: {filename!r}")
            raise self.bug
        writer = _Writer(self, entry, self._sink.open(entry))
        with self._lock:
            self._open.append(writer)
        return writer

    def give_up_unreached(self) -> None:
        """Members that extraction never reached because the archive broke before them."""
        for entry in self._by_output.values():
            self._sink.broken(entry)
        self._by_output.clear()

    def finished(self, writer: _Writer) -> None:
        """py7zr closes a member's writer even when its data failed: the CRC decides what we keep."""
        with self._lock:
            if writer not in self._open:
                return  # abandoned already
            self._open.remove(writer)
        _, expected = _key(writer.entry)
        if expected is not None and writer.crc != expected:
            writer.member.discard()
            self._sink.broken(writer.entry)
        else:
            self._sink.close(writer.member)

    def abandon(self) -> None:
        with self._lock:
            unfinished, self._open = self._open, []
        for writer in unfinished:
            writer.member.discard()
            self._sink.broken(writer.entry)


class _Writer(Py7zIO):
    def __init__(self, factory: _Factory, entry: Entry, member: MemberFile) -> None:
        self._factory = factory
        self.entry = entry
        self.member = member
        self.crc = 0
        self._closed = False

    def write(self, s: bytes | bytearray) -> int:
        try:
            self.member.write(bytes(s))
            self.crc = zlib.crc32(s, self.crc)
        except LimitExceeded:
            self._factory.abandon()
            raise
        except Exception as bug:  # ours, not the archive's: re-raised after py7zr unwinds
            self._factory.bug = bug
            raise
        return len(s)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._factory.finished(self)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.member.size
