"""A flood of forged senders through the real Dovecot and SMTP server: no mail cannon, no unit left waiting.

Two hundred mails from two hundred forged addresses (first contacts) arrive in one poll with the
mail of three real units (one on its unit's list of allowed senders, two that wrote and were
answered before). The first contacts get at most `unknown_sender_hourly` replies, each quoting a
short, cleaned part of the attacker's subject; the three units are all answered; the rest is held,
`intake status` says so and exits 1, the digest lists it, and when the hour has passed (row times
moved back, no sleeping) the next batch goes out. Forged mail that the provider's
Authentication-Results mark `dmarc=fail` is never answered, in the flood or after it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_config
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import Captured, SmtpSink
from intake.cli import cli
from store.db import make_engine
from store.enums import MessageStatus, ReplyStatus
from store.models import Message, Reply

pytestmark = [pytest.mark.servers, pytest.mark.slow]

CAP = 5  # unknown_sender_hourly
FLOOD = 200
FORGED_DMARC = 10  # of the flood, stamped dmarc=fail by the provider
TAIL = "点击领取补贴" * 25
ATTACK = "\x1b[31m紧急\u202e通知：" + TAIL  # about 160 characters, a terminal escape and a bidi override
POST = "青海省邮政公司工会"
NEW_UNIT = "hdszgh2020@qq.com"  # a unit writing for the first time, from an address on no list
KNOWN = {"xnzgh@163.com", "hnz@126.com", "post@qhyz.example.cn", NEW_UNIT}
EXTRA = f"""
[[units]]
name = "{POST}"
allowed_senders = ["qhyz.example.cn"]

[safety]
unknown_sender_hourly = {CAP}
global_hourly = 50
"""


def _text(captured: Captured) -> str:
    body = captured.message().get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _flood() -> list[bytes]:
    raws: list[bytes] = []
    for n in range(FLOOD):
        if n < FORGED_DMARC:
            raw = samples.wrong_subject(subject=ATTACK + str(n), sender=f"boss{n}@163.com", photos=0)
            raw = b"Authentication-Results: mx19; dmarc=fail (p=none) header.from=163.com\r\n" + raw
        else:
            raw = samples.wrong_subject(subject=ATTACK + str(n), sender=f"s{n}@forged{n}.example", photos=0)
        raws.append(raw)
    return raws


def _move_back(sessions: sessionmaker[Session], by: dt.timedelta) -> None:
    """Time passes: the replies were let out, and the held ones are due, `by` earlier."""
    with sessions.begin() as session:
        for reply in session.scalars(select(Reply)):
            if reply.counted_at is not None:
                reply.counted_at -= by
            if reply.status is ReplyStatus.HELD:
                reply.next_attempt_at -= by


def test_a_flood_of_forged_senders_is_capped_and_no_unit_waits(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(db_url)
    try:
        _flood_scenario(tmp_path, db_url, dovecot, smtp, imap_user, monkeypatch, sessionmaker(engine))
    finally:
        engine.dispose()


def _flood_scenario(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
    config = write_config(
        tmp_path / "config.toml", db_url=db_url, dovecot=dovecot, smtp=smtp, user=imap_user[0], extra=EXTRA
    )
    config.write_text(
        config.read_text(encoding="utf-8").replace("poll_seconds = 60", 'poll_seconds = 60\nauthserv_id = "mx19"'),
        encoding="utf-8",
    )
    runner = CliRunner()

    def intake(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        return result.exit_code, result.output

    # Given: two units wrote before and were answered
    dovecot.append_many(
        imap_user[0],
        [
            samples.offline_report(
                unit="西宁市总工会", sender="xnzgh@163.com", subject="西宁市总工会线下活动汇总（6月）"
            ),
            samples.offline_report(
                unit="海南州总工会", sender="hnz@126.com", subject="海南州总工会线下活动汇总（6月）"
            ),
        ],
    )
    code, out = intake("poll", "--once")
    assert code == 0 and "replies: sent 2," in out
    smtp.wait_for(2)
    smtp.clear()
    _move_back(sessions, dt.timedelta(days=1))  # that was yesterday

    # When: the flood arrives with the mail of four units, theirs in the middle and at the end (one of
    # them writing for the first time: its mail names its unit, so it is no stranger)
    raws = _flood()
    raws.insert(120, samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    raws.insert(60, samples.offline_report(unit="海南州总工会", sender="hnz@126.com"))
    raws.append(samples.offline_report(unit=POST, sender="post@qhyz.example.cn"))
    raws.insert(180, samples.offline_report(unit="海东市总工会", sender=NEW_UNIT))
    dovecot.append_many(imap_user[0], raws)
    code, out = intake("poll", "--once")

    # Then: the units and CAP first contacts are answered, the rest is held (the forged DMARC never)
    held = FLOOD - FORGED_DMARC - CAP
    assert code == 0, out
    assert f"fetched {FLOOD + 4}" in out
    assert f"replies: sent {CAP + 4}, to retry 0, given up 0, held by the caps {held}" in out
    captured = smtp.wait_for(CAP + 4)
    recipients = [c.rcpt_tos[0] for c in captured]
    assert set(recipients) >= KNOWN
    strangers = [c for c in captured if c.rcpt_tos[0] not in KNOWN]
    assert len(strangers) == CAP and not any(c.rcpt_tos[0].endswith("@163.com") for c in strangers)
    for c in strangers:  # a short, clean quotation of what the attacker wrote, nowhere the whole of it
        text, subject = _text(c), str(c.message()["Subject"])
        assert "紧急 通知：点击领取补贴" in text and TAIL[:40] not in text and TAIL[:40] not in subject
        assert "\x1b" not in text + subject and "[31m" not in text + subject and "\u202e" not in text + subject
        assert len(subject) <= len("回复：") + 30 + len("（未通过，请修改后重新发送）")

    code, out = intake("status")
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith("replies held:")]
    assert line.startswith(f"replies held: {held} by the caps on replies ({held} to first contacts), since ")
    assert f"attention: {held} reply(ies) held by the caps on replies" in out

    preview = tmp_path / "digest.txt"
    code, _ = intake("digest", "--preview", str(preview))
    digest = preview.read_text(encoding="utf-8")
    todo = digest.split("今日待办", 1)[1].split("截止日期", 1)[0]
    assert f"{held} 封自动回复因发送上限暂缓发送（均发给首次来信的陌生发件人）" in todo

    # When: an hour has passed (the times of the rows moved back)
    smtp.clear()
    _move_back(sessions, dt.timedelta(minutes=61))
    code, out = intake("poll", "--once")

    # Then: the next CAP go out, the oldest first, and the rest waits for the next hour
    assert f"replies: sent {CAP}, to retry 0, given up 0, held by the caps {held - CAP}" in out
    assert len(smtp.wait_for(CAP)) == CAP
    code, out = intake("status")
    assert code == 1 and f"replies held: {held - CAP} " in out
    with sessions() as session:  # forged mail that failed DMARC: recorded, never answered
        dmarc = session.execute(
            select(Reply.status, Message.status)
            .join(Message, Message.id == Reply.message_id)
            .where(Reply.recipient.like("boss%@163.com"))
        ).all()
    assert [tuple(row) for row in dmarc] == [(ReplyStatus.SUPPRESSED, MessageStatus.REJECTED)] * FORGED_DMARC

    # When: the admin gives up the rest (first asking how many)
    code, out = intake("replies", "drop-held")
    assert (
        code == 0
        and out.strip() == f"would give up {held - CAP} held replies to first contacts; run again with --yes to do it"
    )
    code, out = intake("replies", "drop-held", "--yes")
    assert (
        code == 0
        and out.strip() == f"gave up {held - CAP} held replies to first contacts: kept as suppressed, never sent"
    )

    # Then: nothing is held any more, nothing more goes out, and each reply says who gave it up
    code, out = intake("status")
    assert "replies held:" not in out
    smtp.clear()
    code, out = intake("poll", "--once")
    assert "replies: sent 0," in out and "held by the caps" not in out
    with sessions() as session:
        given_up = session.scalars(select(Reply.last_error).where(Reply.last_error.like("%由管理员放弃%"))).all()
    assert len(given_up) == held - CAP and all("cli:" in text for text in given_up if text)
