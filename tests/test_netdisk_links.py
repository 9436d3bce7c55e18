"""Works sent as net-disk shares: recorded with their codes, shown to the hosts, acknowledged as waiting.

Bodies are written as the net-disk apps copy a share and QQ Mail / WeChat paste it, in plain text
and in HTML; the links are never followed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Build
from openpyxl import load_workbook

from devservers.smtpsink import SmtpSink
from ingest.mail.links import NETDISK, find_links
from intake.app import App
from intake.cli import cli
from store import queries
from store.enums import MessageStatus
from store.models import Message

BAIDU = "https://pan.baidu.com/s/1AbCdEfGhIjKlMnOpQrStU"
BAIDU_SHARE = (
    "通过百度网盘分享的文件：战疫路上的劳动者.mp4\n"
    f"链接: {BAIDU} 提取码: x7k2 复制这段内容后打开百度网盘手机App，操作更方便哦\n"
    "--来自百度网盘超级会员V3的分享"
)
SUBJECT = "西宁市总工会《战疫路上的劳动者》"
INTRO = "现报送我单位职工创作的微视频作品，视频较大，通过网盘发送，请查收。联系人：许堃。"


@pytest.mark.parametrize(
    ("body", "url", "provider", "code", "filename"),
    [
        (BAIDU_SHARE, BAIDU, "百度网盘", "x7k2", "战疫路上的劳动者.mp4"),
        (f"链接：{BAIDU}?pwd=Ab12 \n提取码：Ab12", f"{BAIDU}?pwd=Ab12", "百度网盘", "Ab12", None),
        (f"{BAIDU}?pwd=k9m3", f"{BAIDU}?pwd=k9m3", "百度网盘", "k9m3", None),  # the code only in the link
        (
            "我用阿里云盘分享了「微电影《坚守》.mp4」，你可以不限速下载🚀\n复制这段内容打开「阿里云盘」App 即可获取\n"
            "链接：https://www.aliyundrive.com/s/Ab12Cd34Ef\n提取码: 8b9c",
            "https://www.aliyundrive.com/s/Ab12Cd34Ef",
            "阿里云盘",
            "8b9c",
            "微电影《坚守》.mp4",
        ),
        (
            "「诵读」https://www.alipan.com/s/xYz123 提取码: 3f9k",
            "https://www.alipan.com/s/xYz123",
            "阿里云盘",
            "3f9k",
            None,
        ),
        (
            "我用夸克网盘分享了「诵读作品」，点击链接即可保存。打开「夸克APP」在线查看，支持多种文档格式转换。\n"
            "链接：https://pan.quark.cn/s/0a1b2c3d4e5f\n提取码：AbCd",
            "https://pan.quark.cn/s/0a1b2c3d4e5f",
            "夸克网盘",
            "AbCd",
            "诵读作品",
        ),
        (
            "https://cloud.189.cn/t/ZbMfIbUNfYfa（访问码：ab12）",
            "https://cloud.189.cn/t/ZbMfIbUNfYfa",
            "天翼云盘",
            "ab12",
            None,
        ),
        (
            "https://115.com/s/sw3abcd?password=h123# 访问码：h123",
            "https://115.com/s/sw3abcd?password=h123#",
            "115网盘",
            "h123",
            None,
        ),
        ("https://wwi.lanzoui.com/iAbCd123 密码:3f8a", "https://wwi.lanzoui.com/iAbCd123", "蓝奏云", "3f8a", None),
        ("https://share.weiyun.com/AbCdEf12", "https://share.weiyun.com/AbCdEf12", "微云", None, None),
        (
            "https://www.123pan.com/s/abc-DEF12 提取码:Qw12",
            "https://www.123pan.com/s/abc-DEF12",
            "123云盘",
            "Qw12",
            None,
        ),
    ],
)
def test_net_disk_shares_are_read_with_their_codes(
    body: str, url: str, provider: str, code: str | None, filename: str | None
) -> None:
    (link,) = find_links(body, "")
    assert (link.kind, link.url, link.provider, link.code, link.filename) == (NETDISK, url, provider, code, filename)


@pytest.mark.parametrize(
    "url",
    [
        "https://pan.baidu.com.evil.example/s/1abc",
        "https://pan.baidu.com@evil.example/s/1abc",
        "https://pan.baidu.com:8443/s/1abc",
        "https://pan.baidu.com/",  # a home page shares nothing
        "https://evil.example/?next=https://pan.quark.cn/s/abc",
        "https://xlanzoui.com.evil.example/iAbC",
        "ftp://pan.baidu.com/s/1abc",
    ],
)
def test_look_alike_net_disks_are_not_links(url: str) -> None:
    assert find_links(f"{url} 提取码: x7k2", f'<a href="{url}">{url}</a> 提取码: x7k2') == []


def test_two_shares_keep_their_own_codes() -> None:
    body = "作品一：https://pan.quark.cn/s/aaa111 提取码：Aa11\n作品二：https://pan.quark.cn/s/bbb222 提取码：Bb22"
    assert [(x.url[-6:], x.code) for x in find_links(body, "")] == [("aaa111", "Aa11"), ("bbb222", "Bb22")]


# -- end to end ----------------------------------------------------------------------------------


def _qq_html(sender: str = "xnzgh@qq.com") -> bytes:
    """QQ Mail's HTML-only message with a pasted Baidu share (the link made clickable)."""
    msg = EmailMessage()
    msg["From"] = f"西宁市总工会 <{sender}>"
    msg["To"] = "works@example.org"
    msg["Subject"] = SUBJECT
    msg["Message-ID"] = make_msgid(domain="qq.com")
    msg["Date"] = "Thu, 18 Jun 2020 10:00:00 +0800"
    msg.set_content(
        f'<html><body><div style="font-family:微软雅黑">{INTRO}</div><div><br></div>'
        "<div>通过百度网盘分享的文件：战疫路上的劳动者.mp4</div>"
        f'<div>链接:&nbsp;<a href="{BAIDU}" target="_blank">{BAIDU}</a>&nbsp;提取码:&nbsp;x7k2&nbsp;'
        "复制这段内容后打开百度网盘手机App，操作更方便哦</div>"
        "<div>--来自百度网盘超级会员V3的分享</div><div><br></div>"
        '<div style="font-size:12px;color:#999">发自我的iPhone</div></body></html>',
        subtype="html",
    )
    return msg.as_bytes()


def _wechat_plain(sender: str = "hnz@126.com") -> bytes:
    """A plain-text mail whose body is a Quark share copied out of WeChat."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "works@example.org"
    msg["Subject"] = "海南州总工会《我们的家园》"
    msg["Message-ID"] = make_msgid(domain="126.com")
    msg["Date"] = "Fri, 19 Jun 2020 09:30:00 +0800"
    msg.set_content(
        "海南州总工会报送微视频作品《我们的家园》，文件超过邮箱附件上限，以夸克网盘分享。\n\n"
        "我用夸克网盘分享了「我们的家园.mp4」，点击链接即可保存。打开「夸克APP」在线查看，支持多种文档格式转换。\n"
        "链接：https://pan.quark.cn/s/0a1b2c3d4e5f\n提取码：AbCd\n"
    )
    return msg.as_bytes()


def _stored(app: App) -> Message:
    with app.sessions() as session:
        (msg,) = queries.messages(session)
        return msg


def _cli(app: App, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(app.settings.path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.servers
def test_a_work_sent_as_a_baidu_share_is_acknowledged_and_listed_for_download(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a micro-video mail from QQ Mail with only a Baidu share pasted in its HTML body
    app = intake("micro-video")
    deliver(_qq_html())

    # When the intake polls and answers
    app.poll()
    app.send_replies()
    msg = _stored(app)
    (captured,) = smtp.wait_for(1)
    body = captured.message().get_body(("plain",))
    assert body is not None
    text = str(body.get_content()).replace("\r\n", "\n")

    # Then the work is accepted as waiting for the hosts to download it, the code noted
    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "网盘链接（已记录链接和提取码，将由工作人员下载后核对" in text
    assert "  - 百度网盘：战疫路上的劳动者.mp4，提取码 x7k2 已记录" in text
    assert "作品以网盘链接发送，工作人员下载后将再核对作品要求。" in text
    assert "请把视频作品" not in text and "超大附件" not in text
    (link,) = msg.large_attachment_links
    assert link == {
        "url": BAIDU,
        "filename": "战疫路上的劳动者.mp4",
        "size": None,
        "expires": None,
        "provider": "百度网盘",
        "kind": "netdisk",
        "code": "x7k2",
    }
    assert "邮件中有 1 个网盘链接待下载：百度网盘（提取码 x7k2）。" in msg.remarks

    # And the hosts see it with its code: intake show, messages --json, the digest, the export
    shown = _cli(app, "show", str(msg.id))
    assert f"net-disk link: 百度网盘 战疫路上的劳动者.mp4 提取码 x7k2 {BAIDU}" in shown
    (listed,) = json.loads(_cli(app, "messages", "--json"))
    assert listed["large_attachment_links"][0]["code"] == "x7k2"
    digest = tmp_path / "digest.txt"
    _cli(app, "digest", "--preview", str(digest))
    digest_text = digest.read_text(encoding="utf-8")
    assert "1 个网盘链接待下载（提取码见“六、下载链接”）" in digest_text
    assert "  - 西宁市总工会：战疫路上的劳动者.mp4（百度网盘，提取码 x7k2）\n    " + BAIDU in digest_text
    html = tmp_path / "digest.html"
    _cli(app, "digest", "--preview", str(html))
    assert "<b>提取码 x7k2</b>" in html.read_text(encoding="utf-8")
    xlsx = tmp_path / "export.xlsx"
    _cli(app, "export", "--xlsx", str(xlsx))
    cells = [str(c.value) for ws in load_workbook(xlsx) for row in ws.iter_rows() for c in row if c.value]
    assert f"百度网盘 战疫路上的劳动者.mp4 提取码 x7k2 {BAIDU}" in cells


@pytest.mark.servers
def test_a_quark_share_pasted_from_wechat_is_imported_and_waits_for_download(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a plain-text mail, pasted from WeChat, imported while IMAP is down
    app = intake("micro-video")
    eml = tmp_path / "share.eml"
    eml.write_bytes(_wechat_plain())

    out = _cli(app, "import", "--mailbox", "reports", str(eml))

    # Then it is accepted, the share recorded with its code, and the reply says it waits for download
    assert "accepted" in out
    msg = _stored(app)
    assert [(x["provider"], x["filename"], x["code"]) for x in msg.large_attachment_links] == [
        ("夸克网盘", "我们的家园.mp4", "AbCd")
    ]
    app.send_replies()
    (captured,) = smtp.wait_for(1)
    html = captured.message().get_body(("html",))
    assert html is not None
    assert "<li>夸克网盘：我们的家园.mp4，提取码 AbCd 已记录</li>" in str(html.get_content())


@pytest.mark.servers
def test_a_share_without_a_file_name_is_not_called_a_large_attachment(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a share pasted alone, with its code but no file name
    app = intake("micro-video")
    msg = EmailMessage()
    msg["From"] = "hnz@126.com"
    msg["To"] = "works@example.org"
    msg["Subject"] = "海南州总工会《我们的家园》"
    msg["Message-ID"] = make_msgid(domain="126.com")
    msg["Date"] = "Fri, 19 Jun 2020 09:30:00 +0800"
    msg.set_content(
        "海南州总工会报送微视频作品《我们的家园》。\n链接: https://pan.baidu.com/s/1AbCdEfGhIjK 提取码: x7k2\n"
    )
    eml = tmp_path / "share.eml"
    eml.write_bytes(msg.as_bytes())
    assert "accepted" in _cli(app, "import", "--mailbox", "reports", str(eml))
    # When it is answered
    app.send_replies()
    (captured,) = smtp.wait_for(1)
    body = captured.message().get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    # Then the unit reads that the name was not written, not that a net-disk share is a mail's large attachment
    assert "  - 百度网盘分享链接，提取码 x7k2 已记录" in text
    assert "超大附件" not in text
