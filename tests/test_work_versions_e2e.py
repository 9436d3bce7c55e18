"""A unit's later mail about a work it registered: a resend, a supplement or a new version, end to end.

Real videos in through Dovecot, the replies out over SMTP; the digest counts the work once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import mediafactory as mf
import pytest
from conftest import Build
from openpyxl import load_workbook
from test_collections_e2e import SUBJECT, mail

from campaign.notice import today
from devservers.smtpsink import SmtpSink
from intake.app import App
from report.digest import preview
from report.export import export_xlsx
from store import queries
from store.enums import MessageStatus, WorkRole
from store.models import Message

pytestmark = pytest.mark.servers

Deliver = Callable[[bytes], int]


def _send(app: App, deliver: Deliver, smtp: SmtpSink, *raws: bytes) -> tuple[list[Message], list[str]]:
    """Deliver mails one poll each (as they would arrive), send the replies: the rows and reply texts."""
    for raw in raws:
        deliver(raw)
        app.poll()
    app.send_replies()
    with app.sessions() as session:
        rows = queries.messages(session)
    texts = []
    for captured in smtp.wait_for(len(raws)):
        body = captured.message().get_body(("plain",))
        assert body is not None
        texts.append(str(body.get_content()).replace("\r\n", "\n"))
    return rows, texts


def _digest(app: App) -> str:
    message = preview(app, day=today())
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _micro_videos(digest: str) -> str:
    found = re.search(r"网络正能量微视频征集（承办：[^）]*）：通过 \d+/6 件", digest)
    assert found is not None, digest
    return found.group(0)


def test_the_same_work_sent_again_is_a_resend_not_a_rejection(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a registered micro-video
    video = mf.make_video(tmp_path, name="战疫.mp4", seconds=200, width=1280, height=720)
    app = intake("micro-video")
    # When the unit sends the same video again, as the acknowledgement invites
    (first, again), (_, reply) = _send(app, deliver, smtp, mail(video), mail(video))
    # Then the second mail is told the work is registered, and is not rejected
    assert (first.status, again.status) == (MessageStatus.ACCEPTED, MessageStatus.ACCEPTED), again.reasons
    assert (again.work_role, again.work_of) == (WorkRole.RESEND, first.id)
    assert "作品《战疫路上的劳动者》已于" in reply and "无需重复发送" in reply
    assert "未能登记" not in reply and "此前都已收到过" not in reply
    # And the hosts count the work once
    digest = _digest(app)
    assert _micro_videos(digest).endswith("通过 1/6 件")
    assert f"重复发送：与第 {first.id} 号邮件登记的作品相同" in digest


def test_new_documents_beside_the_same_work_are_a_supplement(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    video = mf.make_video(tmp_path, name="战疫.mp4", seconds=200, width=1280, height=720)
    brief = mf.make_pdf(tmp_path, name="作品简介.pdf", text="Work introduction")
    app = intake("micro-video")

    (first, more), (_, reply) = _send(app, deliver, smtp, mail(video), mail(video, brief))

    assert more.status is MessageStatus.ACCEPTED, more.reasons
    assert (more.work_role, more.work_of) == (WorkRole.SUPPLEMENT, first.id)
    assert "新附的“作品简介.pdf”已补充到该作品" in reply
    assert [a.display_name for a in more.attachments if a.counted] == ["作品简介.pdf"]  # the PDF is kept
    assert _micro_videos(_digest(app)).endswith("通过 1/6 件")


def test_a_new_version_under_the_same_title_replaces_the_registered_one(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    old = mf.make_video(tmp_path, name="战疫.mp4", seconds=200, width=1280, height=720)
    new = mf.make_video(tmp_path, name="战疫（修改版）.mp4", seconds=230, width=1280, height=720)
    app = intake("micro-video")

    (first, second), (_, reply) = _send(app, deliver, smtp, mail(old), mail(new, subject=SUBJECT))

    assert second.status is MessageStatus.ACCEPTED, second.reasons
    assert (second.work_role, second.work_of) == (WorkRole.REPLACEMENT, first.id)
    assert "是作品《战疫路上的劳动者》的新版本，已替换" in reply
    digest = _digest(app)
    assert _micro_videos(digest).endswith("通过 1/6 件")
    assert f"新版本：替换第 {first.id} 号邮件登记的版本（两个版本都已保存）" in digest  # the hosts see both


def test_a_different_work_of_the_same_unit_is_a_second_work(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    one = mf.make_video(tmp_path, name="一.mp4", seconds=200, width=1280, height=720)
    two = mf.make_video(tmp_path, name="二.mp4", seconds=220, width=1280, height=720)
    app = intake("micro-video")

    (first, second), (_, reply) = _send(app, deliver, smtp, mail(one), mail(two, subject="西宁市总工会《夏都街头》"))

    assert (first.work_role, second.work_role, second.work_of) == (WorkRole.ORIGINAL, WorkRole.ORIGINAL, None)
    assert "已登记" in reply and "无需重复发送" not in reply
    assert _micro_videos(_digest(app)).endswith("通过 2/6 件")


def test_the_same_work_file_from_two_units_is_shown_to_the_hosts(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    video = mf.make_video(tmp_path, name="战疫.mp4", seconds=200, width=1280, height=720)
    app = intake("micro-video")

    rows, _ = _send(
        app, deliver, smtp, mail(video), mail(video, subject="海南州总工会《战疫路上》", sender="hnz@126.com")
    )

    assert [m.status for m in rows] == [MessageStatus.ACCEPTED, MessageStatus.ACCEPTED]
    digest = _digest(app)
    assert "作品文件相同" in digest
    assert "与海南州总工会报送的作品文件相同，请核实作品归属" in digest
    assert "与西宁市总工会报送的作品文件相同，请核实作品归属" in digest


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("摄影作品：西宁市总工会《光明守护者》", "光明守护者"),
        ("青海省西宁市总工会《夏都街头》", "夏都街头"),
        ("西宁市总工会-摄影作品《我骄傲，我是中国工人》", "我骄傲，我是中国工人"),
    ],
)
def test_work_subjects_as_people_write_them(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path, subject: str, title: str
) -> None:
    photo = mf.make_jpeg(tmp_path, name="作品.jpg", size=(2400, 1600))
    (msg,), (reply,) = _send(intake("photography"), deliver, smtp, mail(photo, subject=subject))
    assert (msg.status, msg.unit, msg.title) == (MessageStatus.ACCEPTED, "西宁市总工会", title), msg.reasons
    assert f"作品《{title}》已登记为网络正能量摄影作品征集的报送作品" in reply  # the sender's own characters


def test_a_work_from_a_unit_not_on_the_roster_is_told_so(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    photo = mf.make_jpeg(tmp_path, name="作品.jpg", size=(2400, 1600))
    (msg,), (reply,) = _send(intake("photography"), deliver, smtp, mail(photo, subject="西宁市城西区总工会《一线》"))
    assert msg.reasons == ["标题中的单位“西宁市城西区总工会”不在活动单位名单中"]
    assert "最接近的是：西宁市总工会" in reply and "不符合格式" not in reply


def test_the_export_names_versions_and_shared_files(
    intake: Build, deliver: Deliver, smtp: SmtpSink, tmp_path: Path
) -> None:
    old = mf.make_video(tmp_path, name="战疫.mp4", seconds=200, width=1280, height=720)
    new = mf.make_video(tmp_path, name="战疫2.mp4", seconds=230, width=1280, height=720)
    app = intake("micro-video")
    rows, _ = _send(
        app, deliver, smtp, mail(old), mail(new), mail(new, subject="海南州总工会《战疫路上》", sender="hnz@126.com")
    )
    out = tmp_path / "汇总表.xlsx"
    export_xlsx(app, out)
    detail = load_workbook(out)["报送明细"]
    reasons = {row[0].value: str(row[8].value or "") for row in detail.iter_rows(min_row=3)}
    first, second, third = (m.id for m in rows)
    assert f"新版本：替换第 {first} 号邮件登记的版本（两个版本都已保存）" in reasons[second]
    assert "作品文件与海南州总工会报送的相同，请核实作品归属" in reasons[second]
    assert "作品文件与西宁市总工会报送的相同，请核实作品归属" in reasons[third]
