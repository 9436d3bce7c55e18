"""A second opinion on what a file is: when libmagic does not call it media, the stream probe may.

libmagic names an MP4 by its brand (the four letters after `ftyp`), and knows only the common ones:
a camera maker's brand (Sony's `XAVC`, Canon's `CAEP`…) leaves it "data". MediaInfo reads the
streams themselves. When the two disagree, the probe's reading of real streams decides: a video or
sound track with a duration makes the file a video or a sound recording, named by its container.
Programs, archives, documents and pictures that libmagic knows are never asked about again.
"""

from __future__ import annotations

from ingest.inspect.detect import EXECUTABLE_LABELS, FileType, Route, by_mime
from ingest.inspect.facts import MediaFacts
from store.enums import AttachmentKind

_MEDIA_KINDS = (AttachmentKind.VIDEO, AttachmentKind.AUDIO)
# MediaInfo's container names (General/Format) and the type each is
_CONTAINERS = {
    "MPEG-4": "video/mp4",
    "QuickTime": "video/quicktime",
    "Matroska": "video/x-matroska",
    "WebM": "video/webm",
    "AVI": "video/x-msvideo",
    "Windows Media": "video/x-ms-asf",
    "Flash Video": "video/x-flv",
    "MPEG-TS": "video/mp2t",
    "MPEG-PS": "video/mpeg",
    "MPEG Audio": "audio/mpeg",
    "Wave": "audio/x-wav",
    "FLAC": "audio/flac",
    "Ogg": "audio/ogg",
    "ADTS": "audio/aac",
    "AMR": "audio/amr",
    "AIFF": "audio/x-aiff",
    "Monkey's Audio": "audio/x-ape",
}


def worth_asking(found: FileType, expected: AttachmentKind | None) -> bool:
    """Whether the probe is asked: libmagic found no known type, or the name promises sound or
    video and libmagic found something that is neither (never for a program)."""
    if found.route is Route.MEDIA or found.label in EXECUTABLE_LABELS:
        return False
    if found.kind is AttachmentKind.OTHER:
        return True
    return expected in _MEDIA_KINDS and found.kind not in (*_MEDIA_KINDS, AttachmentKind.ARCHIVE)


def media_type(media: MediaFacts, head: bytes) -> FileType | None:
    """The file's type when the probe read real streams with a duration, else None (libmagic stands).

    An ISO media file (`ftyp` at byte 4) is named by its major brand, whatever maker wrote it;
    any other container by MediaInfo's name for it."""
    if not (media.has_video or media.has_audio) or not media.duration_seconds:
        return None
    mime = _iso_media(head) or _CONTAINERS.get(media.container or "")
    known = by_mime(mime) if mime is not None else None
    if known is not None:
        return known
    kind = AttachmentKind.VIDEO if media.has_video else AttachmentKind.AUDIO
    family = "video" if media.has_video else "audio"
    noun = "视频" if media.has_video else "音频"
    return FileType(mime=f"{family}/x-unknown", kind=kind, label=noun, route=Route.MEDIA)


def _iso_media(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand == b"qt  ":
        return "video/quicktime"
    if brand.startswith(b"3g2"):
        return "video/3gpp2"
    if brand.startswith(b"3g"):
        return "video/3gpp"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    if brand == b"M4V ":
        return "video/x-m4v"
    return "video/mp4"
