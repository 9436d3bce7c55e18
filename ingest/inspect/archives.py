"""Open an archive safely: check its limits from the listing, extract under byte caps, inspect members."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from ingest.inspect.facts import FileFacts, InspectLimits, Member
from store.enums import AttachmentKind

PASSWORD = "压缩包有密码，无法打开"
DAMAGED = "压缩包已损坏，无法打开"
CHUNK = 1024 * 1024

InspectMember = Callable[[Path, str], FileFacts]  # extracted file, display name → its facts


class LimitExceeded(Exception):
    """Unpacking went past a limit: the text says which, in the sender's words."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One item of an archive's listing, as declared by the archive (sizes are claims, not facts)."""

    name: str
    size: int
    packed: int | None  # None where the format does not say per member (solid 7z)
    key: object  # the backend's own handle for the member
    is_dir: bool = False
    is_symlink: bool = False
    encrypted: bool = False


@dataclass(frozen=True, kw_only=True)
class Listing:
    entries: tuple[Entry, ...]
    encrypted: bool = False  # anything needs a password (members or the listing itself)
    refusals: tuple[str, ...] = ()  # reasons not to extract at all (damaged listing, overlapping entries)


class Sink(Protocol):
    """Where a backend puts member bytes: open a member file, then close it or report it broken."""

    def open(self, entry: Entry) -> MemberFile: ...
    def close(self, member: MemberFile) -> None: ...
    def broken(self, entry: Entry) -> None: ...


class Backend(Protocol):
    """One archive format: list what is inside, and stream chosen members into a sink."""

    def listing(self) -> Listing: ...
    def extract(self, entries: Sequence[Entry], sink: Sink) -> None: ...
    def close(self) -> None: ...


class Budget:
    """What a whole inspection may still unpack, shared by nested archives; hands out member files."""

    def __init__(self, *, limits: InspectLimits, workdir: Path) -> None:
        self.limits = limits
        self.workdir = workdir
        self.bytes_left = limits.archive_max_total
        self._next = 1
        self._lock = threading.Lock()

    def new_file(self) -> tuple[Path, BinaryIO]:
        """A fresh file under the workdir, named member-0001, member-0002, …, never after the member."""
        with self._lock:
            while True:
                path = self.workdir / f"member-{self._next:04d}"
                self._next += 1
                try:
                    return path, path.open("xb")
                except FileExistsError:
                    continue

    def take(self, amount: int) -> None:
        with self._lock:
            if amount > self.bytes_left:
                self.bytes_left = 0
                limit = _size(self.limits.archive_max_total)
                raise LimitExceeded(f"压缩包解压后过大（超过 {limit} 的上限），已停止解压")
            self.bytes_left -= amount


class MemberFile:
    """One member being written: counts, hashes and caps the bytes whatever the archive declared."""

    def __init__(self, *, entry: Entry, budget: Budget, ratio_cap: int | None) -> None:
        self.entry = entry
        self.path, self._out = budget.new_file()
        self._budget = budget
        self._ratio_cap = ratio_cap
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        if self._ratio_cap is not None and self.size + len(chunk) > self._ratio_cap:
            raise LimitExceeded(_ratio_problem(self.entry.name, self._budget.limits))
        self._budget.take(len(chunk))
        self._out.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def finish(self) -> str:
        self._out.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._out.close()
        self.path.unlink(missing_ok=True)


class Extraction:
    """The sink a backend streams into: it keeps finished members and forgets broken ones."""

    def __init__(self, *, budget: Budget, archive_size: int) -> None:
        self._budget = budget
        limits = budget.limits
        self._solid_cap = max(limits.archive_ratio_min_size, int(archive_size * limits.archive_max_ratio))
        self.done: dict[int, tuple[Path, int, str]] = {}
        self.broken_names: list[str] = []

    def open(self, entry: Entry) -> MemberFile:
        limits = self._budget.limits
        packed = entry.packed
        cap = (
            self._solid_cap
            if packed is None
            else max(limits.archive_ratio_min_size, int(packed * limits.archive_max_ratio))
        )
        return MemberFile(entry=entry, budget=self._budget, ratio_cap=cap)

    def close(self, member: MemberFile) -> None:
        self.done[id(member.entry)] = (member.path, member.size, member.finish())

    def broken(self, entry: Entry) -> None:
        self.broken_names.append(entry.name)


@dataclass(frozen=True, kw_only=True)
class ArchiveResult:
    members: tuple[Member, ...]
    problems: tuple[str, ...]


def inspect_archive(
    backend: Backend, *, archive_size: int, budget: Budget, inspect_member: InspectMember
) -> ArchiveResult:
    """Refuse from the listing what is plainly too big or unsafe, then extract and inspect the rest."""
    sink = Extraction(budget=budget, archive_size=archive_size)
    try:
        listing = backend.listing()
        if listing.encrypted:
            return ArchiveResult(members=(), problems=(PASSWORD,))
        refusal = listing_refusal(listing, archive_size=archive_size, budget=budget)
        if refusal is not None:
            return ArchiveResult(members=(), problems=(refusal,))
        problems = [f"压缩包内的“{e.name}”是符号链接，已跳过" for e in listing.entries if e.is_symlink]
        try:
            backend.extract([e for e in listing.entries if not e.is_dir and not e.is_symlink], sink)
        except LimitExceeded as stop:
            problems.append(stop.problem)
    finally:
        backend.close()
    if sink.broken_names:
        problems.append(f"压缩包已损坏，其中的“{'”“'.join(sink.broken_names)}”无法解压")
    members: list[Member] = []
    for entry in listing.entries:
        if entry.is_symlink:
            members.append(Member(name=entry.name, size=entry.size, sha256="", facts=_SYMLINK, path=None))
        elif id(entry) in sink.done:
            path, size, digest = sink.done[id(entry)]
            facts = inspect_member(path, entry.name)
            members.append(Member(name=entry.name, size=size, sha256=digest, facts=facts, path=path))
    return ArchiveResult(members=tuple(members), problems=tuple(problems))


def copy_member(entry: Entry, sink: Sink, open_source: Callable[[], IO[bytes]]) -> None:
    """Stream one member from a pull-style library (zipfile, rarfile) into the sink, chunk by chunk."""
    try:
        source = open_source()
    except Exception:  # the library could not start reading this member: damaged or unsupported
        sink.broken(entry)
        return
    try:
        member = sink.open(entry)
    except BaseException:
        _close_quietly(source)
        raise
    try:
        while True:
            try:
                chunk = source.read(CHUNK)
            except Exception:  # CRC error, bad compressed data, tool failure
                member.discard()
                sink.broken(entry)
                return
            if not chunk:
                break
            member.write(chunk)
    except LimitExceeded:
        member.discard()
        raise
    finally:
        _close_quietly(source)
    sink.close(member)


def _close_quietly(source: IO[bytes]) -> None:
    try:
        source.close()
    except Exception:  # closing a reader of damaged data may complain again; it has been judged
        return


def listing_refusal(listing: Listing, *, archive_size: int, budget: Budget) -> str | None:
    """Why an archive's listing is not to be extracted (too many members, too big, a bomb), or None."""
    limits = budget.limits
    if listing.refusals:
        return listing.refusals[0]
    if len(listing.entries) > limits.archive_max_entries:
        return f"压缩包内文件过多（{len(listing.entries)} 个，上限 {limits.archive_max_entries} 个），未解压"
    files = [e for e in listing.entries if not e.is_dir and not e.is_symlink]
    total = sum(e.size for e in files)
    if total > budget.bytes_left:
        limit = _size(limits.archive_max_total)
        if budget.bytes_left < limits.archive_max_total:  # a nested archive, after what was unpacked before it
            return f"压缩包解压后过大（{_size(total)}，连同已解压的文件超过 {limit} 的上限），未解压"
        return f"压缩包解压后过大（{_size(total)}，上限 {limit}），未解压"
    for entry in files:
        if (
            entry.packed is not None
            and entry.size > limits.archive_ratio_min_size
            and (entry.packed == 0 or entry.size / entry.packed > limits.archive_max_ratio)
        ):
            return _ratio_problem(entry.name, limits, entry.size / max(entry.packed, 1))
    solid = sum(e.size for e in files if e.packed is None)
    if solid > limits.archive_ratio_min_size and solid > archive_size * limits.archive_max_ratio:
        return _ratio_problem("", limits, solid / max(archive_size, 1))
    return None


def _ratio_problem(name: str, limits: InspectLimits, ratio: float | None = None) -> str:
    what = f"压缩包内“{name}”的压缩比" if name else "压缩包的压缩比"
    found = f"{ratio:.0f} 倍，" if ratio is not None else ""
    return f"{what}异常（{found}上限 {limits.archive_max_ratio:.0f} 倍），疑似压缩炸弹，未解压"


def _size(size: int) -> str:
    """A byte count as a sender reads it: 820 KB, 35 MB, 1.2 GB."""
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    if size >= 1024**2:
        return f"{size / 1024**2:.0f} MB"
    return f"{max(size, 1) / 1024:.0f} KB"


_SYMLINK = FileFacts(
    mime="inode/symlink",
    kind=AttachmentKind.OTHER,
    label="符号链接",
    problems=(),
    name_mismatch=False,
    is_description=False,
)
