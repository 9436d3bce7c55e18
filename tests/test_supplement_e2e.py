"""End to end (Dovecot or `intake import`, aiosmtpd, SQLite or PostgreSQL): a unit answering our
acknowledgement of its accepted report with more photos sends a supplement, acknowledged and stored,
that adds no activity and no report unless its own words state a number."""

from __future__ import annotations

import re
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from campaign.notice import local
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from store import queries
from store.enums import CountSource, MessageStatus
from store.models import ActivityCount, Message
from tests import clientmail as cm
from tests.clientmail import File
from tests.documentfactory import jpeg

pytestmark = pytest.mark.servers

Build = Callable[..., App]
UNIT = "海东市总工会"
SUBJECT = f"{UNIT}线下活动汇总"
SENDER = "hdszgh@163.com"
DESCRIPTION = "7月16日，我会组织机关干部职工开展“网聚职工正能量”网络安全知识讲座，参加职工60人。"
CLIENTS: list[cm.Client] = ["coremail", "qq", "outlook", "foxmail", "iphone"]
SUPPLEMENT = re.compile(r"已作为此前报告（(\d+)月(\d+)日）的补充材料登记")


def _photos(count: int, *, first: int) -> list[File]:
    return [File(f"IMG_{first + n}.jpg", jpeg((1600, 1200), shade=first + n), image=True) for n in range(count)]


def _cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _import(config: Path, path: Path, raw: bytes) -> str:
    path.write_bytes(raw)
    return _cli(config, "import", "--mailbox", "reports", str(path))


def _messages(app: App) -> list[Message]:
    with app.sessions() as session:
        return list(queries.messages(session))


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _digest(config: Path, tmp_path: Path) -> str:
    out = tmp_path / "digest.eml"
    _cli(config, "digest", "--preview", str(out))
    parsed = message_from_bytes(out.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return _text(parsed)


def _unit_line(digest: str, unit: str) -> str:
    (line,) = [row for row in digest.splitlines() if f"{unit}：" in row and "报告 " in row and " 份" in row]
    return line


@pytest.mark.parametrize("client", CLIENTS)
def test_more_photos_answering_our_acknowledgement_are_a_supplement_that_counts_nothing(
    intake: Build, smtp: SmtpSink, tmp_path: Path, client: cm.Client
) -> None:
    # Given a described report with photos, imported and acknowledged
    app = intake("offline-activity")
    config = tmp_path / "config.toml"
    first = cm.mail(
        client=client, sender=SENDER, name=UNIT, subject=SUBJECT, text=DESCRIPTION, files=_photos(2, first=1)
    )
    assert "accepted" in _import(config, tmp_path / "first.eml", first)
    ack = smtp.wait_for(1)[0].message()
    assert SUPPLEMENT.search(_text(ack)) is None
    smtp.clear()
    # When the unit answers the acknowledgement with more photos
    answer = cm.answer(ack, client=client, text="补充几张活动照片，请查收", files=_photos(2, first=11))
    assert "accepted" in _import(config, tmp_path / "answer.eml", answer)
    # Then it is acknowledged as a supplement of that report, its photos listed
    report, extra = _messages(app)
    assert (report.status, extra.status, extra.unit) == (MessageStatus.ACCEPTED, MessageStatus.ACCEPTED, UNIT)
    text = _text(smtp.wait_for(1)[0].message())
    day = local(report.arrived_at)
    assert SUPPLEMENT.findall(text) == [(str(day.month), str(day.day))], text
    assert "IMG_11.jpg" in text and "IMG_12.jpg" in text
    # the count explains itself, and the digest counts one report and one activity for the unit
    explained = f"补充第 {report.id} 号报告的材料，不另计场次"
    assert explained in _cli(config, "count", str(extra.id))
    digest = _digest(config, tmp_path)
    line = _unit_line(digest, UNIT)
    assert "报告 1 份｜照片 4 张" in line, line
    assert f"照片 2 张，{explained}" in digest, digest
    # and an admin can still count it
    _cli(config, "count", str(extra.id), "1", "--note", "另一场活动")
    assert "管理员更正为 1 场（另一场活动）" in _cli(config, "count", str(extra.id))


def test_a_supplement_through_dovecot_counts_the_number_it_states_and_reads_the_same_again(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a report accepted through the mailbox and acknowledged
    app = intake("offline-activity")
    config = tmp_path / "config.toml"
    deliver(
        cm.mail(client="qq", sender=SENDER, name=UNIT, subject=SUBJECT, text=DESCRIPTION, files=_photos(2, first=21))
    )
    app.poll()
    app.send_replies()
    ack = smtp.wait_for(1)[0].message()
    smtp.clear()
    # When the unit answers the acknowledgement with photos of two more activities
    words = "又开展线下活动2场，补充照片请查收"
    deliver(cm.answer(ack, client="qq", text=words, files=_photos(2, first=31)))
    app.poll()
    app.send_replies()
    # Then the supplement counts the 2 it states, and the unit has one report of 3 activities
    report, extra = _messages(app)
    assert SUPPLEMENT.search(_text(smtp.wait_for(1)[0].message()))
    explained = f"补充第 {report.id} 号报告的材料，写明“又开展线下活动2场”"
    shown = _cli(config, "count", str(extra.id))
    assert explained in shown and "2 activities" in shown, shown
    assert "报告 1 份｜照片 4 张" in _unit_line(_digest(config, tmp_path), UNIT)
    # and `db upgrade`'s re-read of the stored message gives the same count
    with app.sessions.begin() as session:
        session.execute(update(ActivityCount).values(rule=0, stated=None, phrase=None, source=None))
    _cli(config, "db", "upgrade")
    with app.sessions() as session:
        rows = {r.message_id: (r.stated, r.source, r.phrase) for r in session.query(ActivityCount)}
    assert rows[extra.id] == (2, CountSource.SUPPLEMENT, explained)
    assert rows[report.id][1] is not CountSource.SUPPLEMENT


def test_an_answer_to_another_units_acknowledgement_is_a_report_of_its_own(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given one unit's report, accepted and acknowledged
    app = intake("offline-activity")
    config = tmp_path / "config.toml"
    first = cm.mail(
        client="outlook", sender=SENDER, name=UNIT, subject=SUBJECT, text=DESCRIPTION, files=_photos(2, first=41)
    )
    assert "accepted" in _import(config, tmp_path / "first.eml", first)
    ack = smtp.wait_for(1)[0].message()
    smtp.clear()
    # When another unit's report answers that acknowledgement (a colleague reused the thread)
    other = "黄南州总工会"
    answer = cm.answer(
        ack, client="outlook", text=DESCRIPTION, files=_photos(2, first=51), subject=f"答复: {other}线下活动汇总"
    )
    assert "accepted" in _import(config, tmp_path / "answer.eml", answer)
    # Then it is that unit's own report: no supplement, one activity, one report each
    _, own = _messages(app)
    assert own.unit == other
    assert SUPPLEMENT.search(_text(smtp.wait_for(1)[0].message())) is None
    assert "补充第" not in _cli(config, "count", str(own.id))
    digest = _digest(config, tmp_path)
    assert "报告 1 份｜照片 2 张" in _unit_line(digest, UNIT)
    assert "报告 1 份｜照片 2 张" in _unit_line(digest, other)
