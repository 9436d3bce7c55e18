"""Read zip archives (zipfile): member names in the encoding their tool used, symlinks, overlapping data."""

from __future__ import annotations

import functools
import itertools
import stat
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from ingest.inspect.archives import DAMAGED, Entry, Listing, Sink, copy_member

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP: the UTF-8 name, with the CRC of the legacy name it replaces
_LOCAL_HEADER = struct.Struct("<4s22xHH")
OVERLAP = "压缩包结构异常（其中的文件数据相互重叠），疑似压缩炸弹，未解压"


def member_name(info: zipfile.ZipInfo) -> str:
    """Flag 0x800 set: UTF-8. Otherwise Info-ZIP's Unicode path, then UTF-8 (old macOS), then GB18030."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.orig_filename.encode("cp437")  # zipfile decoded the raw bytes as cp437: undo it exactly
    raw = raw.split(b"\0", 1)[0]
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    pos = 0
    while pos + 4 <= len(extra):
        field, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if field == _UNICODE_PATH_EXTRA and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(raw):
                return body[5:].decode("utf-8", errors="replace")
        pos += 4 + size
    return None


class ZipBackend:
    """A zip archive opened lazily; every failure of the library becomes a listing refusal."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._zip: zipfile.ZipFile | None = None

    def listing(self) -> Listing:
        try:
            self._zip = zipfile.ZipFile(self._path)
            infos = self._zip.infolist()
            start_dir = self._zip.start_dir
        except Exception:  # no end record, bad central directory, …
            return Listing(entries=(), refusals=(DAMAGED,))
        entries = tuple(
            Entry(
                name=member_name(info),
                size=info.file_size,
                packed=info.compress_size,
                key=info,
                is_dir=info.is_dir(),
                is_symlink=stat.S_ISLNK(info.external_attr >> 16),
                encrypted=bool(info.flag_bits & _ENCRYPTED_FLAG),
            )
            for info in infos
        )
        refusals: tuple[str, ...] = ()
        if not any(e.encrypted for e in entries):
            refusals = _layout_refusals(self._path, infos, start_dir)
        return Listing(entries=entries, encrypted=any(e.encrypted for e in entries), refusals=refusals)

    def extract(self, entries: Sequence[Entry], sink: Sink) -> None:
        archive = self._zip
        assert archive is not None, "listing() comes first"
        for entry in entries:
            info = entry.key
            assert isinstance(info, zipfile.ZipInfo)
            copy_member(entry, sink, functools.partial(archive.open, info))

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _layout_refusals(path: Path, infos: list[zipfile.ZipInfo], start_dir: int) -> tuple[str, ...]:
    """Each member's local header and data must sit apart, before the central directory."""
    spans: list[tuple[int, int]] = []
    with path.open("rb") as handle:
        for info in sorted(infos, key=lambda i: i.header_offset):
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size:
                return (DAMAGED,)
            signature, name_len, extra_len = _LOCAL_HEADER.unpack(header)
            if signature != b"PK\x03\x04":
                return (DAMAGED,)
            end = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len + info.compress_size
            spans.append((info.header_offset, end))
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        if second_start < first_end:
            return (OVERLAP,)
    if spans and spans[-1][1] > start_dir:
        return (OVERLAP,)
    return ()
