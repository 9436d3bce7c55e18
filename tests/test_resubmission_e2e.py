"""End to end (Dovecot or `intake import`, aiosmtpd, SQLite or PostgreSQL): a unit answering one of our
replies with something new is judged on its own words, never on our quoted reply, and a resubmission
in our thread completes the same unit's earlier mail."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign.notice import local
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from store import queries
from store.enums import MessageStatus
from store.models import Message
from tests import clientmail as cm
from tests.clientmail import File
from tests.documentfactory import jpeg

pytestmark = pytest.mark.servers

Build = Callable[..., App]
UNIT = "海东市总工会"
SUBJECT = f"{UNIT}线下活动汇总"
SENDER = "hdszgh@163.com"
DESCRIPTION = "7月16日，我会组织机关干部职工开展“网聚职工正能量”网络安全知识讲座，参加职工60人。"
NO_DESCRIPTION = "邮件中没有活动的简要说明（正文少于 10 个字，也没有说明文档）"
SAME = re.compile(r"简要说明沿用此前来信（(\d+)月(\d+)日）中的内容")
CLIENTS: list[cm.Client] = ["coremail", "qq", "outlook", "foxmail", "iphone"]


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
    from email import message_from_bytes, policy

    parsed = message_from_bytes(out.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return _text(parsed)


@pytest.mark.parametrize("client", CLIENTS)
def test_photos_alone_answering_a_rejection_for_no_description_are_rejected_again(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink, client: cm.Client
) -> None:
    # Given a report with photos but no description, rejected for that
    app = intake("offline-activity")
    deliver(cm.mail(client=client, sender=SENDER, name=UNIT, subject=SUBJECT, text="见附件", files=_photos(2, first=1)))
    app.poll()
    app.send_replies()
    rejection = smtp.wait_for(1)[0].message()
    assert NO_DESCRIPTION in _text(rejection)
    smtp.clear()
    # When the unit answers the rejection from its client with new photos and a few words only
    deliver(cm.answer(rejection, client=client, text="补发照片，请查收", files=_photos(2, first=5)))
    app.poll()
    app.send_replies()
    # Then it is rejected again because the description is still missing: our quoted words are not theirs
    first, second = _messages(app)
    assert (first.status, second.status) == (MessageStatus.REJECTED, MessageStatus.REJECTED)
    assert second.unit == UNIT
    assert second.reasons == [NO_DESCRIPTION], second.reasons
    (captured,) = smtp.wait_for(1)
    reply = captured.message()
    assert reply["Subject"] == f"回复：{SUBJECT}（未通过，请修改后重新发送）"
    text = _text(reply)
    assert "原因如下（共 1 项）" in text and NO_DESCRIPTION in text
    assert "已收到，感谢" not in text and SAME.search(text) is None
    # the second rejection says what we said once, never our first reply read back as the unit's words
    assert text.count("此邮件由") == 1 and "未能登记，原因如下" in text and text.count("未能登记") == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_photos_answering_a_rejection_for_no_photo_take_the_earlier_description(
    intake: Build, smtp: SmtpSink, tmp_path: Path, client: cm.Client
) -> None:
    # Given a described report without photos, imported and rejected for the missing photos
    app = intake("offline-activity")
    config = tmp_path / "config.toml"
    first = cm.mail(client=client, sender=SENDER, name=UNIT, subject=SUBJECT, text=DESCRIPTION)
    assert "rejected" in _import(config, tmp_path / "first.eml", first)
    rejection = smtp.wait_for(1)[0].message()
    assert "邮件中没有活动照片" in _text(rejection)
    smtp.clear()
    # When the unit answers it with the photos and “补发照片，请查收” only
    answer = cm.answer(rejection, client=client, text="补发照片，请查收", files=_photos(3, first=11))
    assert "accepted" in _import(config, tmp_path / "answer.eml", answer)
    # Then it is accepted: the description counts from the earlier mail, and the unit is told so once
    earlier, second = _messages(app)
    assert (earlier.status, second.status) == (MessageStatus.REJECTED, MessageStatus.ACCEPTED)
    text = _text(smtp.wait_for(1)[0].message())
    said = SAME.findall(text)
    day = local(earlier.arrived_at)
    assert said == [(str(day.month), str(day.day))], text
    assert "IMG_11.jpg" in text and "IMG_13.jpg" in text
    assert DESCRIPTION not in text and "没有活动照片" not in text
    assert any(f"沿用同一单位第 {earlier.id} 号邮件" in r for r in second.remarks), second.remarks
    assert f"沿用同一单位第 {earlier.id} 号邮件" in _cli(config, "show", str(second.id))
    # and the digest counts the unit once, with nothing left waiting after the rejection
    digest = _digest(config, tmp_path)
    (line,) = [row for row in digest.splitlines() if f"{UNIT}：" in row and "报告" in row]
    assert "报告 1 份｜照片 3 张" in line, line
    assert "有退回待重报" not in line
    assert "退回后尚未重新报送（0）" in digest


def test_the_earlier_description_counts_through_dovecot_only_for_the_same_unit(
    intake: Build, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    # Given a described report without photos from one unit, rejected
    app = intake("offline-activity")
    deliver(cm.mail(client="qq", sender=SENDER, name=UNIT, subject=SUBJECT, text=DESCRIPTION))
    app.poll()
    app.send_replies()
    rejection = smtp.wait_for(1)[0].message()
    smtp.clear()
    # When the same address answers that rejection with photos, once for its own unit and once
    # titled for another unit
    other = "黄南州总工会线下活动汇总"
    deliver(cm.answer(rejection, client="qq", text="补发照片", files=_photos(2, first=21), subject=f"回复：{other}"))
    deliver(cm.answer(rejection, client="qq", text="补发照片", files=_photos(2, first=31)))
    app.poll()
    app.send_replies()
    # Then only the answer for the same unit leans on the earlier description
    _, foreign, own = _messages(app)
    assert (foreign.unit, foreign.status, foreign.reasons) == ("黄南州总工会", MessageStatus.REJECTED, [NO_DESCRIPTION])
    assert (own.unit, own.status) == (UNIT, MessageStatus.ACCEPTED)
    texts = {str(c.message()["Subject"]): _text(c.message()) for c in smtp.wait_for(2)}
    assert SAME.search(texts[f"回复：{SUBJECT}（已收到）"])
    assert NO_DESCRIPTION in texts[f"回复：{other}（未通过，请修改后重新发送）"]


def test_a_description_alone_answering_a_rejection_for_no_description_is_a_conversation(
    intake: Build, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a report with photos rejected for having no description
    app = intake("offline-activity")
    config = tmp_path / "config.toml"
    first = cm.mail(client="coremail", sender=SENDER, name=UNIT, subject=SUBJECT, text="", files=_photos(2, first=41))
    assert "rejected" in _import(config, tmp_path / "first.eml", first)
    rejection = smtp.wait_for(1)[0].message()
    smtp.clear()
    # When the unit answers with the description only, no file
    answer = cm.answer(rejection, client="coremail", text=DESCRIPTION)
    assert "conversation" in _import(config, tmp_path / "answer.eml", answer)
    # Then it is not judged (the photos are not carried over): it is shown to the hosts with its words
    _, talk = _messages(app)
    assert talk.status is MessageStatus.CONVERSATION and talk.unit == UNIT
    assert talk.remarks and talk.remarks[0].startswith("来信：7月16日，我会组织机关干部职工")
    assert smtp.messages == []
    assert "来信：7月16日" in _digest(config, tmp_path)


@pytest.mark.parametrize("client", ["outlook", "coremail"])
def test_a_forwarded_report_keeps_its_forwarded_description(
    intake: Build, smtp: SmtpSink, tmp_path: Path, client: cm.Client
) -> None:
    # Given a colleague's report forwarded by the unit's office, with a short note on top
    intake("offline-activity")
    config = tmp_path / "config.toml"
    block = {
        "outlook": "发件人: 李明 <liming@163.com>\n发送时间: 2020年8月17日 9:30\n收件人: hdszgh@163.com\n",
        "coremail": '-------- 转发邮件信息 --------\n发件人："李明" <liming@163.com>\n发送日期：2020-08-17 09:30:12\n',
    }[client]
    prefix = {"outlook": "转发: ", "coremail": "Fw:"}[client]
    text = f"转发，请查收。\n\n{block}主题: {SUBJECT}\n\n{DESCRIPTION}\n"
    raw = cm.mail(
        client=client, sender=SENDER, name=UNIT, subject=f"{prefix}{SUBJECT}", text=text, files=_photos(2, first=51)
    )
    # When it is imported
    out = _import(config, tmp_path / "forward.eml", raw)
    # Then the forwarded part is the report: accepted on its description, nothing said about an earlier mail
    assert "accepted" in out, out
    reply = _text(smtp.wait_for(1)[0].message())
    assert SAME.search(reply) is None and "没有活动的简要说明" not in reply
