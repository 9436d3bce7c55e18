"""End to end on the real servers: Dovecot in, the pipeline, SMTP out, SQLite or PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from store import queries
from store.enums import MessageStatus, ReplyKind, ReplyStatus, Stage
from store.models import Message

pytestmark = pytest.mark.servers


def _poll(app: App) -> None:
    app.poll()
    app.send_replies()


def _only(app: App) -> Message:
    with app.sessions() as session:
        rows = queries.messages(session)
    assert len(rows) == 1, [(m.id, m.status) for m in rows]
    return rows[0]


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_good_report_is_accepted_and_acknowledged_once(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, dovecot: Dovecot, imap_user: tuple[str, str]
) -> None:
    # Given a Foxmail report with two photos in the mailbox
    deliver(samples.offline_report(unit="西宁市总工会", photos=2, sender="xnzgh@163.com"))
    # When the intake polls twice
    _poll(app)
    _poll(app)
    # Then the report is accepted with its photos, and exactly one acknowledgement went out
    with app.sessions() as session:
        (msg,) = queries.messages(session)
        assert msg.status is MessageStatus.ACCEPTED
        assert msg.unit == "西宁市总工会"
        assert msg.subject == "西宁市总工会线下活动汇总"
        assert [a.kind.value for a in msg.attachments] == ["photo", "photo"]
        assert all(a.valid and a.counted for a in msg.attachments)
        assert msg.replies[0].kind is ReplyKind.ACKNOWLEDGEMENT
        assert msg.replies[0].status is ReplyStatus.SENT
        for a in msg.attachments:
            assert app.blobs.path(a.sha256).stat().st_size == a.size
    (captured,) = smtp.wait_for(1)
    reply = captured.message()
    assert list(captured.rcpt_tos) == ["xnzgh@163.com"]
    assert reply["To"] == "xnzgh@163.com"
    assert reply["Subject"].startswith("回复：西宁市总工会线下活动汇总")
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["X-Auto-Response-Suppress"] == "All"
    assert reply["In-Reply-To"] == msg.message_id
    assert msg.message_id is not None and msg.message_id in reply["References"]
    assert "已登记的文件（2 个）" in _text(reply)
    # and the message is still unread in the mailbox (BODY.PEEK)
    client = dovecot.client(imap_user[0])
    try:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search(["ALL"]))
    finally:
        client.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


def test_nothing_is_fetched_twice_across_polls_and_restarts(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    deliver(samples.offline_report(unit="海南州总工会", sender="hnz@126.com"))
    first = App.build(load(settings_path))
    first.poll()
    first.send_replies()
    first.engine.dispose()
    deliver(samples.offline_report(unit="黄南州总工会", sender="hn@126.com"))
    # a new process: everything rebuilt from the configuration
    second = App.build(load(settings_path))
    reports = second.poll()
    second.send_replies()
    assert [r.fetched for r in reports] == [1]
    assert second.poll()[0].fetched == 0
    second.send_replies()
    with second.sessions() as session:
        units = [m.unit for m in queries.messages(session)]
    second.engine.dispose()
    assert units == ["海南州总工会", "黄南州总工会"]
    assert sorted(c.rcpt_tos[0] for c in smtp.wait_for(2)) == ["hn@126.com", "hnz@126.com"]
    assert len(smtp.messages) == 2


@pytest.mark.parametrize(
    ("subject", "expected_unit_hint"),
    [
        ("西宁总工会活动照片", "西宁市总工会线下活动汇总"),  # wrong convention, unit recognisable
        ("海西州总工会线下活动汇总", "海南州总工会"),  # unknown unit, closest named
    ],
)
def test_wrong_subject_or_unknown_unit_is_rejected_with_closest_units(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, subject: str, expected_unit_hint: str
) -> None:
    deliver(samples.wrong_subject(subject=subject, sender="sender@163.com"))
    _poll(app)
    msg = _only(app)
    assert msg.status is MessageStatus.REJECTED
    assert msg.unit is None or subject.startswith("西宁")
    (captured,) = smtp.wait_for(1)
    reply = captured.message()
    text = _text(reply)
    assert "未通过" in reply["Subject"]
    assert expected_unit_hint in text
    assert "单位+线下活动汇总" in text and "西宁市总工会线下活动汇总" in text


def test_report_without_photo_is_rejected(app: App, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    # Given an Outlook reply ("答复: …", GB2312-labelled) that carries no photo
    deliver(samples.no_photo(unit="青海省建设工会", sender="js@126.com", client="outlook"))
    _poll(app)
    msg = _only(app)
    assert msg.status is MessageStatus.REJECTED
    assert msg.unit == "青海省建设工会"
    assert msg.reasons == ["邮件中没有活动照片"]
    reply = smtp.wait_for(1)[0].message()
    # the reply's subject does not stack prefixes; the body quotes the subject as sent
    assert reply["Subject"] == "回复：青海省建设工会线下活动汇总（未通过，请修改后重新发送）"
    text = _text(reply)
    assert "“答复: 青海省建设工会线下活动汇总”未能登记" in text
    assert "邮件中没有活动照片" in text
    assert "作为附件添加到邮件中" in text


@pytest.mark.parametrize(
    "make", [samples.auto_reply, samples.bounce, samples.list_message], ids=["auto-reply", "bounce", "list"]
)
def test_machine_mail_is_ignored_without_reply(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, make: Callable[[], bytes]
) -> None:
    deliver(make())
    _poll(app)
    msg = _only(app)
    assert msg.status is MessageStatus.IGNORED
    assert msg.reasons
    assert msg.replies == []
    assert smtp.messages == []


def test_encoded_newline_in_subject_cannot_add_header_or_recipient(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    evil = "西宁市总工会线下活动汇总\r\nBcc: victim@example.org\r\nX-Injected: yes"
    word = "=?utf-8?B?" + base64.b64encode(evil.encode()).decode() + "?="
    raw = samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"subject:")]
    # drop folded continuation lines of the old subject
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"subject:"):
            skipping = True
            continue
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        skipping = False
        kept.append(line)
    assert len(kept) <= len(lines)
    deliver(b"\r\n".join([*kept, b"Subject: " + word.encode()]) + b"\r\n\r\n" + body)
    _poll(app)
    (captured,) = smtp.wait_for(1)
    assert list(captured.rcpt_tos) == ["xnzgh@163.com"]
    reply = captured.message()
    assert reply["Bcc"] is None and reply["X-Injected"] is None
    head_bytes = captured.data.split(b"\r\n\r\n", 1)[0]
    assert b"victim@example.org" not in head_bytes.replace(b"\r\n ", b" ") or "\n" not in reply["Subject"]
    assert "victim" not in str(reply["To"])
    for name, value in reply.items():
        assert "\n" not in str(value) and "\r" not in str(value), name


def test_failure_is_recorded_with_stage_and_fixed_by_rerun(
    tmp_path: Path, settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    # Given an admin's template override with a mistake in it
    override = tmp_path / "templates" / "acknowledgement"
    override.mkdir(parents=True)
    (override / "body.txt").write_text("{{ no_such_value.attribute }}", encoding="utf-8")
    text = settings_path.read_text(encoding="utf-8")
    settings_path.write_text(text + '\n[replies]\ntemplates_dir = "templates"\n', encoding="utf-8")
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    app = App.build(load(settings_path))
    app.poll()
    app.send_replies()
    msg = _only(app)
    assert msg.status is MessageStatus.FAILED
    assert msg.failure_stage is Stage.DECIDE
    assert "UndefinedError" in (msg.failure_traceback or "")
    assert msg.attachments == []  # rolled back with the verdict
    assert smtp.messages == []
    app.engine.dispose()
    # When the admin removes the broken override and reruns the failed messages
    (override / "body.txt").unlink()
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(settings_path), "rerun", "--failed"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{msg.id}: accepted" in result.output
    assert "replies: sent 1" in result.output
    # a second rerun of an answered verdict sends nothing more, and nothing is fetched again
    again = runner.invoke(cli, ["--config", str(settings_path), "rerun", str(msg.id)], catch_exceptions=False)
    assert "replies: sent 0" in again.output
    polled = runner.invoke(cli, ["--config", str(settings_path), "poll", "--once"], catch_exceptions=False)
    assert "reports: fetched 0" in polled.output
    (captured,) = smtp.wait_for(1)
    assert len(smtp.messages) == 1
    assert captured.message()["Subject"].startswith("回复：西宁市总工会线下活动汇总")


def test_smtp_outage_never_fails_intake(settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    text = settings_path.read_text(encoding="utf-8").replace(f"port = {smtp.port}", "port = 1", 1)
    down = settings_path.with_name("down.toml")
    down.write_text(text, encoding="utf-8")
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    app = App.build(load(down))
    app.poll()
    report = app.send_replies()
    assert report.sent == 0 and report.retrying == 1
    msg = _only(app)
    assert msg.status is MessageStatus.ACCEPTED
    assert msg.replies[0].status is ReplyStatus.PENDING
    assert "port = 1" not in settings_path.read_text(encoding="utf-8")
    app.engine.dispose()
