"""Pictures: measured size, EXIF date and camera, damaged and hostile files, Pillow's guard at our limit."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import mediafactory as mf
import pytest
from PIL import Image, ImageFile

from ingest.inspect import InspectLimits, inspect_file
from store.enums import AttachmentKind


def test_a_jpeg_with_exif_gives_size_date_and_camera(tmp_path: Path) -> None:
    # Given a photo taken with a Canon camera on 1 May 2024
    path = mf.make_jpeg(
        tmp_path, size=(640, 480), taken_at=datetime(2024, 5, 1, 10, 20, 30), make="Canon", model="Canon EOS R5"
    )

    # When it is inspected
    facts = inspect_file(path, filename="活动照片.jpg", workdir=tmp_path / "work")

    # Then its picture facts are read from the bytes
    assert (facts.kind, facts.label, facts.mime, facts.problems) == (
        AttachmentKind.PHOTO,
        "JPEG 图片",
        "image/jpeg",
        (),
    )
    assert facts.image is not None
    assert (facts.image.width, facts.image.height, facts.image.format) == (640, 480, "JPEG")
    assert facts.image.taken_at == datetime(2024, 5, 1, 10, 20, 30)
    assert facts.image.camera == "Canon EOS R5"


def test_make_and_model_are_joined(tmp_path: Path) -> None:
    path = mf.make_jpeg(tmp_path, make="HUAWEI", model="ELS-AN00")

    facts = inspect_file(path, filename="p.jpg", workdir=tmp_path / "work")

    assert facts.image is not None
    assert facts.image.camera == "HUAWEI ELS-AN00"


def test_a_png_without_exif(tmp_path: Path) -> None:
    path = mf.make_png(tmp_path, size=(320, 240))

    facts = inspect_file(path, filename="图.png", workdir=tmp_path / "work")

    assert facts.label == "PNG 图片"
    assert facts.image is not None
    assert (facts.image.width, facts.image.height, facts.image.taken_at, facts.image.camera) == (320, 240, None, None)


def test_a_truncated_jpeg_is_damaged(tmp_path: Path) -> None:
    # Given the first half of a JPEG (Pillow's verify() would pass it)
    path = mf.truncated_copy(mf.make_jpeg(tmp_path, size=(640, 480)), tmp_path, name="cut.jpg")

    facts = inspect_file(path, filename="照片.jpg", workdir=tmp_path / "work")

    assert facts.kind is AttachmentKind.PHOTO
    assert facts.problems == ("图片已损坏，无法完整解码",)
    assert facts.image is not None  # the header still told its size
    assert (facts.image.width, facts.image.height) == (640, 480)


def test_a_truncated_png_is_damaged(tmp_path: Path) -> None:
    path = mf.truncated_copy(mf.make_png(tmp_path), tmp_path, name="cut.png")

    facts = inspect_file(path, filename="图.png", workdir=tmp_path / "work")

    assert facts.problems == ("图片已损坏，无法完整解码",)


def test_a_jpeg_header_with_garbage_after_it_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00garbage" * 50)

    facts = inspect_file(path, filename="照片.jpg", workdir=tmp_path / "work")

    assert (facts.kind, facts.label, facts.image) == (AttachmentKind.PHOTO, "JPEG 图片", None)
    assert facts.problems == ("图片已损坏，无法完整解码",)


def test_a_pixel_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    # Given a 74-byte PNG that declares 100000 x 100000 pixels
    path = mf.make_pixel_bomb_png(tmp_path, width=100_000, height=100_000)

    facts = inspect_file(path, filename="bomb.png", workdir=tmp_path / "work")

    assert facts.kind is AttachmentKind.PHOTO
    assert facts.image is None
    assert facts.problems == (
        "图片像素过多（100000×100000，共 100 亿像素，上限 2.5 亿像素），可能是恶意构造的文件，未解码",
    )


def test_our_pixel_limit_applies_below_pillows_own(tmp_path: Path) -> None:
    # 3000 x 3000 = 9 million pixels: fine for Pillow, too many for a 5-million limit
    path = mf.make_pixel_bomb_png(tmp_path, width=3000, height=3000)

    facts = inspect_file(path, filename="big.png", limits=InspectLimits(max_image_pixels=5_000_000), workdir=tmp_path)

    assert facts.problems == (
        "图片像素过多（3000×3000，共 900 万像素，上限 500 万像素），可能是恶意构造的文件，未解码",
    )


def test_pillow_guards_at_our_limit_and_warning_state_is_left_alone(tmp_path: Path) -> None:
    filters_before = list(warnings.filters)
    path = mf.make_pixel_bomb_png(tmp_path)

    inspect_file(path, filename="bomb.png", workdir=tmp_path / "work")
    inspect_file(mf.make_jpeg(tmp_path), filename="p.jpg", workdir=tmp_path / "work")

    assert warnings.filters == filters_before
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS == InspectLimits().max_image_pixels == 250_000_000  # far above 108 MP phones


def test_exif_orientation_gives_the_size_as_shown(tmp_path: Path) -> None:
    # Given a portrait photo stored landscape with EXIF orientation 6 (turn 90° clockwise to show)
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (400, 300), "white").save(path, "JPEG", exif=exif)

    facts = inspect_file(path, filename="竖拍.jpg", workdir=tmp_path / "work")

    assert facts.image is not None
    assert (facts.image.width, facts.image.height) == (300, 400)


@pytest.mark.slow
def test_a_large_png_is_checked_chunk_by_chunk_not_decoded_whole(tmp_path: Path) -> None:
    # Given a 63 MP PNG (above the whole-decode bound) and the same file cut short in its pixel data
    path = tmp_path / "全景.png"
    Image.linear_gradient("L").resize((9000, 7000)).save(path, "PNG")
    cut = mf.truncated_copy(path, tmp_path, name="全景-cut.png", keep=0.6)

    whole = inspect_file(path, filename="全景.png", workdir=tmp_path / "work")
    broken = inspect_file(cut, filename="全景.png", workdir=tmp_path / "work")

    assert whole.problems == ()
    assert whole.image is not None and (whole.image.width, whole.image.height) == (9000, 7000)
    assert broken.problems == ("图片已损坏，无法完整解码",)
