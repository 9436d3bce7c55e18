"""Guidelines and media typing end to end: real files in through Dovecot or `intake import`, the reply out.

A recitation longer than the notice's 以 3—8 分钟为宜 is accepted with a note and a remark for the
hosts; a camera-branded MP4, a WMA song, a DNG photo and courseware beside a narration are named and
judged by what they are.
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
from store import queries
from store.enums import MessageStatus

pytestmark = pytest.mark.servers

Deliver = Callable[[bytes], int]
RECITATION = "西宁市总工会《我骄傲，我是中国工人》"


# -- guidelines are not rules --------------------------------------------------------------------


def test_a_long_recitation_is_acknowledged_with_a_note_and_a_remark_for_the_hosts(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a 9分12秒 recitation video: the notice says 时间以 3—8 分钟为宜
    video = mf.make_video(tmp_path, name="诵读.mp4", seconds=552, width=640, height=360)

    app = intake("recitation")
    msg, text = run(app, deliver, smtp, mail(video, subject=RECITATION))

    # Then it is registered, the sender is told once, and the hosts see it in show and the digest
    assert (msg.status, msg.reasons) == (MessageStatus.ACCEPTED, [])
    assert "已登记的文件（1 个）" in text
    assert "请留意：\n  - 视频时长 9分12秒，通知建议 3—8分钟，请知悉。" in text
    assert msg.remarks == ["视频时长 9分12秒，通知建议 3—8分钟（按配置仅提醒，已受理）。"]
    shown = CliRunner().invoke(cli, ["--config", str(app.settings.path), "show", str(msg.id)], catch_exceptions=False)
    assert "for the hosts: 视频时长 9分12秒，通知建议 3—8分钟（按配置仅提醒，已受理）。" in shown.output
    digest = preview(app, day=today()).get_body(("plain",))
    assert digest is not None
    assert "备注：视频时长 9分12秒，通知建议 3—8分钟（按配置仅提醒，已受理）。" in str(digest.get_content())


def test_the_configuration_can_make_the_recitation_length_a_rule(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    video = mf.make_video(tmp_path, name="诵读.mp4", seconds=552, width=640, height=360)

    app = intake("recitation", extra='[rules.recitation.severity]\nduration = "reject"\n')
    msg, text = run(app, deliver, smtp, mail(video, subject=RECITATION))

    assert msg.reasons == ["视频时长 9分12秒，要求 3—8分钟"]
    assert "1. 视频时长 9分12秒，要求 3—8分钟\n   修改方法：请把视频剪辑到规定时长（3—8分钟）后重新发送。" in text


def test_a_micro_video_length_stays_a_rule(intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path) -> None:
    # 时间 3—5 分钟, stated flatly: still a rejection
    video = mf.make_video(tmp_path, name="作品.mp4", seconds=400, width=1280, height=720)

    msg, _ = run(intake("micro-video"), deliver, smtp, mail(video))

    assert msg.reasons == ["视频时长 6分40秒，要求 3—5分钟"]


# -- files known by their content ----------------------------------------------------------------


def test_a_sony_xavc_mp4_is_accepted_as_the_mp4_it_is(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    source = mf.make_video(tmp_path, name="source.mp4", seconds=200, width=1920, height=1080)
    video = mf.rebrand_mp4(source, tmp_path / "C0001.MP4", brand=b"XAVC")

    msg, text = run(intake("micro-video"), deliver, smtp, mail(video))

    assert (msg.status, msg.reasons) == (MessageStatus.ACCEPTED, [])
    assert "C0001.MP4（MP4 视频" in text and "不是视频" not in text


def test_a_wma_song_is_acknowledged_as_a_wma(intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path) -> None:
    song = mf.make_wma(tmp_path, name="劳动者之歌.wma", seconds=200)

    msg, text = run(intake("song"), deliver, smtp, mail(song, subject="海东市总工会《劳动者之歌》"))

    assert (msg.status, msg.reasons) == (MessageStatus.ACCEPTED, [])
    assert "劳动者之歌.wma（WMA 音频" in text and "WMV" not in text


def test_courseware_with_a_narration_is_told_what_the_mail_holds(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    slides = mf.make_slides(tmp_path, name="安全生产第一课.pptx")
    voice = mf.make_audio(tmp_path, name="讲解.mp3", seconds=240, tone=True)

    msg, text = run(intake("micro-lesson"), deliver, smtp, mail(slides, voice, subject="青海省建设工会《安全生产》"))

    reason = "微课须为录制的视频，本邮件只有课件（PPT）和音频文件，没有视频"
    assert msg.reasons == [reason]
    assert f"1. {reason}\n   修改方法：请边放课件边讲解，用 PowerPoint 的“录制幻灯片演示”" in text
    assert "只有音频文件）" not in text


def test_a_dng_photo_is_judged_by_its_real_size_through_intake_import(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a 2400×1600 DNG whose first picture is a 240×160 preview, and a DNG cut off in the middle
    good = mf.make_dng(tmp_path, name="巡线.dng", size=(2400, 1600), preview=(240, 160))
    whole = mf.make_dng(tmp_path, name="whole.dng", size=(640, 480)).read_bytes()
    cut = tmp_path / "夜班.dng"
    cut.write_bytes(whole[: len(whole) // 2])
    first, second = tmp_path / "1.eml", tmp_path / "2.eml"
    first.write_bytes(mail(good, subject="海南州总工会《光明守护者》"))
    second.write_bytes(mail(cut, subject="海南州总工会《夜班》"))

    app = intake("photography")
    result = CliRunner().invoke(
        cli,
        ["--config", str(app.settings.path), "import", "--mailbox", "reports", str(first), str(second)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    app.send_replies()
    with app.sessions() as session:
        accepted, refused = sorted(queries.messages(session), key=lambda m: m.id)
    texts = {}
    for captured in smtp.wait_for(2):
        body = captured.message().get_body(("plain",))
        assert body is not None
        texts[str(captured.message()["Subject"])] = str(body.get_content()).replace("\r\n", "\n")
    (good_text,) = [t for s, t in texts.items() if "光明守护者" in s]
    (cut_text,) = [t for s, t in texts.items() if "夜班" in s]

    # Then the readable one is registered at its real size, never its preview's
    assert accepted.status is MessageStatus.ACCEPTED, accepted.reasons
    assert "巡线.dng（RAW 格式照片（DNG）" in good_text and "240×160" not in good_text
    image = accepted.attachments[0].facts["image"]
    assert (image["width"], image["height"], image["format"]) == (2400, 1600, "DNG")
    # and the unreadable one is refused with what it truly is
    reason = "RAW 格式照片（DNG），无法读出其中的图像，请另发 JPEG 格式的原图"
    assert refused.reasons == [reason]
    assert reason in cut_text
