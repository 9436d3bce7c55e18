"""Unpack Outlook's winmail.dat (TNEF, application/ms-tnef) with tnefparse, as an archive of its files."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from tnefparse import TNEF

from ingest.inspect.archives import Entry, Listing, Sink, copy_member

DAMAGED = "Outlook 封装文件（winmail.dat）已损坏，其中的文件无法取出"
SIGNATURE = b"\x78\x9f\x3e\x22"  # TNEF's magic number, little-endian 0x223E9F78
MAX_BYTES = 200 * 1024 * 1024  # a winmail.dat is read whole (tnefparse works in memory)


def is_tnef(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == SIGNATURE


class TnefBackend:
    """The files an Outlook message packed into winmail.dat; the archive limits apply to them."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._files: list[tuple[str, bytes]] = []

    def listing(self) -> Listing:
        if self._path.stat().st_size > MAX_BYTES:
            return Listing(entries=(), refusals=(DAMAGED,))
        try:
            parsed = TNEF(self._path.read_bytes(), do_checksum=False)
            self._files = [(_name(a, i), bytes(a.data or b"")) for i, a in enumerate(parsed.attachments)]
        except Exception:  # tnefparse raises many types on damaged input
            return Listing(entries=(), refusals=(DAMAGED,))
        entries = tuple(
            Entry(name=name, size=len(data), packed=None, key=index) for index, (name, data) in enumerate(self._files)
        )
        return Listing(entries=entries)

    def extract(self, entries: Sequence[Entry], sink: Sink) -> None:
        for entry in entries:
            assert isinstance(entry.key, int)
            data = self._files[entry.key][1]
            copy_member(entry, sink, lambda data=data: io.BytesIO(data))  # type: ignore[misc]

    def close(self) -> None:
        self._files = []


def _name(attachment: object, index: int) -> str:
    """The long file name Outlook recorded (its 8.3 name otherwise); never used as a path."""
    for getter in ("long_filename", "name"):
        try:
            value = getattr(attachment, getter)
            name = value() if callable(value) else value
        except Exception:  # a damaged name property
            continue
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        if isinstance(name, str) and name.strip("\0 "):
            return name.strip("\0 ")
    raw = getattr(attachment, "_name", b"")  # the 8.3 title in the sender's code page (GBK on Chinese Windows)
    if isinstance(raw, bytes) and raw.strip(b"\0 "):
        try:
            return raw.strip(b"\0 ").decode("utf-8")
        except UnicodeDecodeError:
            return raw.strip(b"\0 ").decode("gb18030", "replace")
    return f"文件{index + 1}"
