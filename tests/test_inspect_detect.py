"""A file is what its bytes say: kinds, Chinese labels and name mismatches, whatever the name claims."""

from __future__ import annotations

import random
from pathlib import Path

import mediafactory as mf
import pytest

from ingest.inspect import inspect_file
from ingest.inspect.detect import expected_kind
from store.enums import AttachmentKind

OPENXML = "application/vnd.openxmlformats-officedocument"


def test_an_executable_named_like_a_photo_is_called_out(tmp_path: Path) -> None:
    # Given the bytes of a Linux program saved as 照片1.jpg
    path = mf.make_elf(tmp_path, name="照片1.jpg")

    # When it is inspected
    facts = inspect_file(path, filename="照片1.jpg", workdir=tmp_path / "work")

    # Then the sender is told what it really is
    assert facts.kind is AttachmentKind.OTHER
    assert facts.label == "可执行程序"
    assert facts.name_mismatch
    assert facts.problems == ("文件“照片1.jpg”不是图片（实际为可执行程序），出于安全原因不予接收",)


def test_a_windows_program_named_like_a_video_is_called_out(tmp_path: Path) -> None:
    path = mf.make_pe(tmp_path, name="视频.mp4")

    facts = inspect_file(path, filename="视频.mp4", workdir=tmp_path / "work")

    assert facts.label == "可执行程序"
    assert facts.problems == ("文件“视频.mp4”不是视频（实际为可执行程序），出于安全原因不予接收",)


def test_a_text_file_named_mp4_is_text(tmp_path: Path) -> None:
    path = mf.make_text(tmp_path, name="作品.mp4", text="这不是视频，只是一段文字。\n")

    facts = inspect_file(path, filename="作品.mp4", workdir=tmp_path / "work")

    assert facts.kind is AttachmentKind.DOCUMENT
    assert facts.label == "文本文件"
    assert facts.mime == "text/plain"
    assert facts.problems == ("文件“作品.mp4”不是视频（实际为文本文件）",)


def test_the_declared_name_is_not_used_to_decide_the_type(tmp_path: Path) -> None:
    # A real JPEG saved under a meaningless name keeps its kind and gets no mismatch.
    path = mf.make_jpeg(tmp_path, name="attachment.bin")

    facts = inspect_file(path, filename="attachment.bin", workdir=tmp_path / "work")

    assert (facts.kind, facts.label, facts.name_mismatch, facts.problems) == (
        AttachmentKind.PHOTO,
        "JPEG 图片",
        False,
        (),
    )


def test_a_png_named_jpg_is_still_a_photo_without_complaint(tmp_path: Path) -> None:
    path = mf.make_png(tmp_path, name="合影.jpg")

    facts = inspect_file(path, filename="合影.jpg", workdir=tmp_path / "work")

    assert (facts.label, facts.name_mismatch, facts.problems) == ("PNG 图片", False, ())


@pytest.mark.parametrize(
    ("maker", "name", "label", "mime"),
    [
        (mf.make_docx, "活动说明.docx", "Word 文档", f"{OPENXML}.wordprocessingml.document"),
        (mf.make_pdf, "活动说明.pdf", "PDF 文档", "application/pdf"),
        (mf.make_text, "活动说明.txt", "文本文件", "text/plain"),
    ],
)
def test_description_documents(tmp_path: Path, maker: mf.Maker, name: str, label: str, mime: str) -> None:
    path = maker(tmp_path, name=name)

    facts = inspect_file(path, filename=name, workdir=tmp_path / "work")

    assert facts.kind is AttachmentKind.DOCUMENT
    assert (facts.label, facts.mime, facts.is_description, facts.problems) == (label, mime, True, ())
    assert facts.members == ()


def test_a_docx_whose_parts_come_in_another_order_is_still_a_document(tmp_path: Path) -> None:
    # Given a Word document whose first zip entry is not [Content_Types].xml (libmagic then says "zip")
    path = mf.make_simple_zip(
        tmp_path,
        name="说明.docx",
        files={
            "word/document.xml": b"<w:document/>",
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
        },
    )

    facts = inspect_file(path, filename="说明.docx", workdir=tmp_path / "work")

    assert (facts.kind, facts.label, facts.is_description) == (AttachmentKind.DOCUMENT, "Word 文档", True)
    assert facts.members == ()


def test_gbk_text_is_a_text_document(tmp_path: Path) -> None:
    path = tmp_path / "说明.txt"
    path.write_bytes("活动说明：六月在西宁举办，参加人数一百人。\r\n".encode("gbk"))

    facts = inspect_file(path, filename="说明.txt", workdir=tmp_path / "work")

    assert (facts.kind, facts.label, facts.is_description) == (AttachmentKind.DOCUMENT, "文本文件", True)


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")

    facts = inspect_file(path, filename="照片.jpg", workdir=tmp_path / "work")

    assert (facts.kind, facts.label, facts.problems) == (AttachmentKind.OTHER, "空文件", ("文件是空的（0 字节）",))
    assert facts.name_mismatch


@pytest.mark.parametrize(
    "data",
    [
        random.Random(7).randbytes(4096),
        bytes(range(256)) * 8,  # libmagic guesses "Targa image" for this
    ],
)
def test_unknown_bytes_are_other(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "blob"
    path.write_bytes(data)

    facts = inspect_file(path, filename="数据", workdir=tmp_path / "work")

    assert (facts.kind, facts.name_mismatch, facts.problems) == (AttachmentKind.OTHER, False, ())


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("照片.JPG", AttachmentKind.PHOTO),
        ("a.b.heic", AttachmentKind.PHOTO),
        ("微视频.MOV", AttachmentKind.VIDEO),
        ("歌曲.m4a", AttachmentKind.AUDIO),
        ("说明.wps", AttachmentKind.DOCUMENT),
        ("汇总.7z", AttachmentKind.ARCHIVE),
        ("无扩展名", None),
        ("奇怪.xyz", None),
    ],
)
def test_extensions_promise_kinds(filename: str, kind: AttachmentKind | None) -> None:
    assert expected_kind(filename) is kind


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("说明.txt", b"#!/bin/sh\nrm -rf ~\n"),
        ("资料.dat", b"\xcf\xfa\xed\xfe" + bytes(60)),
    ],
    ids=["script", "mach-o"],
)
def test_programs_are_known_by_their_first_bytes_whatever_their_name(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(data)
    facts = inspect_file(path, filename=name, workdir=tmp_path / "work")
    assert facts.executable
    assert any(p.endswith("出于安全原因不予接收") and name in p for p in facts.problems)


def test_text_that_happens_to_start_with_mz_is_no_program(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes("MZ 活动说明：六月在西宁举办线下活动。\n".encode())
    facts = inspect_file(path, filename="说明.txt", workdir=tmp_path / "work")
    assert (facts.executable, facts.problems) == (False, ())
