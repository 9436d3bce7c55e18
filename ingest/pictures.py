"""Which pictures are no photos: images of the HTML signature or layout, tracking pixels, icons.

Such a picture is kept and listed, never counted and never a problem: the note says why.
"""

from __future__ import annotations

import html as htmllib
import re

from ingest.inspect.facts import ImageFacts

_IMG = re.compile(r"<img\b[^>]*>", re.I | re.S)
_ATTR = re.compile(r"([\w:-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.S)
# words in an <img> tag (its src, alt, class, id, name or its container's) that mark a layout picture
_LAYOUT_WORDS = re.compile(r"logo|signature|sign_|qmsign|签名|banner|icon|spacer|footer|header|divider", re.I)
TRACKING = "1×1 像素的图片（邮件排版或跟踪用），不计入"
LAYOUT = "邮件签名或排版中的图片（如单位标志），不计为照片"


def _cid(src: str) -> str | None:
    src = htmllib.unescape(src).strip()
    if not src.lower().startswith("cid:"):
        return None
    return "<" + src[4:].strip().strip("<>") + ">"


def layout_cids(html: str) -> frozenset[str]:
    """Content-IDs (as `<id>`) of inline pictures that the HTML shows as a logo, a signature or an
    icon, or at a size of at most 1 px (width/height attributes)."""
    found: set[str] = set()
    for tag in _IMG.findall(html):
        attrs = {k.lower(): v.strip("\"'") for k, v in _ATTR.findall(tag)}
        cid = _cid(attrs.get("src", ""))
        if cid is None:
            continue
        words = " ".join(attrs.get(k, "") for k in ("src", "alt", "class", "id", "name", "title"))
        tiny = any(attrs.get(k, "").strip().rstrip("px") in ("0", "1") for k in ("width", "height"))
        if _LAYOUT_WORDS.search(words) or tiny:
            found.add(cid)
    return frozenset(found)


def picture_note(
    image: ImageFacts | None, *, content_id: str | None, layout: frozenset[str], min_long_side: int | None
) -> str | None:
    """Why a decoded picture does not count as a photo, or None when it may."""
    if image is None:
        return None
    if min(image.width, image.height) <= 1:
        return TRACKING
    if content_id is not None and content_id in layout:
        return LAYOUT
    if min_long_side and max(image.width, image.height) < min_long_side:
        return f"图片尺寸 {image.width}×{image.height}，长边不足 {min_long_side} 像素，不计为照片"
    return None
