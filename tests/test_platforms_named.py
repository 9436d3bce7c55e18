"""Service platforms named as units name them: in the subject, unquoted in the body, or only in an
attached Word/PowerPoint introduction (real .docx/.pptx made here), end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pptx
import pytest
from conftest import Build
from pptx.util import Inches
from test_collections_e2e import mail, run

from devservers.smtpsink import SmtpSink
from ingest.inspect import inspect_file
from ingest.inspect.facts import InspectLimits
from ingest.rules.platforms import named_platforms
from store.enums import MessageStatus

Deliver = Callable[[bytes], int]
INTRO = (
    "西宁职工之家微信公众号由西宁市总工会于2018年开通，设有法律援助、技能培训、困难帮扶、"
    "职工书屋等栏目，累计服务职工12万人次。"
)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("西宁市总工会《“西宁职工之家”微信公众号》", ["微信公众号“西宁职工之家”"]),
        ("西宁市总工会+“海东职工之家”APP", ["APP“海东职工之家”"]),
        ("西宁市总工会《西宁职工之家微信公众号》", ["微信公众号“西宁职工之家”"]),
        ("我单位推荐的平台为西宁职工之家微信公众号，该平台于2018年开通。", ["微信公众号“西宁职工之家”"]),
        ("平台名称：青海工会APP", ["APP“青海工会”"]),
        ("我会开通了果洛职工之家微信公众号，提供维权服务。", ["微信公众号“果洛职工之家”"]),
        ("依托运营的青海职工e家小程序开展线上服务。", ["小程序“青海职工e家”"]),
        ("欢迎关注微信公众号", []),
        ("请大家关注我们的公众号", []),
        ("西宁市总工会服务平台推荐", []),
    ],
)
def test_platform_names_as_units_write_them(text: str, names: list[str]) -> None:
    assert named_platforms(text) == names


def _docx(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    document.add_heading("网上工会服务平台推荐材料", level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "关注人数"
    table.rows[0].cells[1].text = "3.2万"
    document.save(str(path))
    return path


def _pptx(path: Path, *lines: str) -> Path:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "服务平台介绍"
    slide.placeholders[1].text = "\n".join(lines)
    box = deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(2))
    box.text_frame.text = "联系人：许堃"
    deck.save(str(path))
    return path


def test_the_text_of_word_and_powerpoint_files_is_read_for_the_platform(tmp_path: Path) -> None:
    def text(path: Path) -> str:
        facts = inspect_file(path, filename=path.name, limits=InspectLimits(), workdir=tmp_path)
        return (facts.document.text or "") if facts.document is not None else ""

    word = text(_docx(tmp_path / "a.docx", INTRO))
    assert INTRO in word and "关注人数" in word and "3.2万" in word  # a table's cells too
    slides = text(_pptx(tmp_path / "b.pptx", INTRO))
    assert "服务平台介绍" in slides and INTRO in slides and "联系人：许堃" in slides
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    assert text(broken) == ""


@pytest.mark.servers
def test_a_platform_named_in_the_subject_is_named(intake: Build, deliver: Deliver, smtp: SmtpSink) -> None:
    body = "该平台于2018年开通，设有法律援助、技能培训、困难帮扶等栏目，累计服务职工12万人次。"
    raw = mail(subject="西宁市总工会《“西宁职工之家”微信公众号》", body=body)

    msg, text = run(intake("service-platform"), deliver, smtp, raw)

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "已记录平台名称：微信公众号“西宁职工之家”。" in text


@pytest.mark.servers
def test_a_platform_named_without_quotes_in_the_body_is_named(intake: Build, deliver: Deliver, smtp: SmtpSink) -> None:
    body = "我单位推荐的平台为西宁职工之家微信公众号，该平台设有法律援助、技能培训等栏目，服务职工12万人次。"
    raw = mail(subject="西宁市总工会《网上服务平台》", body=body)

    msg, text = run(intake("service-platform"), deliver, smtp, raw)

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "已记录平台名称：微信公众号“西宁职工之家”。" in text


@pytest.mark.servers
@pytest.mark.parametrize("suffix", ["docx", "pptx"])
def test_a_platform_introduced_only_by_an_attached_document_is_named_and_described(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path, suffix: str
) -> None:
    # Given a mail whose body only says "see the attachment", with an introduction as Word or PowerPoint
    made = _docx if suffix == "docx" else _pptx
    intro = made(tmp_path / f"西宁职工之家介绍.{suffix}", INTRO)
    raw = mail(intro, subject="西宁市总工会《网上服务平台》", body="详见附件。")

    msg, text = run(intake("service-platform"), deliver, smtp, raw)

    # Then the platform counts as named and described by that document
    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "已记录平台名称：微信公众号“西宁职工之家”。" in text
    assert f"平台介绍见附件：“西宁职工之家介绍.{suffix}”。" in text


@pytest.mark.servers
def test_a_document_that_names_no_platform_is_still_no_platform(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    other = _docx(tmp_path / "工作总结.docx", "今年以来，我会围绕中心工作，扎实推进各项工会工作，取得了一定成效。")
    raw = mail(other, subject="西宁市总工会《网上服务平台》", body="详见附件。")

    msg, text = run(intake("service-platform"), deliver, smtp, raw)

    assert msg.status is MessageStatus.REJECTED
    assert msg.reasons == ["邮件中没有写明平台的名称或链接，也没有平台截图"]
    assert "平台介绍见附件" not in text
