"""The daily digest on the real servers: its figures against the database, once per date, late days, escaping.

Traffic goes through the real pipeline: reports into the offline-activity mailbox on Dovecot, works
into a service-platform mailbox on Dovecot, one poll, the replies sent; then the digest is built.
The helpers here are also used by tests/test_export.py and tests/test_digest_render.py.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from campaign.notice import LOCAL_TZ
from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import Captured, SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from notify.digest import Outcome
from report.digest import catch_up, preview, send_digest
from store.enums import AttachmentKind, MessageStatus
from store.models import Attachment, DigestRun, Message

pytestmark = pytest.mark.servers

DAY = dt.date(2020, 6, 15)
EVIL_SUBJECT = '<script>alert(1)</script>某某总工会线下活动汇总"><img src=x onerror=alert(2)>'
LINK = "https://mail.qq.com/cgi-bin/ftnExs_download?k=7a3b&t=exs_ftn_download&code=9f2e"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in the campaign's time zone (the digest time is read in it)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_TZ)


@dataclass(frozen=True, kw_only=True)
class Campaign:
    """A configuration with the reports mailbox and a works (service-platform) mailbox, both on Dovecot."""

    config: Path
    reports: Callable[[bytes], int]
    works: Callable[[bytes], int]

    def app(self) -> App:
        return App.build(load(self.config))


@pytest.fixture
def campaign(
    settings_path: Path, dovecot: Dovecot, deliver: Callable[[bytes], int], monkeypatch: pytest.MonkeyPatch
) -> Campaign:
    user, password = f"works-{uuid.uuid4().hex[:10]}", secrets.token_urlsafe(12)
    dovecot.add_user(user, password)
    monkeypatch.setenv("INTAKE_TEST_WORKS_PASSWORD", password)
    text = settings_path.read_text(encoding="utf-8")
    text = text.replace('recipients = ["hosts@example.org"]', 'recipients = ["hosts@example.org", "wxb@example.org"]')
    text += f"""
[[mailboxes]]
name = "platforms"
kind = "service-platform"
address = "402598801@qq.com"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password_env = "INTAKE_TEST_WORKS_PASSWORD"
poll_seconds = 60
"""
    settings_path.write_text(text, encoding="utf-8")
    return Campaign(config=settings_path, reports=deliver, works=lambda raw: dovecot.append(user, raw))


@pytest.fixture
def app(campaign: Campaign) -> Iterator[App]:
    application = campaign.app()
    yield application
    application.engine.dispose()


def work(*, unit: str, title: str, sender: str, filename: str = "平台截图.jpg") -> bytes:
    """A work for a collection: `单位《作品名》` with one file, as a plain client sends it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "402598801@qq.com"
    msg["Subject"] = f"{unit}《{title}》"
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg["Date"] = "Mon, 15 Jun 2020 09:00:00 +0800"
    msg.set_content(f"现报送{unit}的普惠服务平台《{title}》，请查收。平台网址见截图。")
    msg.add_attachment(samples.jpeg(), maintype="image", subtype="jpeg", filename=filename)
    return msg.as_bytes()


def evil_report() -> bytes:
    """A report whose subject and file name carry markup, from a sender the roster does not know."""
    msg = EmailMessage()
    msg["From"] = "prankster@example.com"
    msg["To"] = samples.MAILBOX
    msg["Subject"] = EVIL_SUBJECT
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg["Date"] = "Mon, 15 Jun 2020 09:30:00 +0800"
    msg.set_content("本单位开展了线下活动，现报送照片，请查收。")
    msg.add_attachment(samples.jpeg(), maintype="image", subtype="jpeg", filename="<b>活动</b>&'照片\".jpg")
    return msg.as_bytes()


def load_traffic(campaign: Campaign, app: App) -> None:
    """A realistic morning: good reports (one stating 3 activities, one with a large-attachment link), a report
    without photo, a wrong subject, an auto-reply, sender markup, and three works (one sent twice)."""
    campaign.reports(samples.offline_report(unit="西宁市总工会", photos=2, sender="xnzgh@163.com"))
    campaign.reports(
        samples.offline_report(
            unit="西宁市总工会",
            photos=1,
            sender="xnzgh@163.com",
            client="netease",
            description="6月10日至12日，西宁市总工会共开展线下活动3场，参加职工260人，现报送活动图片。",
        )
    )
    campaign.reports(samples.offline_report(unit="海南州总工会", photos=1, sender="hnz@qq.com", client="qq"))
    campaign.reports(
        samples.offline_report(
            unit="青海省建设工会",
            photos=1,
            sender="js@126.com",
            description=(
                "6月8日青海省建设工会开展网络安全进工地活动，活动视频较大，用超大附件发送。\n"
                f"活动视频.mp4 (128.03M, 2020年06月17日 21:59 到期)\n进入下载页面：{LINK}"
            ),
        )
    )
    campaign.reports(samples.no_photo(unit="黄南州总工会", sender="hn@126.com"))
    campaign.reports(samples.wrong_subject(subject="活动照片", sender="someone@163.com"))
    campaign.reports(samples.auto_reply())
    campaign.reports(evil_report())
    campaign.works(work(unit="西宁市总工会", title="西宁职工之家", sender="xnzgh@163.com", filename='A&B "平台".jpg'))
    campaign.works(work(unit="海南州总工会", title="海南职工服务平台", sender="hnz@qq.com"))
    campaign.works(work(unit="西宁市总工会", title="西宁职工之家", sender="xnzgh@163.com"))  # the same work again
    app.poll()
    app.send_replies()


def digests(smtp: SmtpSink) -> list[Captured]:
    return [c for c in smtp.messages if c.message()["X-Mailbox-Intake"] == "digest"]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def db_unit(app: App, unit: str) -> tuple[int, int]:
    """(accepted reports, counted photos) of a unit, straight from the tables."""
    with app.sessions() as session:
        reports = (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.mailbox == "reports", Message.unit == unit, Message.status == MessageStatus.ACCEPTED)
            )
            or 0
        )
        photos = (
            session.scalar(
                select(func.count())
                .select_from(Attachment)
                .join(Message)
                .where(
                    Message.mailbox == "reports",
                    Message.unit == unit,
                    Message.status == MessageStatus.ACCEPTED,
                    Attachment.kind == AttachmentKind.PHOTO,
                    Attachment.counted.is_(True),
                )
            )
            or 0
        )
    return reports, photos


def test_figures_match_the_database(campaign: Campaign, app: App) -> None:
    load_traffic(campaign, app)
    text, html = parts(preview(app, day=DAY, now=at(DAY, 7, 30)))
    # per unit against Annex 1: activities by the rule, accepted reports and photos as in the tables
    expected = {"西宁市总工会": (4, 10), "海南州总工会": (1, 5), "黄南州总工会": (0, 5), "青海省建设工会": (1, 5)}
    for unit, (activities, quota) in expected.items():
        reports, photos = db_unit(app, unit)
        assert f"{unit}：{activities}/{quota} 场" in text
        line = rf"{unit}：{activities}/{quota} 场 [■□]+ \d+%｜报告 {reports} 份｜照片 {photos} 张"
        assert re.search(line, text), unit
    assert db_unit(app, "西宁市总工会") == (2, 3)
    assert "合计：6/25 场" in text
    # Annex 1 order in both parts
    for part in (text, html):
        positions = [part.index(u) for u in ("西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会")]
        assert positions == sorted(positions)
    # per collection: received and accepted against 6 (the same work twice counts once), works per unit
    assert "互联网+普惠服务优秀平台征集（承办：海南州总工会）：通过 2/6 件" in text
    assert "收到 3 封｜退回 0 封" in text
    assert "西宁市总工会：1，共 1 件" in text and "海南州总工会：1，共 1 件" in text
    # deadlines, counted from the digest's day
    assert "8月20日（还有 66 天）" in text and "9月25日（还有 102 天）" in text
    # the first digest lists everything (ignored mail excluded)
    assert "三、新邮件（首份日报，列出目前收到的全部邮件）：通过 7，退回 3，处理失败 0，待处理 0" in text
    # rejections still waiting, with why
    assert re.search(r"黄南州总工会 \[线下活动\].*邮件中没有活动照片", text)
    assert "someone@163.com [线下活动]" in text
    # the large-attachment link, with days left, linked in the HTML (escaped)
    assert "活动视频.mp4（128.03M），2020年06月17日 21:59 过期（还剩 2 天）" in text
    assert LINK.replace("&", "&amp;") in html
    # counts that are not the default are explained
    assert "计 3 场，正文中写明“西宁市总工会共开展线下活动3场”" in text
    # mailbox health: both polled just now
    assert "reports（线下活动，wxb0626@126.com）：正常" in text
    assert "platforms（普惠平台，402598801@qq.com）：正常" in text
    message = preview(app, day=DAY, now=at(DAY, 7, 30))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["To"] == "hosts@example.org, wxb@example.org"
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "收件日报 2020-06-15：线下活动 6/25 场，征集达标 0/1 项，待办 3 项"


def test_sender_text_is_escaped_in_html(campaign: Campaign, app: App) -> None:
    load_traffic(campaign, app)
    text, html = parts(preview(app, day=DAY, now=at(DAY, 7, 30)))
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b>活动" not in lowered
    assert "&lt;img src=x onerr" in html  # the subject is there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A&amp;B _平台_.jpg" in html  # a file name with & and quotes
    assert '"&gt;' not in html and "&#34;&gt;&lt;img" in html
    assert "<script>alert(1)</script>" in text  # the plain text shows what was sent
    # nothing from outside is loaded, nothing runs
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", lowered)
    assert not re.search(r"<[^>]*\s(src|on\w+)=", lowered)  # no tag loads anything or handles an event
    assert "javascript:" not in lowered and "@import" not in lowered and "url(" not in lowered


def test_sent_once_per_date_with_two_workers_and_a_restart(campaign: Campaign, smtp: SmtpSink) -> None:
    first, second = campaign.app(), campaign.app()
    load_traffic(campaign, first)
    smtp.clear()
    start = threading.Barrier(2)
    outcomes: list[Outcome] = []

    def worker(app: App) -> None:
        start.wait()
        outcomes.append(send_digest(app, day=DAY, now=at(DAY, 7, 30)))

    threads = [threading.Thread(target=worker, args=(a,)) for a in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == sorted([Outcome.SENT, Outcome.ALREADY_SENT]) or sorted(outcomes) == sorted(
        [Outcome.SENT, Outcome.IN_PROGRESS]
    )
    first.engine.dispose()
    second.engine.dispose()
    # a restart: the catch-up and a manual send find it sent
    third = campaign.app()
    assert catch_up(third, now=at(DAY, 9, 0)) is None
    assert send_digest(third, day=DAY, now=at(DAY, 9, 0)) is Outcome.ALREADY_SENT
    code = CliRunner().invoke(cli, ["--config", str(campaign.config), "digest", "--send", "--date", DAY.isoformat()])
    assert "already sent" in code.output
    with third.sessions() as session:
        run = session.get(DigestRun, DAY)
        assert run is not None and run.status == "sent" and not run.late
        assert sorted(run.sent_to) == ["hosts@example.org", "wxb@example.org"]
        assert run.through_message_id == session.scalar(select(func.max(Message.id)))
    third.engine.dispose()
    sent = digests(smtp)
    assert sorted(r for c in sent for r in c.rcpt_tos) == ["hosts@example.org", "wxb@example.org"]
    assert len({c.message()["Message-ID"] for c in sent}) == 1


def test_a_day_missed_while_down_is_sent_at_start_up_marked_late(campaign: Campaign, app: App, smtp: SmtpSink) -> None:
    load_traffic(campaign, app)
    # a fresh installation has nothing to catch up: the first digest comes at its time
    assert catch_up(app, now=at(DAY, 10)) is None
    assert send_digest(app, day=DAY, now=at(DAY, 7, 30)) is Outcome.SENT
    campaign.reports(samples.offline_report(unit="黄南州总工会", photos=1, sender="hn@126.com"))
    app.poll()
    app.send_replies()
    smtp.clear()
    # down from the evening of DAY until 10:00 three days later: one digest, for the last due day, late
    later = DAY + dt.timedelta(days=3)
    restarted = campaign.app()
    assert catch_up(restarted, now=at(later, 10)) == (later, Outcome.SENT)
    assert catch_up(restarted, now=at(later, 10, 15)) is None
    copies = digests(smtp)
    assert sorted(r for c in copies for r in c.rcpt_tos) == ["hosts@example.org", "wxb@example.org"]
    message = copies[0].message()
    assert message["Subject"].startswith("【补发】收件日报 2020-06-18")
    text, html = parts(message)
    assert "【补发】本期日报应于 6月18日" in text and "服务停止期间未发出的日报：6月16日、6月17日" in text
    assert "【补发】" in html
    # what is new since the last digest: only the report that came after it
    assert "三、新邮件（6月15日的日报以来）：通过 1，退回 0" in text
    assert "黄南州总工会：1/5 场" in text and "｜新增 1 场" in text
    assert "黄南州总工会 [线下活动]" not in text.split("四、")[1].split("五、")[0]  # no longer waiting
    with restarted.sessions() as session:
        assert session.get(DigestRun, later).late is True  # type: ignore[union-attr]
        assert session.get(DigestRun, DAY).late is False  # type: ignore[union-attr]
    # before the digest time the last due day is yesterday, which was sent
    assert catch_up(restarted, now=at(later + dt.timedelta(days=1), 7, 0)) is None
    restarted.engine.dispose()


def test_a_failed_try_and_a_dead_workers_claim_are_taken_over(campaign: Campaign, app: App, smtp: SmtpSink) -> None:
    load_traffic(campaign, app)
    smtp.clear()
    down = campaign.config.with_name("smtp-down.toml")
    down.write_text(
        re.sub(r"(\[smtp\]\nhost = \"[^\"]+\"\nport = )\d+", r"\g<1>1", campaign.config.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    broken = App.build(load(down))
    with pytest.raises(OSError):
        send_digest(broken, day=DAY, now=at(DAY, 7, 30))
    broken.engine.dispose()
    with app.sessions() as session:
        run = session.get(DigestRun, DAY)
        assert run is not None and run.status == "failed" and run.last_error and run.sent_to == []
    # the catch-up (every few minutes) sends it once SMTP is back; more than an hour after its time it is late
    assert catch_up(app, now=at(DAY, 8, 50)) == (DAY, Outcome.SENT)
    assert len(digests(smtp)) == 2
    # a claim held by a live worker is left alone; one left by a dead worker is taken over
    other = DAY + dt.timedelta(days=1)
    claimed = at(other, 7, 30).astimezone(dt.UTC).replace(tzinfo=None)
    with app.sessions.begin() as session:
        session.add(
            DigestRun(
                day=other,
                status="claimed",
                claimed_by="dead:1:x",
                attempts=1,
                sent_to=["wxb@example.org"],
                claimed_at=claimed,
            )
        )
    assert send_digest(app, day=other, now=at(other, 7, 35)) is Outcome.IN_PROGRESS
    assert send_digest(app, day=other, now=at(other, 8, 40)) is Outcome.SENT
    sent = digests(smtp)
    assert len(sent) == 3 and sent[-1].rcpt_tos == ("hosts@example.org",)  # the other one had it already
    with app.sessions() as session:
        run = session.get(DigestRun, other)
        assert run is not None and run.attempts == 2 and run.late


def test_admins_correct_a_count_from_the_cli(campaign: Campaign, app: App, tmp_path: Path) -> None:
    load_traffic(campaign, app)
    with app.sessions() as session:
        hainan = session.scalar(select(Message.id).where(Message.unit == "海南州总工会", Message.mailbox == "reports"))
        work_id = session.scalar(select(Message.id).where(Message.mailbox == "platforms"))
    assert hainan is not None and work_id is not None

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--config", str(campaign.config), *args], catch_exceptions=False)
        return result.exit_code, result.output

    code, out = run("count", str(hainan))
    assert code == 0 and "counts 1 activity: 正文、附件文档和标题中都未写场次，按 1 场计" in out
    code, out = run("count", str(hainan), "4", "--note", "电话核实：6月共4场")
    assert code == 0 and "counts 4 activities: 管理员更正为 4 场（电话核实：6月共4场）" in out
    text, _ = parts(preview(app, day=DAY, now=at(DAY, 7, 30)))
    assert "海南州总工会：4/5 场" in text and "合计：9/25 场" in text
    assert f"#{hainan} 海南州总工会：计 4 场，管理员更正为 4 场（电话核实：6月共4场）" in text
    code, out = run("count", str(hainan), "--auto")
    assert code == 0 and "counts 1 activity" in out
    assert "海南州总工会：1/5 场" in parts(preview(app, day=DAY, now=at(DAY, 7, 30)))[0]
    code, out = run("count", str(work_id), "2")
    assert code == 1 and "not an offline-activity mailbox" in out
    code, out = run("count", "99999")
    assert code == 1 and "no message with id 99999" in out


def test_failures_and_broken_mailboxes_need_an_admin(campaign: Campaign, app: App, tmp_path: Path) -> None:
    # an admin's broken acknowledgement template makes the next good report fail
    override = tmp_path / "templates" / "acknowledgement"
    override.mkdir(parents=True)
    (override / "body.txt").write_text("{{ no_such_value.attribute }}", encoding="utf-8")
    text = campaign.config.read_text(encoding="utf-8")
    campaign.config.write_text(text + '\n[replies]\ntemplates_dir = "templates"\n', encoding="utf-8")
    broken = campaign.app()
    campaign.reports(samples.offline_report(unit="西宁市总工会", photos=1, sender="xnzgh@163.com"))
    broken.poll()
    broken.engine.dispose()
    (override / "body.txt").unlink()
    # the works mailbox's server refuses the login from now on
    campaign.config.write_text(
        campaign.config.read_text(encoding="utf-8").replace(
            'password_env = "INTAKE_TEST_WORKS_PASSWORD"', 'password_env = "INTAKE_TEST_WRONG_PASSWORD"'
        ),
        encoding="utf-8",
    )
    fixed = campaign.app()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTAKE_TEST_WRONG_PASSWORD", "wrong")
        (refused,) = fixed.poll("platforms")
        assert refused.error is not None and re.search(r"(?i)auth|login", refused.error)
        text_part, html = parts(preview(fixed, day=DAY, now=at(DAY, 7, 30)))
    fixed.engine.dispose()
    admin = text_part.split("五、")[1].split("六、")[0]
    assert "处理失败（reports" in admin and "阶段 decide，已尝试 1 次" in admin and "intake rerun --failed" in admin
    assert re.search(
        r"platforms（普惠平台，402598801@qq.com）：连续失败 1 次，最近成功收信 .+。登录失败：邮箱密码或授权码有误。"
        r"请管理员.+\n    技术信息（供管理员）：LoginError: \S+",
        text_part,
    )
    assert "登录失败：邮箱密码或授权码有误" in html and "技术信息（供管理员）：LoginError" in html
    assert "reports（线下活动，wxb0626@126.com）：正常" in text_part
    assert "1 个邮箱收信异常：普惠平台（platforms），请管理员查看“邮箱状态”" in text_part
    assert "处理失败" in html and "连续失败 1 次" in html


def test_digest_templates_are_overridable(campaign: Campaign, app: App, tmp_path: Path, smtp: SmtpSink) -> None:
    (tmp_path / "templates" / "digest").mkdir(parents=True)
    (tmp_path / "templates" / "digest" / "subject.txt").write_text(
        "【网信工作】{{ day }} 线下活动 {{ unit_total.done }} 场", encoding="utf-8"
    )
    text = campaign.config.read_text(encoding="utf-8")
    campaign.config.write_text(text + '\n[replies]\ntemplates_dir = "templates"\n', encoding="utf-8")
    custom = campaign.app()
    load_traffic(campaign, custom)
    smtp.clear()
    assert send_digest(custom, day=DAY, now=at(DAY, 7, 30)) is Outcome.SENT
    custom.engine.dispose()
    assert {c.message()["Subject"] for c in digests(smtp)} == {"【网信工作】2020-06-15 线下活动 6 场"}


def test_preview_writes_eml_html_and_text(campaign: Campaign, app: App, tmp_path: Path) -> None:
    load_traffic(campaign, app)
    for name in ("digest.eml", "digest.html", "digest.txt"):
        result = CliRunner().invoke(
            cli,
            ["--config", str(campaign.config), "digest", "--preview", str(tmp_path / name), "--date", DAY.isoformat()],
        )
        assert result.exit_code == 0, result.output
    assert b"Auto-Submitted: auto-generated" in (tmp_path / "digest.eml").read_bytes()
    assert (tmp_path / "digest.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "一、线下活动" in (tmp_path / "digest.txt").read_text(encoding="utf-8")
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 0  # a preview records nothing


def test_a_fresh_installation_says_not_polled_yet_not_failing(app: App) -> None:
    # Given an installation whose mailboxes were never polled
    # When the hosts preview the digest
    text, html = parts(preview(app, day=DAY, now=at(DAY, 7, 30)))
    # Then every mailbox waits for its first poll, and none is reported as failing
    assert text.count("尚未收信（服务启动后还没有轮到这个邮箱）") == len(app.settings.mailboxes)
    assert "收信异常" not in text and "收信异常" not in html
