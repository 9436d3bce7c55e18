"""Whatever a sender writes reaches a reply cleaned: terminal escapes, controls and bidi marks in a work
title are gone, and a large-attachment link whose file name could not be read says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mediafactory as mf
import pytest
from conftest import Build
from test_collections_e2e import mail, run

from devservers.smtpsink import SmtpSink
from notify.contexts import LinkRow
from notify.safe import clean_text
from store.enums import MessageStatus

pytestmark = pytest.mark.servers

QQ_LINK = "https://mail.qq.com/cgi-bin/ftnExs_download?k=5f3a&t=exs_ftn_download"


def test_an_escape_in_a_work_title_and_a_bare_link_in_the_acknowledgement(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a photography work whose title carries an ANSI colour, a bell and a right-to-left override,
    # and a body with a bare QQ large-attachment link (no file name written beside it)
    photo = mf.make_camera_jpeg(tmp_path, name="光明守护者.jpg", size=(2400, 1600))
    subject = "西宁市总工会《\x1b[31m光明\x1b[0m守护者\x07\u202e》"
    body = f"报送摄影作品一件，原图另见超大附件：\n{QQ_LINK}\n"
    # When the intake polls and answers
    msg, text = run(intake("photography"), deliver, smtp, mail(photo, subject=subject, body=body))
    # Then the acknowledgement names the work cleanly and lists the link by its host
    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "《光明守护者》" in text
    assert "文件名未知（mail.qq.com 的超大附件）" in text
    for bad in ("\x1b", "[31m", "[0m", "\x07", "\u202e", "None"):
        assert bad not in text, repr(bad)
    html = smtp.messages[0].message().get_body(("html",))
    assert html is not None
    shown = str(html.get_content())
    assert "\x1b" not in shown and "[31m" not in shown and "文件名未知（mail.qq.com 的超大附件）" in shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("光明\x1b[1;31m守护者\x1b[0m", "光明守护者"),
        ("标题\x1b]0;被改的窗口标题\x07", "标题"),
        ("八位\x9b31m控制", "八位控制"),
        ("右\u202e向\u2066左\u200f", "右 向 左"),
    ],
)
def test_terminal_escapes_are_removed_whole(value: str, shown: str) -> None:
    assert clean_text(value) == shown


def test_every_text_of_a_reply_row_is_cleaned_and_a_nameless_link_is_named() -> None:
    row = LinkRow(filename=None, size="2.1G\x1b[5m", expires=None, url="https://fs.163.com/fs/display/?file=x")
    assert (row.filename, row.size) == ("文件名未知（fs.163.com 的超大附件）", "2.1G")
