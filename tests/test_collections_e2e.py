"""The seven collections end to end: real media in through Dovecot, the verdict, the reply out over SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import mediafactory as mf
import pytest
from conftest import Build

from devservers.smtpsink import SmtpSink
from intake.app import App
from store import queries
from store.enums import MessageStatus
from store.models import Message

pytestmark = pytest.mark.servers

TITLE = "战疫路上的劳动者"
SUBJECT = f"西宁市总工会《{TITLE}》"
BODY = "现报送我单位职工创作的作品，请查收。联系人：许堃。"


def mail(
    *files: Path | tuple[str, Path], subject: str = SUBJECT, body: str = BODY, sender: str = "xnzgh@163.com"
) -> bytes:
    """A plain email with each file attached under its name (or the name given)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "works@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="163.com")
    msg["Date"] = "Thu, 18 Jun 2020 10:00:00 +0800"
    msg.set_content(body)
    for item in files:
        name, path = item if isinstance(item, tuple) else (item.name, item)
        msg.add_attachment(path.read_bytes(), maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def run(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, raw: bytes) -> tuple[Message, str]:
    """Deliver one mail, poll, send the reply; the stored message and the reply's text."""
    deliver(raw)
    app.poll()
    app.send_replies()
    with app.sessions() as session:
        (msg,) = queries.messages(session)
    (captured,) = smtp.wait_for(1)
    body = captured.message().get_body(("plain",))
    assert body is not None
    return msg, str(body.get_content()).replace("\r\n", "\n")


# -- micro-video ---------------------------------------------------------------------------------


def test_a_good_micro_video_is_acknowledged_with_what_was_counted(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a 3.5-minute 1280x720 MP4 sent to the micro-video mailbox
    video = mf.make_video(tmp_path, name=f"{TITLE}.mp4", seconds=210, width=1280, height=720)
    # When the intake polls
    msg, text = run(intake("micro-video"), deliver, smtp, mail(video))
    # Then it is accepted, the title recorded, the file counted, and the sender reminded of subtitles once
    assert (msg.status, msg.unit, msg.title, msg.reasons) == (MessageStatus.ACCEPTED, "西宁市总工会", TITLE, [])
    assert text.startswith("西宁市总工会：\n")
    assert "感谢贵单位对“网聚职工正能量·争做中国好网民”主题活动的支持" in text
    assert f"作品《{TITLE}》已登记为网络正能量微视频征集的报送作品" in text
    assert "已登记的文件（1 个）" in text
    assert f"{TITLE}.mp4（MP4 视频" in text
    assert text.count("字幕") == 2  # one reminder: "…已配字幕（字幕压在画面里的…）"
    assert msg.remarks == [f"视频“{TITLE}.mp4”没有单独的字幕轨道。"]  # for the hosts
    assert msg.attachments[0].facts["media"]["has_subtitles"] is False


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda d: mf.make_video(d, name="作品.mp4", seconds=130, width=1280, height=720),
            "视频时长 2分10秒，要求 3—5分钟",
        ),
        (
            lambda d: mf.make_video(d, name="作品.mp4", seconds=200, width=720, height=1280),
            "画面比例 9:16（竖屏），要求 16:9（横屏）",
        ),
        (
            lambda d: mf.make_video(d, name="作品.mp4", seconds=200, width=960, height=720),
            "画面比例 4:3（横屏），要求 16:9（横屏）",
        ),
        (
            lambda d: mf.make_video(d, name="作品.mp4", seconds=200, rotation=90, width=1280, height=720),
            "画面比例 9:16（竖屏），要求 16:9（横屏）",
        ),
        (
            lambda d: mf.truncated_copy(mf.make_video(d, seconds=200, width=1280, height=720), d, name="作品.mp4"),
            "视频文件不完整（被截断）",
        ),
        (lambda d: mf.make_text(d, name="作品.mp4"), "文件“作品.mp4”不是视频（实际为文本文件）"),
    ],
    ids=["too-short", "portrait", "four-three", "rotated", "truncated", "text-named-mp4"],
)
def test_a_broken_micro_video_is_rejected_with_the_exact_reason(
    intake: Build,
    deliver: Callable[[bytes], int],
    smtp: SmtpSink,
    tmp_path: Path,
    make: Callable[[Path], Path],
    reason: str,
) -> None:
    msg, text = run(intake("micro-video"), deliver, smtp, mail(make(tmp_path)))

    assert msg.status is MessageStatus.REJECTED
    assert msg.reasons == [reason]
    assert f"原因如下（共 1 项）：\n\n1. {reason}\n" in text
    assert "作品.mp4（" in text  # the files received are listed


# -- song ----------------------------------------------------------------------------------------


def test_a_four_minute_song_is_accepted(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    song = mf.make_audio(tmp_path, name="劳动者之歌.mp3", seconds=240)

    msg, text = run(intake("song"), deliver, smtp, mail(song, subject="青海省建设工会劳动者之歌"))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "已登记的文件（1 个）" in text
    assert "劳动者之歌.mp3（MP3 音频" in text


def test_a_six_minute_song_is_rejected(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    song = mf.make_audio(tmp_path, name="小样.m4a", seconds=360)

    msg, text = run(intake("song"), deliver, smtp, mail(song))

    assert msg.reasons == ["录音时长 6分钟，要求 5分钟以内"]
    assert "1. 录音时长 6分钟，要求 5分钟以内" in text


# -- photography ---------------------------------------------------------------------------------


def test_good_photos_are_accepted_with_their_exif(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    photo = mf.make_jpeg(
        tmp_path, name="劳模风采.jpg", size=(2000, 1333), taken_at=dt.datetime(2020, 6, 18, 9, 30), make="Canon"
    )

    msg, text = run(intake("photography"), deliver, smtp, mail(photo))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "劳模风采.jpg（JPEG 图片" in text
    assert "请留意" not in text and "Canon" not in text  # camera facts are for the hosts
    assert msg.remarks == ["照片“劳模风采.jpg”：拍摄于2020年6月18日 9:30，相机 Canon。"]
    assert msg.attachments[0].facts["image"]["camera"] == "Canon"


def test_a_small_photo_is_rejected(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    photo = mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600))

    msg, text = run(intake("photography"), deliver, smtp, mail(photo))

    assert msg.reasons == ["照片“小图.jpg”尺寸 800×600，要求长边至少 1920 像素"]
    assert "1. 照片“小图.jpg”尺寸 800×600，要求长边至少 1920 像素" in text


def test_photo_limits_come_from_the_config(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    photo = mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600))

    msg, _ = run(
        intake("photography", extra="[rules.photography]\nphoto_min_long_side = 800\n"), deliver, smtp, mail(photo)
    )

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons


# -- service platforms, micro-film, late ---------------------------------------------------------


def test_a_service_platform_link_is_recorded_and_shown(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    body = "“职工之家”微信小程序为职工提供法律援助和困难帮扶服务，访问地址：https://zgzj.example.cn/app"

    msg, text = run(intake("service-platform"), deliver, smtp, mail(subject="海南州总工会《职工之家》", body=body))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert msg.notes == [
        "已记录平台名称：微信小程序“职工之家”。",
        "已记录正文中的平台链接（1 个）：https://zgzj.example.cn/app",
    ]
    assert "已记录正文中的平台链接（1 个）：https://zgzj.example.cn/app" in text


def test_a_late_work_is_rejected_when_the_config_says_so(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    film = mf.make_video(tmp_path, name="微电影.mp4", seconds=30, width=320, height=240)
    app = intake("micro-film", extra='[rules.micro-film]\nlate = "reject"\n', deadline="2020-08-20")

    msg, text = run(app, deliver, smtp, mail(film, subject="黄南州总工会《匠心》"))

    assert msg.status is MessageStatus.REJECTED
    assert msg.late is True
    (reason,) = msg.reasons
    assert reason.endswith("报送截止日期为2020年8月20日，已逾期")
    assert reason in text
    assert "说明：报送已截止" in text
    assert "重新发送" not in text  # a late work cannot be fixed by sending it again
