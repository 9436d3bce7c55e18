"""One submission, one answer, judged by when it arrived: through the real Dovecot and SMTP server.

The same message delivered twice (a resend, an import and then the IMAP copy, two folders of one
address, a rescan after UIDVALIDITY changed) gets exactly one answer; the arrival time is the
server's INTERNALDATE (or an imported file's Received:/Date:), not the time it is processed; the same
photo in a report and in the photography collection is two submissions.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign.notice import LOCAL_TZ
from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import Captured, SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from store import queries
from store.enums import ArrivalSource, MessageStatus, ReplyKind
from store.models import Message

pytestmark = pytest.mark.servers

DESCRIPTION = "8月18日，西宁市总工会在城东区开展“网聚职工正能量”线下活动，参加职工120人。"


def _poll(app: App) -> None:
    app.poll()
    app.send_replies()


def _rows(app: App) -> list[Message]:
    with app.sessions() as session:
        return queries.messages(session)


def _text(captured: Captured) -> str:
    body = captured.message().get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _exactly_one_reply(app: App, smtp: SmtpSink) -> Captured:
    """After everything has been sent that will be, one reply went out."""
    (captured,) = smtp.wait_for(1)
    assert app.send_replies().sent == 0
    assert len(smtp.messages) == 1
    return captured


def _report(*, message_id: str | None = "default", photo: bytes | None = None, date: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "西宁市总工会 <xnzgh@163.com>"
    msg["To"] = samples.MAILBOX
    msg["Subject"] = "西宁市总工会线下活动汇总"
    if message_id is not None:
        msg["Message-ID"] = make_msgid(domain="163.com") if message_id == "default" else message_id
    if date is not None:
        msg["Date"] = date
    msg.set_content(DESCRIPTION)
    msg.add_attachment(
        photo or samples.jpeg(width=640, height=480), maintype="image", subtype="jpeg", filename="合影.jpg"
    )
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _as_lf_with_trailing_spaces(raw: bytes) -> bytes:
    """The same message as another client stores it: LF line endings, spaces after some lines."""
    return b"\n".join(line + (b"  " if i % 3 == 0 else b"") for i, line in enumerate(raw.split(b"\r\n")))


# -- one submission, one answer ------------------------------------------------------------------


def test_a_resent_message_gets_one_acknowledgement_and_shows_as_a_duplicate(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, settings_path: Path
) -> None:
    raw = _report(message_id="<resend-1@163.com>")
    deliver(raw)
    _poll(app)
    deliver(_as_lf_with_trailing_spaces(raw))  # the client sends it again, keeping its Message-ID
    _poll(app)
    first, second = _rows(app)
    assert (first.status, second.status) == (MessageStatus.ACCEPTED, MessageStatus.DUPLICATE)
    assert second.duplicate_of == first.id and second.replies == [] and second.attachments == []
    captured = _exactly_one_reply(app, smtp)
    assert captured.message()["Subject"] == "回复：西宁市总工会线下活动汇总（已收到）"
    # the admin's listing says which message it repeats
    listing = CliRunner().invoke(cli, ["--config", str(settings_path), "messages"], catch_exceptions=False)
    line = next(x for x in listing.output.splitlines() if x.lstrip().startswith(f"{second.id} "))
    assert "duplicate" in line and f"(duplicate of {first.id})" in line


def test_a_message_without_message_id_is_known_by_its_content(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    raw = _report(message_id=None, date="Tue, 18 Aug 2020 21:30:00 +0800")
    deliver(raw)
    deliver(_as_lf_with_trailing_spaces(raw))
    _poll(app)
    assert [m.status for m in _rows(app)] == [MessageStatus.ACCEPTED, MessageStatus.DUPLICATE]
    assert _exactly_one_reply(app, smtp).message()["Subject"].endswith("（已收到）")


def test_an_imported_file_then_its_imap_copy_get_one_answer(
    app: App, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a message imported during an IMAP outage
    raw = samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com")
    path = tmp_path / "outage.eml"
    path.write_bytes(raw)
    msg_id, status = app.import_file(mailbox="reports", path=path)
    assert status is MessageStatus.ACCEPTED
    # When the mailbox is polled once it is back
    deliver(raw)
    _poll(app)
    # Then the IMAP copy is recorded as a duplicate of the imported one, and one reply went out
    imported, fetched = _rows(app)
    assert imported.id == msg_id and fetched.status is MessageStatus.DUPLICATE and fetched.duplicate_of == msg_id
    assert [r.kind for r in imported.replies] == [ReplyKind.ACKNOWLEDGEMENT]
    _exactly_one_reply(app, smtp)


def test_two_folders_of_one_address_and_a_uidvalidity_change_give_one_answer(
    settings_path: Path, dovecot: Dovecot, imap_user: tuple[str, str], smtp: SmtpSink
) -> None:
    # Given the address's INBOX and its 归档 folder both configured (the unit's mail was filed there too)
    user = imap_user[0]
    folder = f"Archive{uuid.uuid4().hex[:6]}"
    client = dovecot.client(user)
    try:
        client.create_folder(folder)
    finally:
        client.logout()
    text = settings_path.read_text(encoding="utf-8")
    block = text[text.index("[[mailboxes]]") : text.index("[digest]")]
    text += "\n" + block.replace('name = "reports"', 'name = "archive"') + f'folder = "{folder}"\n'
    settings_path.write_text(text, encoding="utf-8")
    app = App.build(load(settings_path))
    raw = samples.offline_report(unit="海东市总工会", sender="hd@126.com")
    dovecot.append(user, raw)
    dovecot.append(user, raw, folder=folder)
    _poll(app)
    assert sorted(m.status.value for m in _rows(app)) == ["accepted", "duplicate"]
    # When the folder is recreated (a new UIDVALIDITY) with the message in it again
    client = dovecot.client(user)
    try:
        client.delete_folder(folder)
        client.create_folder(folder)
    finally:
        client.logout()
    dovecot.append(user, raw, folder=folder)
    _poll(app)
    # Then the rescan stores it again as a duplicate, and still exactly one answer went out
    statuses = [m.status.value for m in _rows(app)]
    assert sorted(statuses) == ["accepted", "duplicate", "duplicate"]
    captured = _exactly_one_reply(app, smtp)
    assert list(captured.rcpt_tos) == ["hd@126.com"]
    app.engine.dispose()


# -- arrival time --------------------------------------------------------------------------------


def _with_deadline(settings_path: Path, deadline: str = "2020-08-20") -> App:
    text = settings_path.read_text(encoding="utf-8").replace(
        "poll_seconds = 60", f"poll_seconds = 60\ndeadline = {deadline}", 1
    )
    settings_path.write_text(text, encoding="utf-8")
    return App.build(load(settings_path))


def test_a_report_that_arrived_on_time_is_not_late_when_processed_after_the_deadline(
    settings_path: Path, dovecot: Dovecot, imap_user: tuple[str, str], smtp: SmtpSink
) -> None:
    # Given a report the server received at 23:30 Beijing time on the deadline day, and one at 00:10
    # the day after; both are processed years later
    app = _with_deadline(settings_path)
    on_time = dt.datetime(2020, 8, 20, 23, 30, tzinfo=LOCAL_TZ)
    after = dt.datetime(2020, 8, 21, 0, 10, tzinfo=LOCAL_TZ)
    dovecot.append(imap_user[0], _report(), internaldate=on_time)
    dovecot.append(imap_user[0], _report(), internaldate=after)
    _poll(app)
    first, second = _rows(app)
    # Then the first is on time and says when it arrived; the second is marked late
    assert (first.status, first.late) == (MessageStatus.ACCEPTED, False)
    assert first.arrival_source is ArrivalSource.INTERNALDATE
    assert first.arrived_at == on_time.astimezone(dt.UTC).replace(tzinfo=None)
    assert first.received_at > first.arrived_at + dt.timedelta(days=365)  # the processing time is kept too
    assert (second.status, second.late) == (MessageStatus.ACCEPTED, True)
    assert "本邮件在截止日期2020年8月20日之后收到，已登记为逾期报送。" in second.notes
    assert not any("逾期" in n for n in first.notes)
    replies = {c.message()["In-Reply-To"]: _text(c) for c in smtp.wait_for(2)}
    assert "贵单位于 2020年8月20日 23:30 发送的邮件" in replies[first.message_id]
    assert "逾期" not in replies[first.message_id]
    assert "贵单位于 2020年8月21日 0:10 发送的邮件" in replies[second.message_id]
    assert "已登记为逾期报送" in replies[second.message_id]
    app.engine.dispose()


@pytest.mark.parametrize(
    ("head", "source", "when"),
    [
        (
            b"Received: from smtp.163.com (unknown [220.181.12.1])\r\n\tby mx.126.com (Coremail) with SMTP id x1;\r\n"
            b"\tThu, 20 Aug 2020 23:40:02 +0800 (CST)\r\n"
            b"Received: from pc (unknown [10.0.0.2]) by smtp.163.com; Thu, 20 Aug 2020 23:39:58 +0800\r\n",
            ArrivalSource.RECEIVED,
            "2020年8月20日 23:40",
        ),
        (b"", ArrivalSource.DATE, "2020年8月20日 23:39"),
    ],
    ids=["received", "date"],
)
def test_an_imported_file_arrived_when_its_newest_received_header_says(
    settings_path: Path, smtp: SmtpSink, tmp_path: Path, head: bytes, source: ArrivalSource, when: str
) -> None:
    app = _with_deadline(settings_path)
    path = tmp_path / "report.eml"
    path.write_bytes(head + _report(date="Thu, 20 Aug 2020 23:39:00 +0800"))
    app.import_file(mailbox="reports", path=path)
    app.send_replies()
    (msg,) = _rows(app)
    assert (msg.status, msg.late, msg.arrival_source) == (MessageStatus.ACCEPTED, False, source)
    assert f"贵单位于 {when} 发送的邮件" in _text(smtp.wait_for(1)[0])
    app.engine.dispose()


# -- duplicates within a collection --------------------------------------------------------------


def test_the_same_photo_in_a_report_and_in_the_photography_collection_is_accepted_in_both(
    settings_path: Path, dovecot: Dovecot, imap_user: tuple[str, str], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the photography mailbox beside the reports mailbox
    user, password = f"photo-{uuid.uuid4().hex[:10]}", secrets.token_urlsafe(12)
    dovecot.add_user(user, password)
    monkeypatch.setenv("INTAKE_TEST_PHOTO_PASSWORD", password)
    text = settings_path.read_text(encoding="utf-8")
    block = text[text.index("[[mailboxes]]") : text.index("[digest]")]
    text += "\n" + (
        block.replace('name = "reports"', 'name = "photos"')
        .replace('kind = "offline-activity"', 'kind = "photography"')
        .replace('address = "wxb0626@126.com"', 'address = "qhzgsy@126.com"')
        .replace(f'username = "{imap_user[0]}"', f'username = "{user}"')
        .replace("INTAKE_TEST_IMAP_PASSWORD", "INTAKE_TEST_PHOTO_PASSWORD")
    )
    settings_path.write_text(text, encoding="utf-8")
    app = App.build(load(settings_path))
    photo = samples.jpeg(width=2400, height=1600)
    # When a unit sends the photo with its report, and then as a photography work
    dovecot.append(imap_user[0], _report(photo=photo))
    _poll(app)
    work = EmailMessage()
    work["From"] = "xnzgh@163.com"
    work["To"] = "qhzgsy@126.com"
    work["Subject"] = "西宁市总工会《劳动者的笑脸》"
    work["Message-ID"] = make_msgid(domain="163.com")
    work.set_content("现报送摄影作品一幅，请查收。")
    work.add_attachment(photo, maintype="image", subtype="jpeg", filename="劳动者的笑脸.jpg")
    dovecot.append(user, work.as_bytes())
    _poll(app)
    # Then both are accepted with the photo counted in each; a second report with it is not new
    report, entry = _rows(app)
    assert (report.status, entry.status) == (MessageStatus.ACCEPTED, MessageStatus.ACCEPTED)
    assert [a.counted for a in report.attachments] == [True] and [a.counted for a in entry.attachments] == [True]
    texts = sorted(_text(c) for c in smtp.wait_for(2))
    assert all("已登记的文件（1 个）" in t for t in texts)
    assert not any("不重复计入" in t or "此前都已收到过" in t for t in texts)
    dovecot.append(imap_user[0], _report(photo=photo))
    _poll(app)
    again = _rows(app)[-1]
    assert again.status is MessageStatus.REJECTED
    assert again.reasons == ["邮件中的照片此前都已收到过，没有新的活动照片"]
    app.engine.dispose()
