"""Every email template renders, autoescapes sender text in HTML, and keeps subjects to one line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from campaign.notice import MailboxKind
from campaign.settings import ReplySettings
from ingest.answer import reply_context
from ingest.chain import Decision
from ingest.decide import correction_context
from ingest.mail.links import LargeLink
from ingest.rules import Problem
from ingest.rules.views import FileView
from intake.config import load
from notify.digest_view import example_view
from notify.render import TEMPLATE_NAMES, Renderer
from notify.safe import clean_header, display_name
from store.enums import AttachmentKind, MessageStatus
from store.models import Message

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert(1)</script>\r\nBcc: x@example.org\u202e"


def _reply(status: MessageStatus, *, code: str = "x") -> dict[str, object]:
    """A reply's template context as the pipeline builds it, from a message with hostile text."""
    msg = Message(
        mailbox="offline-activity",
        subject=EVIL,
        unit="西宁市总工会",
        title=None,
        received_at=dt.datetime(2020, 6, 1, 2, 30),
        arrived_at=dt.datetime(2020, 6, 1, 2, 0),
    )
    files = [
        FileView(name=EVIL, kind=AttachmentKind.PHOTO, label="JPEG 图片", size=2048, valid=True),
        FileView(name="a.exe", kind=AttachmentKind.OTHER, label="程序", size=10, valid=False, problems=("不是图片",)),
    ]
    decision = Decision(
        status=status,
        problems=(Problem(code=code, text=EVIL, fix="请改正"),) if status is MessageStatus.REJECTED else (),
        notes=("note",),
    )
    link = LargeLink(
        url="https://mail.qq.com/x", filename="视频.mp4", size="128.03M", expires="2020年11月27日 21:59", provider="qq"
    )
    return reply_context(
        msg=msg,
        kind=MailboxKind.OFFLINE_ACTIVITY,
        decision=decision,
        files=files,
        links=[link],
        replies=ReplySettings(campaign="c"),
    ).context()


def _correction() -> dict[str, object]:
    """The correction after a person changed the verdict, built as `intake decide` builds it."""
    msg = Message(
        mailbox="photos",
        subject=EVIL,
        unit="国网青海省电力公司工会",
        title="光明守护者",
        arrived_at=dt.datetime(2020, 6, 1, 2, 0),
    )
    settings = load(ROOT / "config.example.toml")
    return correction_context(
        msg,
        kind=MailboxKind.PHOTOGRAPHY,
        accepted=True,
        previous="未通过",
        reason="原图经核对长边为 1920 像素 " + EVIL,
        settings=settings,
    ).context()


CONTEXTS: dict[str, dict[str, object]] = {
    "acknowledgement": _reply(MessageStatus.ACCEPTED),
    "rejection": _reply(MessageStatus.REJECTED),
    "correction": _correction(),
    "digest": example_view(text=EVIL).context(),
}


def test_reply_contexts_say_what_the_sender_sees() -> None:
    ack = Renderer().render("acknowledgement", CONTEXTS["acknowledgement"]).text
    assert "2020年6月1日 10:00" in ack  # Beijing time
    assert "a.exe：不是图片" in ack and "视频.mp4（128.03M）" in ack
    rejection = Renderer().render("rejection", CONTEXTS["rejection"]).text
    assert "修改方法：请改正" in rejection
    # the subject convention is told at the end only when the subject is among the problems
    assert "邮件标题格式" not in rejection and "单位+线下活动汇总" not in rejection
    about_subject = Renderer().render("rejection", _reply(MessageStatus.REJECTED, code="subject-format"))
    for body in (about_subject.text, about_subject.html):
        assert "邮件标题格式：" in body and "单位+线下活动汇总" in body


def test_the_correction_says_what_was_said_and_what_stands_now() -> None:
    rendered = Renderer().render("correction", CONTEXTS["correction"])
    assert rendered.subject.startswith("更正：") and rendered.subject.endswith("（经复核予以登记）")
    assert rendered.text.startswith("国网青海省电力公司工会：\n")
    assert "此前系统自动回复为“未通过”。经活动主办方人工复核，现更正如下" in rendered.text
    assert "作品《光明守护者》已计入网络正能量摄影作品征集。此前的退回通知作废，无需重新发送。" in rendered.text
    assert "复核意见：原图经核对长边为 1920 像素 <script>" in rendered.text
    assert "2020年6月1日 10:00" in rendered.text and "省总工会网络和社会工作部" in rendered.text


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_renders(name: str) -> None:
    rendered = Renderer().render(name, CONTEXTS[name])
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert rendered.text.strip()


def test_templates_folder_matches_names() -> None:
    root = Path(__file__).resolve().parents[1] / "notify" / "templates"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(TEMPLATE_NAMES)
    for name in TEMPLATE_NAMES:
        assert sorted(p.name for p in (root / name).iterdir()) == ["body.html", "body.txt", "subject.txt"]


def test_missing_value_is_an_error_not_blank() -> None:
    with pytest.raises(UndefinedError):
        Renderer().render("rejection", {"subject": "x"})


def test_override_folder_replaces_single_files(tmp_path: Path) -> None:
    (tmp_path / "rejection").mkdir()
    (tmp_path / "rejection" / "subject.txt").write_text("退回：{{ subject_line }}", encoding="utf-8")
    rendered = Renderer(override_dir=tmp_path).render("rejection", CONTEXTS["rejection"])
    assert rendered.subject.startswith("退回：<script>")
    assert "请改正" in rendered.text


@pytest.mark.parametrize("value", ["a\r\nBcc: x", "a\nb", "a\x00b", "a\u202eb", "a\u2028b", "a\x85b", "a\u200fb"])
def test_clean_header_leaves_no_controls(value: str) -> None:
    cleaned = clean_header(value)
    assert cleaned.startswith("a") and cleaned.endswith(("b", "Bcc: x"))
    assert all(ch.isprintable() or ch == " " for ch in cleaned)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", "_.._etc_passwd"),
        ("CON.txt", "附件1（CON.txt）"),
        ("照片\u202egpj.exe", "照片 gpj.exe"),
        (None, "附件1"),
        ("a\r\nb.jpg", "a b.jpg"),
    ],
)
def test_display_names_are_never_paths(name: str | None, shown: str) -> None:
    assert display_name(name, fallback="附件1") == shown
