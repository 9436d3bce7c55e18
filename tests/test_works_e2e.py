"""Works judged as the hosts would, end to end: real media in through Dovecot, the reply out over SMTP.

Phone photos of 108 MP, sound, durations as players show them, works in parts, named platforms,
per-photo verdicts and the hints that name the real mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mediafactory as mf
import pytest
from click.testing import CliRunner
from conftest import Build
from test_collections_e2e import mail, run

from campaign.notice import today
from devservers.smtpsink import SmtpSink
from intake.cli import cli
from report.digest import preview
from store.enums import MessageStatus

pytestmark = pytest.mark.servers

Deliver = Callable[[bytes], int]


# -- real cameras --------------------------------------------------------------------------------


@pytest.mark.slow
def test_phone_originals_of_108_and_85_megapixels_are_registered_with_their_size(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a 108 MP Xiaomi original (12032x9024) and an 85 MP one, as phones of 2020 take them
    big = mf.make_camera_jpeg(tmp_path, name="光明守护者.jpg", size=(12032, 9024))
    large = mf.make_camera_jpeg(tmp_path, name="巡线.jpg", size=(10640, 8000), make="HUAWEI", model="P40 Pro+")

    msg, text = run(intake("photography"), deliver, smtp, mail(big, large))

    # Then both are registered, with their real size recorded, and nothing calls them malicious
    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "已登记的文件（2 个）" in text and "光明守护者.jpg（JPEG 图片" in text and "巡线.jpg（JPEG 图片" in text
    assert "恶意" not in text and "像素过多" not in text
    sizes = [(a.facts["image"]["width"], a.facts["image"]["height"]) for a in msg.attachments]
    assert sizes == [(12032, 9024), (10640, 8000)]
    assert msg.remarks == ["照片“光明守护者.jpg”：相机 Xiaomi Mi 10。", "照片“巡线.jpg”：相机 HUAWEI P40 Pro+。"]


# -- sound ---------------------------------------------------------------------------------------


def test_a_micro_video_without_sound_is_rejected_with_how_to_fix_it(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    video = mf.make_video(tmp_path, name="无声.mp4", seconds=200, width=1280, height=720, audio=False)

    msg, text = run(intake("micro-video"), deliver, smtp, mail(video))

    assert msg.reasons == ["视频没有声音（没有音频轨道）"]
    assert "1. 视频没有声音（没有音频轨道）\n   修改方法：请在剪辑软件中保留同期声或配上解说、音乐" in text


def test_sound_can_be_waived_per_kind(intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path) -> None:
    video = mf.make_video(tmp_path, name="无声.mp4", seconds=200, width=1280, height=720, audio=False)

    app = intake("micro-video", extra="[rules.micro-video]\nrequire_audio = false\n")
    msg, _ = run(app, deliver, smtp, mail(video))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons


def test_a_silent_sound_track_is_noted_for_the_hosts_not_the_sender(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    video = mf.make_video(tmp_path, name="静音.mp4", seconds=200, width=1280, height=720, tone=False)

    app = intake("micro-video")
    msg, text = run(app, deliver, smtp, mail(video))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "视频“静音.mp4”有音频轨道，但全程几乎无声（最大音量 -91 dB），请核对声音。" in msg.remarks
    assert "无声" not in text.replace("静音.mp4", "")  # never in the reply
    shown = CliRunner().invoke(cli, ["--config", str(app.settings.path), "show", str(msg.id)], catch_exceptions=False)
    assert "for the hosts: 视频“静音.mp4”有音频轨道，但全程几乎无声" in shown.output
    digest = preview(app, day=today()).get_body(("plain",))
    assert digest is not None
    assert "备注：视频“静音.mp4”有音频轨道，但全程几乎无声" in str(digest.get_content())  # among the new mail


# -- durations as players show them --------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "reasons"),
    [
        (300.5, []),  # a player shows 5:00
        (179.52, ["视频时长 2分59秒，要求 3—5分钟"]),  # a player shows 2:59
        (320.4, ["视频时长 5分20秒，要求 3—5分钟"]),
    ],
    ids=["5:00.5", "2:59.5", "5:20.4"],
)
def test_a_micro_video_length_is_judged_as_players_show_it(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path, seconds: float, reasons: list[str]
) -> None:
    video = mf.make_video(tmp_path, name="作品.mp4", seconds=seconds, width=1280, height=720, fps=25)

    msg, text = run(intake("micro-video"), deliver, smtp, mail(video))

    assert msg.reasons == reasons
    for reason in reasons:
        assert f"1. {reason}\n   修改方法：请把视频剪辑到规定时长（3—5分钟）后重新发送。" in text


def test_a_tolerance_lets_a_few_seconds_over_pass(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    video = mf.make_video(tmp_path, name="作品.mp4", seconds=303, width=1280, height=720)

    app = intake("micro-video", extra="[rules.micro-video]\nduration_tolerance_seconds = 5\n")
    msg, _ = run(app, deliver, smtp, mail(video))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons


# -- works in parts ------------------------------------------------------------------------------


def test_two_parts_too_long_together_are_judged_by_their_total(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    first = mf.make_video(tmp_path, name="战疫（上）.mp4", seconds=200, width=1280, height=720)
    second = mf.make_video(tmp_path, name="战疫（下）.mp4", seconds=190, width=1280, height=720)

    msg, text = run(intake("micro-video"), deliver, smtp, mail(first, second))

    assert msg.reasons == [
        "作品分成了 2 个文件（“战疫（上）.mp4”“战疫（下）.mp4”），要求为一个完整的视频文件",
        "分段视频“战疫（上）.mp4”“战疫（下）.mp4”合计时长 6分30秒，要求 3—5分钟",
    ]
    assert "修改方法：请把分段的视频合并为一个文件后重新发送。" in text


@pytest.mark.parametrize(
    ("a", "b"), [("上集.mp4", "下集.mp4"), ("作品part1.mp4", "作品part2.mp4"), ("第一部分.mp4", "第二部分.mp4")]
)
def test_two_short_parts_are_asked_to_be_joined_once(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path, a: str, b: str
) -> None:
    first = mf.make_video(tmp_path, name=a, seconds=150, width=1280, height=720)
    second = mf.make_video(tmp_path, name=b, seconds=150, width=1280, height=720)

    msg, text = run(intake("micro-video"), deliver, smtp, mail(first, second))

    assert msg.reasons == [f"作品分成了 2 个文件（“{a}”“{b}”），要求为一个完整的视频文件"]  # not two "too short"
    assert "原因如下（共 1 项）" in text and "请把分段的视频合并为一个文件后重新发送。" in text


def test_a_micro_film_in_parts_is_one_work(intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path) -> None:
    first = mf.make_video(tmp_path, name="匠心(1).mp4", seconds=40, width=640, height=360)
    second = mf.make_video(tmp_path, name="匠心(2).mp4", seconds=50, width=640, height=360)

    msg, _ = run(intake("micro-film"), deliver, smtp, mail(first, second, subject="黄南州总工会《匠心》"))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert msg.remarks == ["作品分为 2 段（“匠心(1).mp4”“匠心(2).mp4”），合计 1分30秒，已按一部作品登记。"]


# -- service platforms ---------------------------------------------------------------------------


def test_a_named_platform_with_a_description_needs_no_link(intake: Build, deliver: Deliver, smtp: SmtpSink) -> None:
    body = '微信公众号"果洛职工之家"面向全州职工提供政策宣传、法律咨询和困难帮扶服务，关注人数两万余人。'

    msg, text = run(intake("service-platform"), deliver, smtp, mail(subject="海南州总工会《果洛职工之家》", body=body))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert "已记录平台名称：微信公众号“果洛职工之家”。" in text


def test_a_body_that_is_only_a_url_has_no_description(intake: Build, deliver: Deliver, smtp: SmtpSink) -> None:
    msg, text = run(
        intake("service-platform"),
        deliver,
        smtp,
        mail(subject="海南州总工会《职工之家》", body="https://zgzj.example.cn/app/index.html?from=qinghai"),
    )

    assert msg.reasons == ["邮件中没有平台的简要介绍（正文中除网址外少于 10 个字，也没有说明文档）"]
    assert "修改方法：请在正文中介绍平台的名称、服务内容和使用情况" in text


# -- photography, photo by photo -----------------------------------------------------------------


def test_good_photos_are_registered_and_a_small_one_is_named(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    good = [mf.make_jpeg(tmp_path, name=f"一线{i}.jpg", size=(2400, 1600)) for i in (1, 2)]
    small = mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600))

    msg, text = run(intake("photography"), deliver, smtp, mail(good[0], small, good[1]))

    assert msg.status is MessageStatus.ACCEPTED, msg.reasons
    assert [(a.display_name, a.counted) for a in msg.attachments] == [
        ("一线1.jpg", True),
        ("小图.jpg", False),
        ("一线2.jpg", True),
    ]
    registered = text.split("已登记的文件（2 个）：")[1].split("未登记的文件：")[0]
    assert "一线1.jpg" in registered and "一线2.jpg" in registered and "小图.jpg" not in registered
    assert "  - 小图.jpg：尺寸 800×600，要求长边至少 1920 像素\n" in text
    note = "照片“小图.jpg”尺寸 800×600，要求长边至少 1920 像素，未登记为作品；如需报送，请发送相机"
    assert f"请留意：\n  - {note}" in text


# -- hints that name the real mistake ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "make", "reason", "fix"),
    [
        (
            "recitation",
            lambda d: mf.make_audio(d, name="诵读.mp3", seconds=240, tone=True),
            "诵读作品须为视频（本邮件只有音频文件）",
            "请录制诵读的视频（画面中有诵读者，声音清楚），导出为 MP4 后重新发送。",
        ),
        (
            "micro-video",
            lambda d: mf.make_audio(d, name="作品.mp4", seconds=240, tone=True),
            "文件“作品.mp4”是 MP4 但没有画面（只有声音）",
            "微视频作品须为视频。请把作品制作成视频（画面与声音俱全），导出为 MP4 后重新发送。",
        ),
        (
            "micro-lesson",
            lambda d: mf.make_pptx(d, name="安全生产课件.pptx"),
            "微课须为录制的视频，不能只发课件（PPT）",
            "请边放课件边讲解，用 PowerPoint 的“录制幻灯片演示”或录屏软件录成视频",
        ),
    ],
    ids=["audio-recitation", "pictureless-mp4", "slides-lesson"],
)
def test_the_hint_names_the_real_mistake(
    intake: Build,
    deliver: Deliver,
    smtp: SmtpSink,
    tmp_path: Path,
    kind: str,
    make: Callable[[Path], Path],
    reason: str,
    fix: str,
) -> None:
    msg, text = run(intake(kind), deliver, smtp, mail(make(tmp_path)))

    assert msg.reasons == [reason]
    assert f"1. {reason}\n   修改方法：{fix}" in text
    assert "邮件中没有视频作品文件" not in text
