"""The values an inspection returns: what the bytes of one received file are, measured."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store.enums import AttachmentKind


@dataclass(frozen=True, kw_only=True)
class InspectLimits:
    """How much an inspection may decode or unpack before it calls the file a bomb."""

    max_image_pixels: int = 250_000_000  # above: pixel bomb → problem (phones reach 108 MP, cameras 150)
    archive_max_total: int = 500 * 1024 * 1024  # uncompressed bytes over all members, nested ones included
    archive_max_ratio: float = 100.0  # per member uncompressed/compressed
    archive_ratio_min_size: int = 1024 * 1024  # members smaller than this are never judged by ratio
    archive_max_entries: int = 1000  # per archive
    archive_max_depth: int = 1  # an archive inside an archive is opened, one level deeper is not
    document_max_pictures: int = 100  # pictures taken out of one document (Word, PDF, Excel, PowerPoint)
    document_max_pages: int = 500  # PDF pages looked at for pictures and text


@dataclass(frozen=True, kw_only=True)
class DocumentFacts:
    """What a report document holds: its text (None when it could not be read) and its pictures."""

    text: str | None  # the first MAX_TEXT_CHARS characters, paragraphs on lines of their own
    pictures: int  # pictures taken out of it (each inspected like an attached picture)
    more_pictures: bool = False  # it holds more pictures than document_max_pictures: the rest were not taken
    unread: bool = False  # a PDF or old Word file our readers could not follow: judged by its type as before


@dataclass(frozen=True, kw_only=True)
class ImageFacts:
    """A decoded picture: its size as stored and what the camera wrote into EXIF."""

    width: int
    height: int
    format: str  # Pillow's format name: "JPEG", "PNG", ...
    taken_at: datetime | None  # EXIF DateTimeOriginal, camera wall-clock time (naive)
    camera: str | None  # EXIF Make and Model


@dataclass(frozen=True, kw_only=True)
class MediaFacts:
    """A video or sound file as MediaInfo reads it."""

    duration_seconds: float | None
    width: int | None
    height: int | None
    display_aspect: float | None  # width*pixel_aspect/height, after the 90/270 rotation swap
    rotation: int  # degrees as the container states them: 0, 90, 180 or 270
    truncated: bool
    has_video: bool
    has_audio: bool
    has_subtitles: bool
    container: str | None  # MediaInfo's format name: "MPEG-4", "MPEG Audio", ...
    max_volume_db: float | None = None  # the loudest moment of the sound (ffmpeg volumedetect), if measured


@dataclass(frozen=True, kw_only=True)
class Member:
    """One file found inside an archive, or one picture taken out of a document."""

    name: str  # decoded display name as stored in the archive (never used as a path)
    size: int  # bytes extracted (the declared size when not extracted)
    sha256: str  # of the extracted bytes; "" when not extracted
    facts: FileFacts
    path: Path | None  # extracted temp file under the workdir, for the caller to store


@dataclass(frozen=True, kw_only=True)
class FileFacts:
    """What one file is, judged by its bytes, and everything wrong with it in plain Chinese."""

    mime: str  # detected from content (libmagic), e.g. "image/jpeg"
    kind: AttachmentKind
    label: str  # Chinese description of what the bytes are: "JPEG 图片", "可执行程序", ...
    problems: tuple[str, ...]
    name_mismatch: bool  # the extension says one kind, the bytes another
    is_description: bool  # a document usable as a description (docx, doc, pdf, txt, wps, odt, rtf)
    executable: bool = False  # a program or script by its bytes (ELF, PE, Mach-O, #!), whatever its name
    image: ImageFacts | None = None
    media: MediaFacts | None = None
    document: DocumentFacts | None = None  # a report document that was read: its text and pictures
    members: tuple[Member, ...] = ()  # files in an archive, pictures in a document


def facts_json(value: Any) -> Any:
    """Facts as JSON for the store: dataclasses as objects, dates as ISO text; members and paths left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: facts_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in ("members", "path")
        }
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [facts_json(v) for v in value]
    if isinstance(value, Path):
        return None
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    return value
