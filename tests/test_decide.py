"""`intake decide` overrules a verdict: the unit gets a correction in the official style (none with
--no-send), the audit log says who, when and why, and the counts, digest and export follow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from webfixtures import populate, run, write_workbench_config

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from report.snapshot import gather
from store.audit import history, message_target
from store.enums import MessageStatus, ReplyKind, ReplyStatus
from store.models import Message, Reply


@pytest.fixture
def world(tmp_path: Path, db_url: str, smtp: SmtpSink) -> Iterator[tuple[Path, App, dict[str, int]]]:
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url, smtp=smtp)
    app = App.build(load(config))
    ids = populate(app, tmp_path)
    app.send_replies()  # the automatic answers went out before anyone looked
    smtp.clear()
    try:
        yield config, app, ids
    finally:
        app.close()


def _photos_accepted(app: App) -> int:
    (photos,) = [c for c in gather(app).collections if c.kind.value == "photography"]
    return photos.accepted


def test_a_rejection_overruled_sends_a_correction_and_counts(
    world: tuple[Path, App, dict[str, int]], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given: 青海省建设工会's photo was rejected as too small
    config, app, ids = world
    assert _photos_accepted(app) == 6
    # When
    result = run(config, "decide", str(ids["small"]), "accept", "--reason", "原片已另行寄送，经核对符合要求")
    # Then
    assert result.exit_code == 0, result.output
    assert f"message {ids['small']}: rejected -> accepted" in result.output
    assert "replies: sent 1" in result.output
    (mail,) = smtp.wait_for(1)
    message = mail.message()
    assert mail.rcpt_tos == ("jsgh@163.com",)
    assert str(message["Subject"]) == "更正：青海省建设工会《工地清晨》（经复核予以登记）"
    body = message.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert text.startswith("青海省建设工会：")
    assert "此前系统自动回复为“未通过”。经活动主办方人工复核，现更正如下" in text
    assert "复核意见：原片已另行寄送，经核对符合要求" in text
    assert message["X-Mailbox-Intake"] == "correction" and message["Auto-Submitted"] == "auto-replied"
    assert _photos_accepted(app) == 7
    with app.sessions() as session:
        (event,) = history(session, message_target(ids["small"]))
    assert event.summary == "审核结果由“退回”改为“通过”（已通知报送单位）"
    assert event.reason == "原片已另行寄送，经核对符合要求" and event.actor.startswith("cli:")
    export = tmp_path / "summary.xlsx"
    assert run(config, "export", "--xlsx", str(export)).exit_code == 0
    cells = [str(c.value) for row in load_workbook(export).worksheets[1].iter_rows() for c in row if c.value]
    assert "青海省建设工会 1 件" in "".join(cells)  # the collection sheet counts the work now


def test_an_acceptance_overruled_without_sending_tells_nobody(
    world: tuple[Path, App, dict[str, int]], smtp: SmtpSink
) -> None:
    config, app, ids = world
    result = run(config, "decide", str(ids["photo2"]), "reject", "--reason", "与往年获奖作品重复", "--no-send")
    assert result.exit_code == 0, result.output
    assert "the unit is not told (--no-send)" in result.output
    with app.sessions() as session:
        msg = session.get(Message, ids["photo2"])
        assert msg is not None and msg.status is MessageStatus.REJECTED
        assert msg.reasons == ["经主办方复核未通过：与往年获奖作品重复"]
        kinds = session.scalars(select(Reply.kind).where(Reply.message_id == ids["photo2"])).all()
    assert kinds == [ReplyKind.ACKNOWLEDGEMENT]
    assert _photos_accepted(app) == 5
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=1)


def test_a_second_change_rewrites_the_correction_and_keeps_the_first_in_the_log(
    world: tuple[Path, App, dict[str, int]], smtp: SmtpSink
) -> None:
    config, app, ids = world
    assert run(config, "decide", str(ids["small"]), "accept", "--reason", "核对无误").exit_code == 0
    smtp.wait_for(1)
    second = run(config, "decide", str(ids["small"]), "reject", "--reason", "原片为翻拍")
    assert second.exit_code == 0, second.output
    mails = smtp.wait_for(2)
    assert str(mails[1].message()["Subject"]) == "更正：青海省建设工会《工地清晨》（经复核未通过）"
    with app.sessions() as session:
        (reply,) = session.scalars(
            select(Reply).where(Reply.message_id == ids["small"], Reply.kind == ReplyKind.CORRECTION)
        ).all()
        assert reply.status is ReplyStatus.SENT and "原片为翻拍" in reply.body_text
        assert [e.summary for e in history(session, message_target(ids["small"]))] == [
            "审核结果由“退回”改为“通过”（已通知报送单位）",
            "审核结果由“通过”改为“退回”（已通知报送单位）",
        ]


def test_a_change_that_changes_nothing_is_refused(world: tuple[Path, App, dict[str, int]]) -> None:
    config, _, ids = world
    same = run(config, "decide", str(ids["photo1"]), "accept", "--reason", "x")
    assert same.exit_code == 1 and f"第 {ids['photo1']} 号邮件已经是“通过”" in same.output
    empty = run(config, "decide", str(ids["small"]), "accept", "--reason", "  ")
    assert empty.exit_code == 1 and "请写明改判理由" in empty.output
    assert run(config, "decide", "99999", "accept", "--reason", "x").exit_code == 1


def test_a_change_back_to_what_the_unit_was_told_sends_no_correction(
    world: tuple[Path, App, dict[str, int]], smtp: SmtpSink
) -> None:
    # Given: photo2 was acknowledged, then rejected without telling the unit
    config, app, ids = world
    assert run(config, "decide", str(ids["photo2"]), "reject", "--reason", "待核实", "--no-send").exit_code == 0
    # When: the host takes it back
    result = run(config, "decide", str(ids["photo2"]), "accept", "--reason", "核实无误")
    # Then: the unit still holds the acknowledgement; a correction saying "earlier: 未通过" would be false
    assert result.exit_code == 0, result.output
    assert "no correction: the last reply the unit got already said accepted" in result.output
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=1)
    with app.sessions() as session:
        summaries = [e.summary for e in history(session, message_target(ids["photo2"]))]
    assert summaries[-1] == "审核结果由“退回”改为“通过”（报送单位此前收到的回复已是“通过”，无需更正）"


def test_after_a_correction_a_silent_change_and_back_sends_nothing(
    world: tuple[Path, App, dict[str, int]], smtp: SmtpSink
) -> None:
    config, _, ids = world
    assert run(config, "decide", str(ids["small"]), "accept", "--reason", "核对无误").exit_code == 0
    smtp.wait_for(1)
    assert run(config, "decide", str(ids["small"]), "reject", "--reason", "再核", "--no-send").exit_code == 0
    again = run(config, "decide", str(ids["small"]), "accept", "--reason", "确认无误")
    assert "already said accepted" in again.output
    with pytest.raises(TimeoutError):
        smtp.wait_for(2, timeout=1)


def test_a_correction_to_a_unit_never_answered_does_not_claim_an_earlier_reply(
    world: tuple[Path, App, dict[str, int]], smtp: SmtpSink
) -> None:
    # Given: the rejection of the small photo never went out (kept unsent)
    config, app, ids = world
    with app.sessions.begin() as session:
        reply = session.scalars(select(Reply).where(Reply.message_id == ids["small"])).one()
        reply.status = ReplyStatus.SUPPRESSED
    # When
    assert run(config, "decide", str(ids["small"]), "accept", "--reason", "原片已另行寄送").exit_code == 0
    # Then: the unit reads the verdict, not a correction of a reply it never got
    (mail,) = smtp.wait_for(1)
    body = mail.message().get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "经活动主办方人工复核，结果如下：" in text and "该邮件予以登记" in text
    assert "此前" not in text and "作废" not in text


def test_a_report_accepted_by_a_host_counts_what_it_states(
    world: tuple[Path, App, dict[str, int]], tmp_path: Path
) -> None:
    # Given: a report without photos (they came by post), which states three activities, was rejected
    config, app, _ = world
    eml = tmp_path / "report.eml"
    eml.write_bytes(
        samples.offline_report(
            unit="西宁市总工会", photos=0, description="7月我会共开展线下活动3场，照片已另行邮寄至省总工会。"
        )
    )
    result = run(config, "import", "--mailbox", "reports", str(eml))
    assert result.exit_code == 0 and "rejected" in result.output, result.output
    with app.sessions() as session:
        report_id = session.scalars(select(Message.id).order_by(Message.id.desc()).limit(1)).one()
    # When a host accepts it
    result = run(config, "decide", str(report_id), "accept", "--reason", "照片已收到纸质版", "--no-send")
    assert result.exit_code == 0, result.output
    # Then it counts the three activities it states, as if it had been accepted when judged
    result = run(config, "count", str(report_id))
    assert result.exit_code == 0, result.output
    assert f"message {report_id} (西宁市总工会, accepted): counts 3 activities" in result.output
