"""Read a report document safely: its text and the pictures placed in it (Word, WPS, PDF, Excel, PowerPoint).

Each format has its reader (ooxml, pdfs, words); this module holds what they share: the result,
the words the sender is told, the picture signatures, the text and picture collectors.
Every reader works under the inspection's Budget (the archive limits): bytes taken out count
against it, pictures beyond `document_max_pictures` are not taken, and nothing a hostile file
does raises: it comes back as a problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.inspect.archives import Budget, LimitExceeded

PASSWORD = "文档有密码，无法读取"
DAMAGED = "文档已损坏，无法读取其中的文字和图片"
BOMB = "文档内部数据异常（解压后过大或压缩比过高），疑似压缩炸弹，未读取其中的文字和图片"
MAX_TEXT_CHARS = 5000  # enough for a description and its activity count; the rest is not kept
ENCRYPTED_OFFICE = "application/encrypted"  # libmagic: an Office file sealed with a password (CDFV2 Encrypted)

# the first bytes of the picture formats a camera or a phone makes (vector drawings, icons and
# embedded media in documents are not photos and are not taken out)
_RASTER = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def is_raster(head: bytes) -> bool:
    """Whether bytes start like a photo's file (JPEG, PNG, GIF, BMP, TIFF, WebP)."""
    return head.startswith(_RASTER) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


@dataclass(frozen=True, kw_only=True)
class Picture:
    """One picture taken out of a document, written to a file of the inspection's workdir."""

    path: Path
    size: int
    sha256: str


@dataclass(kw_only=True)
class DocumentRead:
    """What a reader found: text (None when it could not be read), pictures, and what went wrong."""

    text: str | None = None
    pictures: list[Picture] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    more_pictures: bool = False
    unread: bool = False  # our reader could not follow the file: judged by its type, the hosts told


class Pictures:
    """Collects the pictures of one document: raster only, each once, up to the cap, bytes budgeted."""

    def __init__(self, budget: Budget, read: DocumentRead) -> None:
        self._budget = budget
        self._read = read
        self._seen: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self._read.pictures) >= self._budget.limits.document_max_pictures

    def more(self) -> None:
        """The document holds another picture past the cap: not taken, but said (unless none are taken)."""
        self._read.more_pictures = self._budget.limits.document_max_pictures > 0

    def add(self, data: bytes) -> None:
        """Keep a picture given as bytes (raises LimitExceeded past the byte budget)."""
        if not is_raster(data[:16]):
            return
        if self.full:
            self.more()
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._seen:  # the same picture placed twice (a PDF's image on every page)
            return
        self._budget.take(len(data))
        path, out = self._budget.new_file()
        with out:
            out.write(data)
        self._seen.add(digest)
        self._read.pictures.append(Picture(path=path, size=len(data), sha256=digest))

    def adopt(self, path: Path, size: int, digest: str) -> None:
        """Keep a picture already extracted to a file of the workdir (bytes budgeted by the extraction)."""
        with path.open("rb") as handle:
            head = handle.read(16)
        if is_raster(head) and self.full:
            self.more()
        if not is_raster(head) or digest in self._seen or self.full:
            path.unlink(missing_ok=True)
            return
        self._seen.add(digest)
        self._read.pictures.append(Picture(path=path, size=size, sha256=digest))


class TextCollector:
    """The text of a document as it is read, cut at MAX_TEXT_CHARS."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0

    @property
    def full(self) -> bool:
        return self._length >= MAX_TEXT_CHARS

    def add(self, text: str) -> None:
        if self.full or not text:
            return
        text = text[: MAX_TEXT_CHARS - self._length]
        self._parts.append(text)
        self._length += len(text)

    def text(self) -> str:
        return "".join(self._parts).strip()


Reader = Callable[[Path, Budget], DocumentRead]


def read_with(reader: Reader, path: Path, budget: Budget) -> DocumentRead:
    """Run one format's reader: past a byte limit, or too deep for the parser, the document is not read."""
    try:
        return reader(path, budget)
    except LimitExceeded:
        return DocumentRead(problems=[BOMB])
    except (RecursionError, MemoryError):
        return DocumentRead(problems=[DAMAGED])
