"""Files known by their content, with a second opinion: maker brands, sound-only containers, RAW photos.

Every file is real: MP4s written by PyAV and re-branded as cameras brand them, a WMA written by
libavcodec's wmav2 encoder, DNGs laid out as cameras write them (tifffile), courseware by python-pptx.
"""

from __future__ import annotations

import random
from pathlib import Path

import mediafactory as mf
import pytest
from PIL import Image

from ingest.inspect import inspect_file
from ingest.inspect.detect import sniff
from ingest.inspect.media import inspect_media
from store.enums import AttachmentKind


def _inspect(path: Path, tmp_path: Path, name: str | None = None):  # type: ignore[no-untyped-def]
    return inspect_file(path, filename=name or path.name, workdir=tmp_path / "work")


# -- a camera maker's brand ----------------------------------------------------------------------


@pytest.mark.parametrize("brand", [b"XAVC", b"CAEP", b"niko", b"FACE"])
def test_an_mp4_under_a_camera_makers_brand_is_a_video(tmp_path: Path, brand: bytes) -> None:
    source = mf.make_video(tmp_path, name="source.mp4", seconds=30, width=1280, height=720)
    video = mf.rebrand_mp4(source, tmp_path / "DSC0001.MP4", brand=brand)
    probed = inspect_media(video)
    assert probed.has_video and probed.has_audio and probed.duration_seconds == pytest.approx(30, abs=0.2)

    facts = _inspect(video, tmp_path)

    # whatever libmagic calls the brand, the streams decide: an MP4 video, measured
    assert (facts.kind, facts.mime, facts.label, facts.problems) == (AttachmentKind.VIDEO, "video/mp4", "MP4 视频", ())
    assert facts.media is not None and (facts.media.width, facts.media.height) == (1280, 720)


def test_an_unknown_brand_that_libmagic_cannot_name_is_still_read(tmp_path: Path) -> None:
    source = mf.make_video(tmp_path, name="source.mp4", seconds=10)
    video = mf.rebrand_mp4(source, tmp_path / "C0001.MP4", brand=b"XAVC")

    assert sniff(video) == "application/octet-stream"  # the first detector's reading
    assert _inspect(video, tmp_path).kind is AttachmentKind.VIDEO  # the probe's, which decides


def test_bytes_without_streams_stay_unknown_and_a_program_stays_a_program(tmp_path: Path) -> None:
    junk = tmp_path / "作品.mp4"
    junk.write_bytes(b"ftypXAVC" + random.Random(7).randbytes(64 * 1024))  # a brand, and no boxes after it
    program = mf.make_elf(tmp_path, name="作品2.mp4")

    assert _inspect(junk, tmp_path).problems == ("文件“作品.mp4”不是视频（实际为未知格式的文件）",)
    found = _inspect(program, tmp_path)
    assert found.executable and found.kind is not AttachmentKind.VIDEO


# -- sound-only containers -----------------------------------------------------------------------


def test_a_wma_song_is_named_a_wma(tmp_path: Path) -> None:
    song = mf.make_wma(tmp_path, name="劳动者之歌.wma")

    facts = _inspect(song, tmp_path)

    assert (facts.kind, facts.label, facts.problems) == (AttachmentKind.AUDIO, "WMA 音频", ())


@pytest.mark.parametrize(
    ("name", "label"),
    [("小样.mp4", "M4A 音频"), ("小样.m4a", "M4A 音频"), ("小样.mp3", "MP3 音频")],
)
def test_sound_in_a_video_container_is_named_as_sound(tmp_path: Path, name: str, label: str) -> None:
    facts = _inspect(mf.make_audio(tmp_path, name=name, seconds=20, tone=True), tmp_path)

    assert (facts.kind, facts.label, facts.problems) == (AttachmentKind.AUDIO, label, ())


def test_a_video_keeps_its_video_name(tmp_path: Path) -> None:
    assert _inspect(mf.make_video(tmp_path, seconds=10), tmp_path).label == "MP4 视频"


# -- RAW photos ----------------------------------------------------------------------------------


def test_a_dng_is_measured_by_its_real_image_not_its_preview(tmp_path: Path) -> None:
    raw = mf.make_dng(tmp_path, name="DSC01234.dng", size=(640, 480), preview=(160, 120))
    with Image.open(raw) as first:
        assert first.size == (160, 120)  # what a TIFF reader sees first: the preview

    facts = _inspect(raw, tmp_path)

    assert (facts.kind, facts.mime, facts.label, facts.problems) == (
        AttachmentKind.PHOTO,
        "image/x-adobe-dng",
        "RAW 格式照片（DNG）",
        (),
    )
    assert facts.image is not None
    assert (facts.image.width, facts.image.height, facts.image.format) == (640, 480, "DNG")
    assert facts.image.camera == "SONY ILCE-7M3"


def test_a_raw_that_cannot_be_read_is_refused_with_what_it_is(tmp_path: Path) -> None:
    whole = mf.make_dng(tmp_path, name="whole.dng").read_bytes()
    cut = tmp_path / "DSC01235.dng"
    cut.write_bytes(whole[: len(whole) // 2])  # the sensor image cut off in the middle

    facts = _inspect(cut, tmp_path)

    assert facts.kind is AttachmentKind.PHOTO and facts.image is None
    assert facts.problems == ("RAW 格式照片（DNG），无法读出其中的图像，请另发 JPEG 格式的原图",)


def test_a_plain_tiff_is_still_a_tiff(tmp_path: Path) -> None:
    path = tmp_path / "扫描.tif"
    Image.effect_noise((400, 300), 32).convert("RGB").save(path, "TIFF")

    facts = _inspect(path, tmp_path)

    assert (facts.label, facts.problems) == ("TIFF 图片", ())
    assert facts.image is not None and (facts.image.width, facts.image.height) == (400, 300)


# -- courseware ----------------------------------------------------------------------------------


def test_courseware_made_by_powerpoint_is_a_presentation(tmp_path: Path) -> None:
    facts = _inspect(mf.make_slides(tmp_path), tmp_path)

    assert (facts.kind, facts.label, facts.problems) == (AttachmentKind.DOCUMENT, "PowerPoint 演示文稿", ())
