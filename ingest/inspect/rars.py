"""Read RAR archives (rarfile): stored members directly, compressed ones through the unar tool."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import rarfile

from ingest.inspect.archives import DAMAGED, Entry, Listing, Sink, copy_member


class MissingToolError(RuntimeError):
    """The server cannot unpack compressed RAR members: install `unar` (or `libarchive-tools`)."""


def member_name(info: rarfile.RarInfo) -> str:
    """RAR 5 and Unicode-flagged RAR 4 names are exact; old RAR 4 names are OEM bytes (GBK in China)."""
    if isinstance(info, rarfile.Rar3Info) and not info.flags & rarfile.RAR_FILE_UNICODE:
        raw = bytes(info.orig_filename)
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("gb18030", errors="replace")
        return name.replace("\\", "/").rstrip("/")
    return str(info.filename).rstrip("/")


_SEVEN_ZIP = ("SEVENZIP_TOOL", "SEVENZIP2_TOOL")


def _choose_tool() -> None:
    """Pick unar (or bsdtar, or a real unrar) for rarfile; never Debian's 7-Zip, which has no RAR codec.

    rarfile would otherwise settle on the first tool that merely starts, and every compressed
    member would then be reported as damaged.
    """
    current = rarfile.CURRENT_SETUP
    if current is not None and current.setup["open_cmd"][0] not in _SEVEN_ZIP:
        return
    try:
        rarfile.tool_setup(sevenzip=False, sevenzip2=False, force=True)
    except rarfile.RarCannotExec as missing:
        raise MissingToolError("no tool for compressed RAR members: install the Debian package unar") from missing


class RarBackend:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._rar: rarfile.RarFile | None = None

    def listing(self) -> Listing:
        try:
            self._rar = rarfile.RarFile(str(self._path), errors="strict")
            infos = self._rar.infolist()
            locked = bool(self._rar.needs_password())
        except rarfile.PasswordRequired:
            return Listing(entries=(), encrypted=True)
        except Exception:  # broken headers, unsupported version, …
            return Listing(entries=(), refusals=(DAMAGED,))
        entries = tuple(
            Entry(
                name=member_name(info),
                size=int(info.file_size),
                packed=int(info.compress_size),
                key=info,
                is_dir=bool(info.is_dir()),
                is_symlink=bool(info.is_symlink()),
                encrypted=bool(info.needs_password()),
            )
            for info in infos
        )
        return Listing(entries=entries, encrypted=locked or any(e.encrypted for e in entries))

    def extract(self, entries: Sequence[Entry], sink: Sink) -> None:
        archive = self._rar
        assert archive is not None, "listing() comes first"
        if any(e.key.compress_type != rarfile.RAR_M0 for e in entries):  # type: ignore[attr-defined]
            _choose_tool()
        for entry in entries:
            copy_member(entry, sink, functools.partial(archive.open, entry.key))

    def close(self) -> None:
        if self._rar is not None:
            self._rar.close()
