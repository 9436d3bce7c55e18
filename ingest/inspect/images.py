"""Decode a picture cheaply and safely (Pillow): size, EXIF date and camera, damage, pixel bombs.

The size is the decoder's (Pillow reads the header; libmagic's text is never used): a pixel bomb
is a picture far above any camera (108 MP phones, 150 MP backs), refused before decoding. Photos
are checked at reduced scale: JPEG through its draft mode (1/8 scale reads every byte); other
formats are decoded whole up to FULL_DECODE_PIXELS and checked chunk by chunk above it, so the
memory needed stays bounded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import ExifTags, Image

from ingest.inspect.facts import ImageFacts, InspectLimits
from ingest.inspect.media import image_size

# Formats that Pillow cannot decode here: measured by MediaInfo instead, never called damaged.
UNDECODABLE = frozenset({"image/heic", "image/heif"})
DAMAGED = "图片已损坏，无法完整解码"
FULL_DECODE_PIXELS = 50_000_000  # a whole decode above this would need hundreds of MB
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})  # EXIF orientations that turn the picture by 90°


@dataclass(frozen=True, kw_only=True)
class ImageResult:
    facts: ImageFacts | None
    problems: tuple[str, ...]


# Pillow's own guard sits where ours does (it warns above this and refuses at twice this).
Image.MAX_IMAGE_PIXELS = InspectLimits().max_image_pixels


def inspect_image(path: Path, *, mime: str, limits: InspectLimits) -> ImageResult:
    """Open, check the pixel count before decoding, decode at reduced scale, read EXIF."""
    if mime in UNDECODABLE:
        return ImageResult(facts=_measure_undecodable(path, mime), problems=())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # damaged metadata, and Pillow's bomb warning: ours follows
        try:
            image = Image.open(path)
        except Image.DecompressionBombError:  # beyond twice Pillow's guard: the header still says how big
            return ImageResult(facts=None, problems=(_bomb_problem(image_size(path), limits),))
        except Exception:  # Pillow raises many types on hostile input
            return ImageResult(facts=None, problems=(DAMAGED,))
        with image:
            width, height = image.size
            if width * height > limits.max_image_pixels:
                return ImageResult(facts=None, problems=(_bomb_problem((width, height), limits),))
            decoded = _decode_small(image)
            whole = image.format == "JPEG" or width * height <= FULL_DECODE_PIXELS  # else no pixels to read EXIF
            taken_at, camera, orientation = _exif(image) if whole else (None, None, 1)
            fmt = image.format or "unknown"
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    facts = ImageFacts(width=width, height=height, format=fmt, taken_at=taken_at, camera=camera)
    return ImageResult(facts=facts, problems=() if decoded else (DAMAGED,))


def _measure_undecodable(path: Path, mime: str) -> ImageFacts | None:
    """HEIC/HEIF: no decoder here, so MediaInfo reads the size from the container (no damage check)."""
    size = image_size(path)
    if size is None:
        return None
    return ImageFacts(width=size[0], height=size[1], format=mime.partition("/")[2].upper(), taken_at=None, camera=None)


def _decode_small(image: Image.Image) -> bool:
    """Read every byte of the picture at bounded cost: JPEG at 1/8 scale, large others by their chunks."""
    width, height = image.size
    try:
        if image.format == "JPEG":
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", (max(1, width // 8), max(1, height // 8)))
        elif width * height > FULL_DECODE_PIXELS:
            image.verify()  # PNG: every chunk and its checksum, without the pixels in memory
            return True
        image.load()
    except Exception:  # truncated or corrupt data; LOAD_TRUNCATED_IMAGES stays False
        return False
    return True


def camera_facts(image: Image.Image) -> tuple[datetime | None, str | None]:
    """EXIF DateTimeOriginal and the camera of an opened picture (None for what it does not say)."""
    taken_at, camera, _ = _exif(image)
    return taken_at, camera


def _exif(image: Image.Image) -> tuple[datetime | None, str | None, int]:
    try:
        exif = image.getexif()
        details = exif.get_ifd(ExifTags.IFD.Exif)
        raw_date = details.get(ExifTags.Base.DateTimeOriginal)  # not DateTime: editors rewrite that
        make = exif.get(ExifTags.Base.Make)
        model = exif.get(ExifTags.Base.Model)
        orientation = exif.get(ExifTags.Base.Orientation)
    except Exception:  # damaged EXIF does not make the picture unusable
        return None, None, 1
    return _exif_date(raw_date), _camera(make, model), orientation if isinstance(orientation, int) else 1


def _exif_date(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\0 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None


def _camera(make: object, model: object) -> str | None:
    brand = make.strip("\0 ") if isinstance(make, str) else ""
    name = model.strip("\0 ") if isinstance(model, str) else ""
    if brand and name.lower().startswith(brand.lower()):
        return name
    return " ".join(part for part in (brand, name) if part) or None


def _bomb_problem(size: tuple[int, int] | None, limits: InspectLimits) -> str:
    limit = f"{_count(limits.max_image_pixels)}像素"
    if size is None:
        return f"图片像素过多（超过 {limit}），可能是恶意构造的文件，未解码"
    width, height = size
    return (
        f"图片像素过多（{width}×{height}，共 {_count(width * height)}像素，上限 {limit}），可能是恶意构造的文件，未解码"
    )


def _count(pixels: int) -> str:
    if pixels >= 100_000_000:
        return f"{pixels / 100_000_000:.1f}".removesuffix(".0") + " 亿"
    return f"{pixels / 10_000:.0f} 万"
