"""Measure a video or sound file from its headers (MediaInfo): duration, picture shape, damage."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymediainfo import MediaInfo

from ingest.inspect.facts import MediaFacts

_SIZE_SLACK = 1.01  # streams may declare up to 1 % more than the file holds before we call it cut off


@dataclass(frozen=True, kw_only=True)
class _Tracks:
    general: dict[str, Any]
    video: list[dict[str, Any]]
    audio: list[dict[str, Any]]
    text: list[dict[str, Any]]
    image: list[dict[str, Any]]


def inspect_media(path: Path) -> MediaFacts:
    """Read the container headers only (parse_speed=0: about 1 MB of a large file)."""
    tracks = _parse(path)
    general = tracks.general
    video = tracks.video[0] if tracks.video else {}
    width, height = _int(video.get("width")), _int(video.get("height"))
    rotation = round(_float(video.get("rotation")) or 0.0) % 360
    return MediaFacts(
        duration_seconds=_seconds(general.get("duration")) or _seconds(video.get("duration")),
        width=width,
        height=height,
        display_aspect=_display_aspect(width, height, _float(video.get("pixel_aspect_ratio")), rotation),
        rotation=rotation,
        truncated=str(general.get("istruncated", "")).lower() == "yes" or _streams_exceed_file(path, tracks),
        has_video=bool(tracks.video),
        has_audio=bool(tracks.audio),
        has_subtitles=bool(tracks.text),
        container=str(general["format"]) if general.get("format") else None,
    )


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a still picture as MediaInfo reads them (for formats Pillow cannot open)."""
    tracks = _parse(path)
    if not tracks.image:
        return None
    width, height = _int(tracks.image[0].get("width")), _int(tracks.image[0].get("height"))
    return (width, height) if width and height else None


def _parse(path: Path) -> _Tracks:
    try:
        # A file object, not a name: MediaInfo would fetch a name that looks like a URL.
        with path.open("rb") as handle:
            info = MediaInfo.parse(handle, parse_speed=0, encoding_errors="replace")
    except (RuntimeError, ET.ParseError):  # MediaInfo could not make anything of the bytes
        return _Tracks(general={}, video=[], audio=[], text=[], image=[])
    generals = [t.to_data() for t in info.general_tracks]
    return _Tracks(
        general=generals[0] if generals else {},
        video=[data for data in (t.to_data() for t in info.video_tracks) if not _is_cover_art(data)],
        audio=[t.to_data() for t in info.audio_tracks],
        text=[t.to_data() for t in info.text_tracks],
        image=[t.to_data() for t in info.image_tracks],
    )


def _is_cover_art(track: dict[str, Any]) -> bool:
    """An album cover stored as a one-picture "video" track in M4A/MP3 files is not a video."""
    still = str(track.get("format", "")).upper() in {"JPEG", "PNG", "BMP", "GIF"}
    return still and (_int(track.get("frame_count")) or 0) <= 1


def _streams_exceed_file(path: Path, tracks: _Tracks) -> bool:
    """Headers that describe more media data than the file holds: the end was cut off (MP3, AAC)."""
    declared = sum(_int(t.get("stream_size")) or 0 for t in (*tracks.video, *tracks.audio))
    return declared > path.stat().st_size * _SIZE_SLACK


def _display_aspect(width: int | None, height: int | None, pixel_aspect: float | None, rotation: int) -> float | None:
    if not width or not height:
        return None
    shown_width = width * (pixel_aspect or 1.0)
    if rotation in (90, 270):
        return height / shown_width
    return shown_width / height


def _seconds(milliseconds: object) -> float | None:
    value = _float(milliseconds)
    return value / 1000 if value is not None and value > 0 else None


def _float(value: object) -> float | None:
    if value is None:
        return None
    try:
        return float(str(value).split("/")[0])
    except ValueError:
        return None


def _int(value: object) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None
