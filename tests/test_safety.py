"""Auto-reply safety beyond the header rules: per-sender, global and first-contact caps, loop detection.

A reply into a loop is still written, as SUPPRESSED with its reason, and never sent; a reply over a
cap is HELD with its reason and sent when the cap allows.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_offline_config
from sqlalchemy import select, update

from campaign.settings import ConfigError, SafetySettings
from devservers import samples
from ingest.rules.caps import embeds_own_reply, subject_key
from intake.app import App
from intake.config import load
from notify.render import Rendered
from notify.replies import SendReport, compose, new_reply, send_pending
from store import queries
from store.enums import MessageStatus, ReplyKind, ReplyStatus
from store.models import Message, Reply

SENDER = "xnzgh@163.com"


def _config(tmp_path: Path, db_url: str, safety: str = "") -> Path:
    return write_offline_config(
        tmp_path / "config.toml", db_url=db_url, smtp="port = 1\ntimeout_seconds = 1", extra=safety
    )


@pytest.fixture
def db(tmp_path: Path, db_url: str) -> tuple[Path, str]:
    return tmp_path, db_url


def build(tmp_path: Path, db_url: str, safety: str = "") -> App:
    return App.build(load(_config(tmp_path, db_url, safety)))


@pytest.fixture
def intake(tmp_path: Path, db_url: str) -> Iterator[App]:
    app = build(tmp_path, db_url)
    yield app
    app.engine.dispose()


def judge(app: App, raw: bytes, tmp_path: Path) -> Message:
    path = tmp_path / f"{hashlib.sha256(raw).hexdigest()[:16]}.eml"
    path.write_bytes(raw)
    msg_id, _ = app.import_file(mailbox="reports", path=path)
    assert msg_id is not None
    with app.sessions() as session:
        (msg,) = queries.messages(session, ids=[msg_id])
    return msg


def report_of_day(day: int) -> bytes:
    """A good report from SENDER; each day's subject differs, so no two look like a loop."""
    return samples.offline_report(sender=SENDER, subject=f"西宁市总工会线下活动汇总（6月{day}日）")


def statuses(app: App) -> list[ReplyStatus]:
    with app.sessions() as session:
        return [m.replies[0].status for m in queries.messages(session) if m.replies]


# -- the pieces ------------------------------------------------------------------------------------


def test_subject_key_removes_what_loops_add() -> None:
    base = subject_key("西宁市总工会线下活动汇总")
    for looped in (
        "Re: 回复：西宁市总工会线下活动汇总",
        "自动回复: RE: Re：西宁市总工会线下活动汇总",
        "Automatic reply: 回复: 西宁市总工会线下活动汇总",
        "  ＲＥ：西宁市总工会线下活动汇总 ",
    ):
        assert subject_key(looped) == base, looped
    assert subject_key("海南州总工会线下活动汇总") != base
    assert subject_key(None) == ""


def test_our_header_is_found_inside_a_message_only_as_a_header_line() -> None:
    attached = b"From: a@b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nX-Mailbox-Intake: rejection\r\n"
    assert embeds_own_reply(attached)
    assert embeds_own_reply(b"From: a@b\r\n\r\n> x-mailbox-intake : acknowledgement\r\n")
    assert not embeds_own_reply(b"From: a@b\r\n\r\nwe talked about X-Mailbox-Intake: in the meeting\r\n")


# -- caps ------------------------------------------------------------------------------------------
# The caps are applied when replies are sent: a reply over a cap is HELD (deferred), never dropped.
# The SMTP port is 1, so what the caps let out stays pending (to retry) and nothing is sent.


def send(app: App) -> SendReport:
    return send_pending(sessions=app.sessions, settings=app.settings.smtp, safety=app.settings.safety)


def test_one_sender_gets_at_most_ten_replies_a_day(intake: App, tmp_path: Path) -> None:
    for day in range(1, 12):  # eleven different reports, each answered on its own merits
        judge(intake, report_of_day(day), tmp_path)
    judge(intake, samples.offline_report(unit="海南州总工会", sender="hnz@126.com"), tmp_path)
    assert statuses(intake) == [ReplyStatus.PENDING] * 12  # written with the verdict, not yet let out
    assert send(intake).held == 1
    assert statuses(intake) == [ReplyStatus.PENDING] * 10 + [ReplyStatus.HELD, ReplyStatus.PENDING]
    with intake.sessions() as session:
        messages = queries.messages(session)
        eleventh, first = messages[10], messages[0]
    assert eleventh.status is MessageStatus.ACCEPTED  # the verdict stands; only the reply waits
    reply = eleventh.replies[0]
    assert "24 小时内已收到 10 封自动回复（上限 10 封），暂缓发送" in (reply.last_error or "")
    assert first.replies[0].counted_at is not None
    assert reply.next_attempt_at == first.replies[0].counted_at + dt.timedelta(hours=24)  # when room is made
    assert reply.body_text  # what will be sent is kept


def test_the_daily_cap_is_a_rolling_window_and_a_held_reply_goes_out_in_it(intake: App, tmp_path: Path) -> None:
    for day in range(1, 12):
        judge(intake, report_of_day(day), tmp_path)
    send(intake)
    assert statuses(intake)[-1] is ReplyStatus.HELD
    with intake.sessions.begin() as session:  # the ten were let out 25 hours ago, the held one is due
        for reply in session.scalars(select(Reply)):
            if reply.counted_at is not None:
                reply.counted_at -= dt.timedelta(hours=25)
            reply.next_attempt_at -= dt.timedelta(hours=25)
    assert send(intake).held == 0
    assert statuses(intake)[-1] is ReplyStatus.PENDING  # let out (SMTP is down here: it waits to be retried)
    with intake.sessions() as session:
        last = queries.messages(session)[-1].replies[0]
    assert last.last_error is not None and "暂缓" not in last.last_error and last.attempts == 1


def test_held_replies_are_not_sent_before_their_time(intake: App, tmp_path: Path) -> None:
    for day in range(1, 12):
        judge(intake, report_of_day(day), tmp_path)
    send(intake)
    with intake.sessions.begin() as session:  # pretend the ten went out
        session.execute(update(Reply).where(Reply.status == ReplyStatus.PENDING).values(status=ReplyStatus.SENT))
    # the SMTP port is 1: had anything been claimed, this would count a retry
    report = send(intake)
    assert (report.sent, report.retrying, report.given_up, report.held) == (0, 0, 0, 0)
    assert statuses(intake)[-1] is ReplyStatus.HELD


def test_the_global_hourly_cap_counts_known_senders(tmp_path: Path, db_url: str) -> None:
    app = App.build(
        load(
            write_offline_config(
                tmp_path / "config.toml",
                db_url=db_url,
                smtp="port = 1\ntimeout_seconds = 1",
                unit_extra='allowed_senders = ["xining.gov.cn"]',
                extra="[safety]\nglobal_hourly = 3",
            )
        )
    )
    try:
        for n in range(5):
            judge(
                app,
                samples.offline_report(sender=f"unit{n}@xining.gov.cn", subject=f"西宁市总工会线下活动汇总{n}"),
                tmp_path,
            )
        assert send(app).held == 2
        assert statuses(app) == [ReplyStatus.PENDING] * 3 + [ReplyStatus.HELD] * 2
        with app.sessions() as session:
            last = queries.messages(session)[-1]
        assert not last.replies[0].first_contact  # on the unit's list
        assert "最近一小时已发出 3 封自动回复（全局上限 3 封），暂缓发送" in (last.replies[0].last_error or "")
    finally:
        app.engine.dispose()


def test_first_contacts_have_their_own_cap_and_never_hold_a_known_sender(tmp_path: Path, db_url: str) -> None:
    app = build(tmp_path, db_url, "[safety]\nglobal_hourly = 3\nunknown_sender_hourly = 2")
    try:
        known = judge(app, report_of_day(1), tmp_path)  # SENDER writes first, naming its unit: no stranger
        for n in range(5):
            judge(app, samples.wrong_subject(subject=f"活动{n}", sender=f"stranger{n}@126.com"), tmp_path)
        send(app)
        with app.sessions.begin() as session:  # SENDER's reply went out
            session.get(Reply, known.replies[0].id).status = ReplyStatus.SENT  # type: ignore[union-attr]
        judge(app, report_of_day(2), tmp_path)  # now a known sender: wrote before and was answered
        judge(app, report_of_day(3), tmp_path)
        send(app)
        with app.sessions() as session:
            rows = [(m.sender, m.replies[0].first_contact, m.replies[0].status) for m in queries.messages(session)]
        assert rows == [
            (SENDER, False, ReplyStatus.SENT),
            ("stranger0@126.com", True, ReplyStatus.PENDING),
            ("stranger1@126.com", True, ReplyStatus.PENDING),
            ("stranger2@126.com", True, ReplyStatus.HELD),  # the first contacts' cap (2) is used up
            ("stranger3@126.com", True, ReplyStatus.HELD),
            ("stranger4@126.com", True, ReplyStatus.HELD),
            (SENDER, False, ReplyStatus.PENDING),  # the global cap (3) is the known senders' own
            (SENDER, False, ReplyStatus.PENDING),
        ]
        with app.sessions() as session:
            held = queries.messages(session)[3].replies[0]
        assert "首次来信的陌生发件人发出 2 封自动回复（上限 2 封），暂缓发送" in (held.last_error or "")
    finally:
        app.engine.dispose()


def test_a_rerun_never_adds_a_reply_to_a_held_one(intake: App, tmp_path: Path) -> None:
    for day in range(1, 12):
        judge(intake, report_of_day(day), tmp_path)
    send(intake)
    with intake.sessions() as session:
        ids = [m.id for m in queries.messages(session)]
    intake.rerun(ids)
    send(intake)
    assert statuses(intake) == [ReplyStatus.PENDING] * 10 + [ReplyStatus.HELD]


# -- loops -----------------------------------------------------------------------------------------


def test_a_burst_of_identical_subjects_from_one_sender_is_a_loop(intake: App, tmp_path: Path) -> None:
    # a responder that answers each of our replies with the same subject, prefixes piling up
    subjects = [
        "西宁总工会活动照片",
        "Re: 西宁总工会活动照片",
        "回复：Re: 西宁总工会活动照片",
        "Re: 回复：Re: 西宁总工会活动照片",
        "Re: Re: 回复：Re: 西宁总工会活动照片",
        "西宁总工会活动照片",
    ]
    for subject in subjects:
        judge(intake, samples.wrong_subject(subject=subject, sender=SENDER), tmp_path)
    judge(intake, samples.wrong_subject(subject="西宁总工会活动照片", sender="other@126.com"), tmp_path)
    assert statuses(intake) == [ReplyStatus.PENDING] * 4 + [ReplyStatus.SUPPRESSED] * 2 + [ReplyStatus.PENDING]
    with intake.sessions() as session:
        fifth = queries.messages(session)[4]
    assert fifth.status is MessageStatus.REJECTED
    assert "60 分钟内发来 5 封标题相同的邮件" in (fifth.replies[0].last_error or "")


def test_a_message_carrying_one_of_our_replies_is_not_answered(intake: App, tmp_path: Path) -> None:
    # one of our rejections, as a responder sends it back: attached, without Auto-Submitted
    first = judge(intake, samples.wrong_subject(subject="活动照片", sender=SENDER), tmp_path)
    ours = compose(first.replies[0], sender="wxb0626@126.com").as_bytes()
    raw = (
        b"From: xnzgh@163.com\r\nTo: wxb0626@126.com\r\nSubject: =?UTF-8?B?"
        + base64.b64encode("Re: 活动照片".encode())
        + b"?=\r\n"
        b"Message-ID: <loop-1@163.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="L"\r\n\r\n--L\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        + "您的邮件已收到。".encode()
        + b"\r\n--L\r\nContent-Type: message/rfc822\r\n\r\n"
        + ours
        + b"\r\n--L--\r\n"
    )
    msg = judge(intake, raw, tmp_path)
    # it carries nothing but our own reply: a conversation, kept for the hosts and never answered
    assert msg.status is MessageStatus.CONVERSATION
    assert [r for r in msg.replies if r.status is not ReplyStatus.SUPPRESSED] == []
    # our reply itself, sent back as it is, is ignored outright (the header rule)
    returned = judge(intake, ours, tmp_path)
    assert returned.status is MessageStatus.IGNORED and returned.replies == []


def test_the_new_reply_rows_are_pending_by_default() -> None:
    msg = Message(mailbox="reports", uidvalidity=0, uid=1, raw_size=1, sender=SENDER, message_id="<a@b>")
    reply = new_reply(
        message=msg,
        kind=ReplyKind.REJECTION,
        rendered=Rendered(subject="s", text="t", html="h"),
        sender="wxb0626@126.com",
    )
    assert reply is not None and reply.status is ReplyStatus.PENDING  # only the pipeline's hold suppresses


# -- configuration ---------------------------------------------------------------------------------


def test_safety_settings_default_and_are_checked(db: tuple[Path, str]) -> None:
    tmp_path, db_url = db
    assert load(_config(tmp_path, db_url)).safety == SafetySettings()
    assert SafetySettings().per_sender_daily == 10
    settings = load(
        _config(
            tmp_path,
            db_url,
            "[safety]\nper_sender_daily = 3\nglobal_hourly = 50\nunknown_sender_hourly = 4\n"
            "loop_subjects = 4\nloop_minutes = 30",
        )
    )
    assert settings.safety == SafetySettings(
        per_sender_daily=3, global_hourly=50, unknown_sender_hourly=4, loop_subjects=4, loop_minutes=30
    )
    assert SafetySettings().unknown_sender_hourly == 10
    for bad, message in [
        ("per_sender_daily = 0", r"safety.per_sender_daily: must be at least 1, got 0"),
        ('global_hourly = "many"', r"safety.global_hourly: expected an integer, got 'many'"),
        ("loop_subjects = 1", r"safety.loop_subjects: must be at least 2, got 1"),
        ("unknown_sender_hourly = 0", r"safety.unknown_sender_hourly: must be at least 1, got 0"),
        ("per_sender = 3", r"safety.per_sender: unknown key"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load(_config(tmp_path, db_url, f"[safety]\n{bad}"))
