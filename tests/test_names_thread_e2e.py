"""End to end (Dovecot or `intake import`, aiosmtpd, SQLite or PostgreSQL): units named as people write
them, and units answering our own replies."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from store import queries
from store.enums import MessageStatus
from store.models import Message
from tests import replymail

pytestmark = pytest.mark.servers

Build = Callable[..., App]
UNITS = """
[[units]]
name = "中国铁路青藏集团有限公司工会"
former = ["青藏铁路公司工会"]
activity_quota = 5

[[units]]
name = "中国电信青海省分公司工会"
registered = "中国电信股份有限公司青海分公司工会"
activity_quota = 5

[[units]]
name = "青海油田工会"
"""


def _cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _messages(app: App) -> list[Message]:
    with app.sessions() as session:
        return list(queries.messages(session))


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _poll(app: App) -> None:
    app.poll()
    app.send_replies()


def _digest_text(config: Path, tmp_path: Path) -> str:
    out = tmp_path / "digest.eml"
    _cli(config, "digest", "--preview", str(out))
    from email import message_from_bytes, policy

    parsed = message_from_bytes(out.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return _text(parsed)


# -- the unit's name --------------------------------------------------------------------------


def test_a_registered_group_name_is_registered_as_the_roster_unit_and_told(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a report titled with the company's registered name, sent from 126 webmail
    app = intake("offline-activity", extra=UNITS)
    typed = "中国石油天然气股份有限公司青海油田分公司工会"
    deliver(samples.offline_report(unit=typed, subject=f"{typed}线下活动汇总", sender="qhyt@126.com", client="netease"))
    # When it is polled
    _poll(app)
    # Then it is accepted for 青海油田工会, the unit is told how, and the hosts are asked to check it
    (msg,) = _messages(app)
    assert (msg.status, msg.unit) == (MessageStatus.ACCEPTED, "青海油田工会")
    (captured,) = smtp.wait_for(1)
    reply = captured.message()
    assert reply["Subject"] == f"回复：{typed}线下活动汇总（已收到）"
    text = _text(reply)
    assert f"标题中的单位“{typed}”已按“青海油田工会”登记。" in text
    assert any(r.startswith(f"标题中的单位“{typed}”按名称相似认定为“青海油田工会”") for r in msg.remarks)
    show = _cli(tmp_path / "config.toml", "show", str(msg.id))
    assert "按名称相似认定为“青海油田工会”" in show


def test_two_units_about_as_likely_are_both_offered_back(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    app = intake("offline-activity", extra=UNITS)
    deliver(samples.offline_report(unit="南州总工会", sender="nz@163.com", client="qq"))
    _poll(app)
    (msg,) = _messages(app)
    assert msg.status is MessageStatus.REJECTED and msg.unit is None
    text = _text(smtp.wait_for(1)[0].message())
    assert "标题中的单位“南州总工会”无法确定是“海南州总工会”还是“黄南州总工会”" in text
    assert "请在标题中写明本单位在活动单位名单中的全称" in text


def test_traditional_characters_and_a_registered_name_through_import(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a QQ Mail report in traditional characters, the registered name and 开展情况汇总
    intake("offline-activity", extra=UNITS)
    subject = "中國電信股份有限公司青海分公司工會線下活動開展情況匯總"
    eml = tmp_path / "report.eml"
    eml.write_bytes(samples.offline_report(unit="中国电信", subject=subject, sender="qhdx@qq.com", client="qq"))
    # When it is imported
    out = _cli(tmp_path / "config.toml", "import", "--mailbox", "reports", str(eml))
    # Then it is accepted for the roster's name and the unit is told so
    assert "accepted" in out
    text = _text(smtp.wait_for(1)[0].message())
    assert "标题中的单位“中国电信股份有限公司青海分公司工会”已按“中国电信青海省分公司工会”登记。" in text
    assert "中国电信青海省分公司工会：" in text


def test_an_unknown_unit_is_quoted_whole(intake: Build, smtp: SmtpSink, tmp_path: Path) -> None:
    intake("offline-activity", extra=UNITS)
    eml = tmp_path / "report.eml"
    typed = "中国移动通信集团青海有限公司工会"
    eml.write_bytes(samples.offline_report(unit=typed, sender="yd@139.com", client="outlook"))
    out = _cli(tmp_path / "config.toml", "import", "--mailbox", "reports", str(eml))
    assert "rejected" in out
    text = _text(smtp.wait_for(1)[0].message())
    assert f"标题中的单位“{typed}”不在活动单位名单中" in text


# -- answers to our own replies ---------------------------------------------------------------


@pytest.mark.parametrize("client", ["qq", "netease", "outlook"])
def test_thanks_for_an_acknowledgement_is_a_conversation_never_answered(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path, client: replymail.Client
) -> None:
    # Given a report acknowledged by a reply that aiosmtpd captured
    app = intake("offline-activity", extra=UNITS)
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    _poll(app)
    ack = smtp.wait_for(1)[0].message()
    # When the unit answers it, In-Reply-To set, with thanks and our reply quoted
    deliver(replymail.answer(ack, client=client, text="收到，谢谢！"))
    _poll(app)
    app.send_replies()
    # Then the answer is recorded as a conversation, not answered, and the unit is not shown as rejected
    first, talk = _messages(app)
    assert first.status is MessageStatus.ACCEPTED
    assert talk.status is MessageStatus.CONVERSATION and talk.unit == "西宁市总工会"
    assert talk.replies == [] and len(smtp.messages) == 1
    assert talk.reasons == [f"对本服务确认回复（第 {first.id} 号邮件）的答复，未附新的报送材料"]
    assert talk.remarks == ["来信：收到，谢谢！"]
    config = tmp_path / "config.toml"
    assert "conversation" in _cli(config, "messages")
    digest = _digest_text(config, tmp_path)
    assert "回复：西宁市总工会线下活动汇总（已收到） · 来信：收到，谢谢！" in digest
    assert "退回后尚未重新报送（0）" in digest


def test_an_answer_with_photos_to_a_rejection_is_judged_and_the_subject_does_not_stack(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    # Given a report rejected for having no photo
    app = intake("offline-activity", extra=UNITS)
    deliver(samples.no_photo(unit="黄南州总工会", sender="hn@126.com", client="netease"))
    _poll(app)
    rejection = smtp.wait_for(1)[0].message()
    assert rejection["Subject"] == "回复：黄南州总工会线下活动汇总（未通过，请修改后重新发送）"
    # When the unit answers from Outlook with the photos attached
    deliver(
        replymail.answer(
            rejection,
            client="outlook",
            text="照片已补充，活动共一场，参加职工120人，请查收。",
            photos=[samples.jpeg(seed=7), samples.jpeg(seed=8)],
        )
    )
    _poll(app)
    # Then it is judged as a report and acknowledged under the report's own subject
    first, second = _messages(app)
    assert (first.status, second.status) == (MessageStatus.REJECTED, MessageStatus.ACCEPTED)
    assert second.unit == "黄南州总工会"
    ack = smtp.wait_for(2)[1].message()
    assert ack["Subject"] == "回复：黄南州总工会线下活动汇总（已收到）"


def test_a_question_quoting_our_reply_without_in_reply_to_is_shown_to_the_hosts(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given an imported report and its acknowledgement
    intake("offline-activity", extra=UNITS)
    config = tmp_path / "config.toml"
    report = tmp_path / "report.eml"
    report.write_bytes(samples.offline_report(unit="青海省建设工会", sender="js@126.com", client="netease"))
    assert "accepted" in _cli(config, "import", "--mailbox", "reports", str(report))
    ack = smtp.wait_for(1)[0].message()
    # When the unit asks a question from 126 webmail that lost In-Reply-To and References, quoting us
    question = tmp_path / "question.eml"
    question.write_bytes(
        replymail.answer(ack, client="netease", text="您好，请问照片需要发原图吗？谢谢。", threaded=False)
    )
    out = _cli(config, "import", "--mailbox", "reports", str(question))
    # Then it is a conversation, never answered, and its first words are in the digest for the hosts
    assert "conversation" in out
    assert len(smtp.messages) == 1
    digest = _digest_text(config, tmp_path)
    assert "来信：您好，请问照片需要发原图吗？谢谢。" in digest
    assert "封单位答复本服务回复的来信" in digest
    listed = _cli(config, "messages", "--status", "conversation")
    assert "js@126.com" in listed and "引用了本服务的回复" in listed
