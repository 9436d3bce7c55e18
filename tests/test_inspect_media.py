"""Video and sound: durations, picture shape and rotation, subtitles, cut-off files, audio-only files."""

from __future__ import annotations

from pathlib import Path

import mediafactory as mf
import pytest

from ingest.inspect import MediaFacts, inspect_file
from store.enums import AttachmentKind


def _media(path: Path, name: str, tmp_path: Path) -> tuple[str, AttachmentKind, tuple[str, ...], MediaFacts]:
    facts = inspect_file(path, filename=name, workdir=tmp_path / "work")
    assert facts.media is not None
    return facts.label, facts.kind, facts.problems, facts.media


@pytest.mark.parametrize(
    ("width", "height", "aspect"),
    [(640, 360, 16 / 9), (360, 640, 9 / 16), (480, 360, 4 / 3)],
)
def test_a_video_reports_its_shape(tmp_path: Path, width: int, height: int, aspect: float) -> None:
    path = mf.make_video(tmp_path, seconds=20, width=width, height=height, audio=False)

    label, kind, problems, media = _media(path, "微视频.mp4", tmp_path)

    assert (label, kind, problems) == ("MP4 视频", AttachmentKind.VIDEO, ())
    assert (media.width, media.height, media.rotation) == (width, height, 0)
    assert media.display_aspect == pytest.approx(aspect, rel=1e-3)
    assert (media.has_video, media.has_audio, media.has_subtitles, media.truncated) == (True, False, False, False)
    assert media.container == "MPEG-4"


def test_a_three_minute_video_lasts_three_minutes(tmp_path: Path) -> None:
    path = mf.make_video(tmp_path, seconds=180)

    _, _, _, media = _media(path, "微视频.mp4", tmp_path)

    assert media.duration_seconds == pytest.approx(180, abs=0.5)
    assert path.stat().st_size < 300_000


def test_a_rotated_phone_video_is_portrait(tmp_path: Path) -> None:
    # Given a 640x360 stream with a display matrix that turns it a quarter
    path = mf.make_video(tmp_path, seconds=10, width=640, height=360, rotation=90)

    _, _, problems, media = _media(path, "竖屏.mp4", tmp_path)

    assert problems == ()
    assert media.rotation in (90, 270)
    assert (media.width, media.height) == (640, 360)  # as stored
    assert media.display_aspect == pytest.approx(9 / 16, rel=1e-3)  # as shown


def test_subtitles_and_sound_are_noticed(tmp_path: Path) -> None:
    path = mf.make_video(tmp_path, seconds=10, audio=True, subtitle="第一句字幕")

    _, _, _, media = _media(path, "带字幕.mp4", tmp_path)

    assert (media.has_video, media.has_audio, media.has_subtitles) == (True, True, True)


def test_a_cut_off_video_still_reports_full_length_but_is_truncated(tmp_path: Path) -> None:
    # Given the first half of a video whose index sits at the front (as phones and editors write it)
    full = mf.make_video(tmp_path, seconds=180, faststart=True)
    path = mf.truncated_copy(full, tmp_path)

    label, kind, problems, media = _media(path, "微视频.mp4", tmp_path)

    assert (label, kind) == ("MP4 视频", AttachmentKind.VIDEO)
    assert media.duration_seconds == pytest.approx(180, abs=0.5)
    assert media.truncated
    assert problems == ("视频文件不完整（被截断）",)


def test_a_cut_off_video_with_its_index_at_the_end_is_truncated(tmp_path: Path) -> None:
    path = mf.truncated_copy(mf.make_video(tmp_path, seconds=180, faststart=False), tmp_path)

    label, kind, problems, media = _media(path, "微视频.mp4", tmp_path)

    assert (label, kind, problems) == ("MP4 视频", AttachmentKind.VIDEO, ("视频文件不完整（被截断）",))
    assert media.duration_seconds is None
    assert not media.has_video


@pytest.mark.parametrize(("name", "seconds", "label"), [("歌曲.m4a", 360, "M4A 音频"), ("朗诵.mp3", 240, "MP3 音频")])
def test_audio_reports_its_duration(tmp_path: Path, name: str, seconds: int, label: str) -> None:
    path = mf.make_audio(tmp_path, name=name, seconds=seconds)

    found_label, kind, problems, media = _media(path, name, tmp_path)

    assert (found_label, kind, problems) == (label, AttachmentKind.AUDIO, ())
    assert media.duration_seconds == pytest.approx(seconds, abs=1)
    assert (media.has_video, media.has_audio, media.width, media.display_aspect) == (False, True, None, None)


@pytest.mark.parametrize("name", ["歌曲.m4a", "朗诵.mp3"])
def test_cut_off_audio_is_truncated(tmp_path: Path, name: str) -> None:
    path = mf.truncated_copy(mf.make_audio(tmp_path, name=name, seconds=240), tmp_path, name=f"cut-{name}")

    _, kind, problems, media = _media(path, name, tmp_path)

    assert kind is AttachmentKind.AUDIO
    assert media.truncated
    assert problems == ("音频文件不完整（被截断）",)


def test_an_mp4_with_only_sound_is_audio(tmp_path: Path) -> None:
    # Given an M4A saved as .mp4 (libmagic may call the container video/mp4)
    path = mf.make_audio(tmp_path, name="song.m4a", seconds=30)

    facts = inspect_file(path, filename="歌曲.mp4", workdir=tmp_path / "work")

    assert facts.kind is AttachmentKind.AUDIO
    assert facts.label.endswith("音频")
    assert facts.problems == (f"文件“歌曲.mp4”不是视频（实际为{facts.label}）",)


def test_a_video_file_with_garbage_inside_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\xde\xad\xbe\xef" * 500)

    facts = inspect_file(path, filename="视频.mp4", workdir=tmp_path / "work")

    assert facts.kind is AttachmentKind.VIDEO
    assert facts.problems in (("视频文件已损坏，读不出其中的画面或声音",), ("视频文件不完整（被截断）",))
