"""Camera RAW photos (DNG, CR2, NEF, ARW…) measured by their real image (LibRaw, through rawpy).

A RAW file is a TIFF (or a maker's container) whose first picture is a small preview: Pillow and
libmagic see that preview, 256 pixels wide, and never the photo. LibRaw reads the sensor image's
size from the maker's structures; the image itself is unpacked (every byte read, bounded like a
whole decode) to be sure it can be read. A RAW that LibRaw cannot read is refused with what it is
(`RAW 格式照片（DNG），无法读出其中的图像`), never measured by its preview.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image

from ingest.inspect.facts import ImageFacts, InspectLimits
from ingest.inspect.images import FULL_DECODE_PIXELS, ImageResult, camera_facts

_TIFF_MAGIC = (b"II*\0", b"MM\0*")
_DNG_VERSION = 50706  # the tag every DNG carries in its first directory
_MAKE = 271
# libmagic's names for RAW formats it knows by their signature
_BY_MIME = {
    "image/x-adobe-dng": "DNG",
    "image/x-canon-cr2": "CR2",
    "image/x-canon-cr3": "CR3",
    "image/x-canon-crw": "CRW",
    "image/x-nikon-nef": "NEF",
    "image/x-sony-arw": "ARW",
    "image/x-olympus-orf": "ORF",
    "image/x-panasonic-rw2": "RW2",
    "image/x-fuji-raf": "RAF",
    "image/x-pentax-pef": "PEF",
    "image/x-samsung-srw": "SRW",
}
MIMES = {name: mime for mime, name in _BY_MIME.items()}
# TIFF-based RAWs without a signature of their own: named by the camera's maker (Make)
_BY_MAKER = (("NIKON", "NEF"), ("SONY", "ARW"), ("PENTAX", "PEF"), ("SAMSUNG", "SRW"))
#: The types a RAW may be detected as: libmagic's RAW names, and the TIFF its structure is.
CANDIDATES = frozenset({*_BY_MIME, "image/tiff"})


@dataclass(frozen=True, kw_only=True)
class RawKind:
    """What a file is as a RAW photo: its format's name, and whether that is certain (DNG, CR2 and
    the formats libmagic names) or only likely (a TIFF whose Make is a camera maker's)."""

    name: str
    certain: bool

    @property
    def label(self) -> str:
        return f"RAW 格式照片（{self.name}）"


def raw_kind(path: Path, mime: str) -> RawKind | None:
    """The RAW format of a file detected as `mime`, or None when it is no RAW photo."""
    if mime in _BY_MIME:
        return RawKind(name=_BY_MIME[mime], certain=True)
    if mime != "image/tiff":
        return None
    with path.open("rb") as handle:
        head = handle.read(16)
    if head[:4] not in _TIFF_MAGIC:
        return None
    if head[8:10] == b"CR":  # Canon's CR2 marks itself after the TIFF header
        return RawKind(name="CR2", certain=True)
    tags = _first_directory(path)
    if _DNG_VERSION in tags:
        return RawKind(name="DNG", certain=True)
    make = str(tags.get(_MAKE, "")).strip("\0 ").upper()
    for maker, name in _BY_MAKER:
        if make.startswith(maker):
            return RawKind(name=name, certain=False)
    return None


def unreadable(kind: RawKind) -> str:
    """The refusal of a RAW that LibRaw cannot read: what it is, and what to send instead."""
    return f"{kind.label}，无法读出其中的图像，请另发 JPEG 格式的原图"


def inspect_raw(path: Path, *, kind: RawKind, limits: InspectLimits) -> ImageResult | None:
    """The photo's real size (as shown, after the camera's turn), EXIF date and camera.

    None when the file is only likely a RAW and LibRaw does not take it (a plain TIFF from a
    scanner that kept the camera's Make): the caller reads it as a TIFF."""
    import rawpy  # LibRaw and numpy: loaded when a RAW photo comes, not by every command

    try:
        with rawpy.RawPy() as raw:
            raw.open_file(str(path))
            sizes = raw.sizes
            width, height = sizes.width, sizes.height
            if width * height > limits.max_image_pixels:
                limit = f"{limits.max_image_pixels // 10_000} 万像素"
                return ImageResult(facts=None, problems=(f"图片像素过多（{width}×{height}，上限 {limit}），未解码",))
            if width * height <= FULL_DECODE_PIXELS:
                raw.unpack()  # every byte of the sensor data, as a whole decode reads it
            turned = sizes.flip in (5, 6)
    except (rawpy.LibRawError, OSError):
        return ImageResult(facts=None, problems=(unreadable(kind),)) if kind.certain else None
    if not width or not height:
        return ImageResult(facts=None, problems=(unreadable(kind),)) if kind.certain else None
    if turned:
        width, height = height, width
    taken_at, camera = _exif(path)
    facts = ImageFacts(width=width, height=height, format=kind.name, taken_at=taken_at, camera=camera)
    return ImageResult(facts=facts, problems=())


def _first_directory(path: Path) -> dict[int, object]:
    """The tags of a TIFF's first directory (Pillow reads the header, not the pixels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as image:
                return dict(image.getexif())
        except Exception:  # damaged: no RAW tags to be read
            return {}


def _exif(path: Path) -> tuple[datetime | None, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as image:
                return camera_facts(image)
        except Exception:  # the EXIF of a RAW that LibRaw reads is a bonus, never a reason to refuse it
            return None, None
