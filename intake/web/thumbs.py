"""Small JPEG previews of photos (Pillow, decoded at reduced scale) and videos (a frame by ffmpeg),
kept in memory by the file's sha256 (a few hundred, about 30 KB each)."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image

from store.enums import AttachmentKind

SIDE = 480
MAX_PIXELS = 250_000_000  # as the intake's own limit: larger pictures get no preview
KEEP = 400
FFMPEG_SECONDS = 20


class Thumbnails:
    def __init__(self, *, keep: int = KEEP) -> None:
        self.keep = keep
        self._cache: OrderedDict[str, bytes | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *, sha256: str, path: Path, kind: AttachmentKind) -> bytes | None:
        with self._lock:
            if sha256 in self._cache:
                self._cache.move_to_end(sha256)
                return self._cache[sha256]
        made = _photo(path) if kind is AttachmentKind.PHOTO else _frame(path)
        with self._lock:
            self._cache[sha256] = made
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return made


def _photo(path: Path) -> bytes | None:
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                return None
            im.draft("RGB", (SIDE, SIDE))  # JPEG: decoded at 1/2, 1/4 or 1/8 scale
            im.thumbnail((SIDE, SIDE))
            out = io.BytesIO()
            im.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _frame(path: Path) -> bytes | None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    for start in ("1", "0"):
        args = [ffmpeg, "-nostdin", "-v", "error", "-ss", start, "-i", str(path), "-frames:v", "1"]
        try:
            done = subprocess.run(
                [*args, "-vf", f"scale={SIDE}:-2", "-f", "image2", "-c:v", "mjpeg", "pipe:1"],
                capture_output=True,
                timeout=FFMPEG_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode == 0 and done.stdout:
            return done.stdout
    return None
