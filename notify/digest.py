"""The hosts' daily digest: the view its templates read, the message, and sending it once per date.

The figures are gathered by `report.digest` and handed over as a DigestView; this module only shapes
the email (multipart/alternative, Chinese, `Auto-Submitted: auto-generated`) and makes sure each date's
digest goes out once whatever the workers do: the date is the primary key of the digests table, the
first worker to insert it holds the claim; a failed try, or a claim left by a worker that died (older
than LEASE), is taken over by a conditional update, and the recipients already sent to are skipped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os
import secrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import OWN_HEADER
from campaign.settings import SmtpSettings
from notify.render import Renderer
from notify.safe import clean_header
from notify.smtp import SmtpConnection
from store.models import DigestRun, utcnow

LEASE = dt.timedelta(minutes=10)  # a claim older than this was left by a worker that died
BAR_CELLS = 10


# -- the view the templates read -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Progress:
    """done against a target, for bars: percent is capped at 100, the text keeps the real figures."""

    done: int
    target: int | None

    @property
    def percent(self) -> int:
        if not self.target:
            return 0
        return min(100, round(100 * self.done / self.target))

    @property
    def reached(self) -> bool:
        return bool(self.target) and self.done >= (self.target or 0)

    @property
    def text_bar(self) -> str:
        filled = round(self.percent * BAR_CELLS / 100)
        return "■" * filled + "□" * (BAR_CELLS - filled)


@dataclass(frozen=True, kw_only=True)
class Deadline:
    date: str  # 8月20日
    what: str
    days_left: int  # negative when past

    @property
    def state(self) -> str:
        if self.days_left > 0:
            return f"还有 {self.days_left} 天"
        if self.days_left == 0:
            return "今天截止"
        return f"已过 {-self.days_left} 天"


@dataclass(frozen=True, kw_only=True)
class UnitRow:
    number: str  # its number in Annex 1, empty for units without a quota
    name: str
    activities: Progress
    reports: int  # accepted reports
    photos: int  # photos counted in them
    last_report: str  # 6月3日, or — when none
    new: int  # activities added since the last digest
    waiting: bool  # a rejected report not yet sent again


@dataclass(frozen=True, kw_only=True)
class CollectionRow:
    number: int
    label: str
    organiser: str
    address: str
    works: Progress  # accepted works against the minimum of 6
    received: int  # submissions (mails) received, whatever their verdict
    rejected: int
    new: int


@dataclass(frozen=True, kw_only=True)
class MatrixRow:
    """Works accepted per unit, one cell per collection (Annex 1 order)."""

    unit: str
    cells: tuple[int, ...]
    total: int


@dataclass(frozen=True, kw_only=True)
class NewItem:
    id: int
    when: str
    collection: str
    who: str
    subject: str
    status: str  # 通过 / 退回 / 失败 / 待处理
    tone: str  # ok / warn / bad / wait, for the colour
    detail: str  # files, or the first reason


@dataclass(frozen=True, kw_only=True)
class WaitingItem:
    who: str
    collection: str
    subject: str
    reasons: tuple[str, ...]
    since: str
    days: int
    times: int  # how many times rejected without an accepted resubmission


@dataclass(frozen=True, kw_only=True)
class AdminItem:
    id: int
    what: str  # 处理失败 / 回复未能发出 / 未处理
    mailbox: str
    since: str
    subject: str
    detail: str


@dataclass(frozen=True, kw_only=True)
class LinkItem:
    who: str
    filename: str
    size: str
    expires: str
    days_left: int | None
    url: str

    @property
    def urgent(self) -> bool:
        return self.days_left is not None and self.days_left <= 3


@dataclass(frozen=True, kw_only=True)
class MailboxRow:
    name: str
    label: str
    address: str
    ok: bool
    state: str  # 正常 / 连续失败 3 次 / 从未成功收信 …
    last_ok: str
    last_error: str


@dataclass(frozen=True, kw_only=True)
class CountNote:
    id: int
    unit: str
    activities: int
    explanation: str
    check: bool


@dataclass(frozen=True, kw_only=True)
class DigestView:
    """Everything the digest templates show; every text from senders is already one clean line."""

    day: str  # 2020-06-01
    day_text: str  # 2020年6月1日（星期一）
    generated: str  # 6月1日 07:30
    campaign: str
    contact: str
    late: bool
    late_text: str
    missed_days: tuple[str, ...]
    todo: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    units: tuple[UnitRow, ...]
    unit_total: Progress
    other_units: tuple[UnitRow, ...]
    units_behind: int
    collections: tuple[CollectionRow, ...]
    collections_reached: int
    minimum_works: int
    matrix_header: tuple[str, ...]
    matrix: tuple[MatrixRow, ...]
    since: str
    new_counts: tuple[tuple[str, int], ...]
    new_items: tuple[NewItem, ...]
    new_more: int
    waiting: tuple[WaitingItem, ...]
    waiting_more: int
    admin: tuple[AdminItem, ...]
    admin_more: int
    links: tuple[LinkItem, ...]
    links_more: int
    links_expired: int
    mailboxes: tuple[MailboxRow, ...]
    count_notes: tuple[CountNote, ...]
    count_notes_more: int
    rule: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)  # for overridden templates

    def context(self) -> dict[str, Any]:
        """The template context: each field by name (rows stay objects: `u.name`, `u.activities.percent`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def compose_digest(*, renderer: Renderer, view: DigestView, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The digest as one multipart/alternative message (plain text and HTML) to all recipients."""
    rendered = renderer.render("digest", view.context())
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = clean_header(rendered.subject, max_chars=250)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring=f"intake.digest.{view.day}", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[OWN_HEADER] = "digest"
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg


# -- once per date -------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    IN_PROGRESS = "being sent by another worker"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """This worker's right to send one date's digest."""

    day: dt.date
    token: str
    late: bool
    done: frozenset[str]  # recipients a previous try already sent it to


def _token() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"[:64]


def claim(
    sessions: sessionmaker[Session],
    *,
    day: dt.date,
    late: bool,
    now: dt.datetime | None = None,
    lease: dt.timedelta = LEASE,
) -> Claim | Outcome:
    """Claim day's digest: a Claim to send it, or why not (sent already, or another worker holds it)."""
    stamp = now or utcnow()
    token = _token()
    try:
        with sessions.begin() as session:
            session.add(
                DigestRun(
                    day=day, status="claimed", claimed_at=stamp, claimed_by=token, late=late, attempts=1, sent_to=[]
                )
            )
        return Claim(day=day, token=token, late=late, done=frozenset())
    except IntegrityError:
        pass
    with sessions.begin() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(DigestRun)
                .where(
                    DigestRun.day == day,
                    or_(
                        DigestRun.status == "failed",
                        and_(DigestRun.status == "claimed", DigestRun.claimed_at < stamp - lease),
                    ),
                )
                .values(
                    status="claimed", claimed_at=stamp, claimed_by=token, late=late, attempts=DigestRun.attempts + 1
                )
                .execution_options(synchronize_session=False)
            ),
        )
        row = session.execute(
            select(DigestRun.status, DigestRun.claimed_by, DigestRun.sent_to).where(DigestRun.day == day)
        ).one()
    if result.rowcount == 1 and row.claimed_by == token:
        return Claim(day=day, token=token, late=late, done=frozenset(row.sent_to or []))
    return Outcome.ALREADY_SENT if row.status == "sent" else Outcome.IN_PROGRESS


def _mine(session: Session, held: Claim) -> DigestRun | None:
    row = session.get(DigestRun, held.day, with_for_update=True)
    return row if row is not None and row.claimed_by == held.token and row.status == "claimed" else None


def deliver(
    sessions: sessionmaker[Session],
    *,
    smtp: SmtpSettings,
    held: Claim,
    message: EmailMessage,
    recipients: Sequence[str],
) -> None:
    """Send to every recipient not yet sent to, recording each one as soon as the server took it."""
    done = set(held.done)
    todo = [r for r in recipients if r not in done]
    if not todo:
        return
    with SmtpConnection(settings=smtp) as conn:
        for rcpt in todo:
            conn.send(message, recipient=rcpt)
            done.add(rcpt)
            with sessions.begin() as session:
                row = _mine(session, held)
                if row is not None:
                    row.sent_to = sorted(done)


def finish(sessions: sessionmaker[Session], *, held: Claim, message_id: str, through_message_id: int | None) -> None:
    with sessions.begin() as session:
        row = _mine(session, held)
        if row is not None:
            row.status = "sent"
            row.sent_at = utcnow()
            row.message_id = message_id[:255]
            row.through_message_id = through_message_id
            row.last_error = None


def fail(sessions: sessionmaker[Session], *, held: Claim, error: str) -> None:
    """Give the claim up after an error: any worker may try again (the catch-up does every few minutes)."""
    with sessions.begin() as session:
        row = _mine(session, held)
        if row is not None:
            row.status = "failed"
            row.last_error = error[:2000]


def previous_sent(session: Session, *, day: dt.date) -> DigestRun | None:
    """The last digest sent for a date before day."""
    return session.scalar(
        select(DigestRun).where(DigestRun.day < day, DigestRun.status == "sent").order_by(DigestRun.day.desc()).limit(1)
    )


def any_digest(session: Session) -> bool:
    """Whether any digest was ever claimed: a fresh installation has nothing to catch up."""
    return session.scalar(select(DigestRun.day).limit(1)) is not None


def state(session: Session, *, day: dt.date) -> DigestRun | None:
    return session.get(DigestRun, day)


# -- an example, for template authors and tests ----------------------------------------------------------


def example_view(*, text: str = "示例") -> DigestView:
    """A complete view with made-up figures; every sender-controlled field holds text."""
    unit = UnitRow(
        number="1",
        name="西宁市总工会",
        activities=Progress(done=3, target=10),
        reports=2,
        photos=5,
        last_report="6月1日",
        new=1,
        waiting=True,
    )
    return DigestView(
        day="2020-06-01",
        day_text="2020年6月1日（星期一）",
        generated="6月1日 07:30",
        campaign="网聚职工正能量·争做中国好网民",
        contact="省总工会网络和社会工作部",
        late=True,
        late_text="本期日报因服务停止未能按时发出，现补发。",
        missed_days=("5月31日",),
        todo=(f"1 封邮件处理失败：{text}",),
        deadlines=(Deadline(date="8月20日", what="报送截止", days_left=80),),
        units=(unit,),
        unit_total=Progress(done=3, target=65),
        other_units=(
            dataclasses.replace(unit, number="", name="海东市总工会", activities=Progress(done=1, target=None)),
        ),
        units_behind=1,
        collections=(
            CollectionRow(
                number=1,
                label="网络正能量微视频征集",
                organiser="西宁市总工会",
                address="a@b.c",
                works=Progress(done=2, target=6),
                received=3,
                rejected=1,
                new=1,
            ),
        ),
        collections_reached=0,
        minimum_works=6,
        matrix_header=("微视频",),
        matrix=(MatrixRow(unit="西宁市总工会", cells=(2,), total=2),),
        since="5月31日的日报以来",
        new_counts=(("通过", 1),),
        new_items=(
            NewItem(
                id=1,
                when="6月1日 10:00",
                collection="微视频",
                who=text,
                subject=text,
                status="通过",
                tone="ok",
                detail=text,
            ),
        ),
        new_more=0,
        waiting=(
            WaitingItem(
                who=text, collection="线下活动", subject=text, reasons=(text,), since="5月30日", days=2, times=1
            ),
        ),
        waiting_more=0,
        admin=(AdminItem(id=2, what="处理失败", mailbox="reports", since="6月1日 09:00", subject=text, detail=text),),
        links=(
            LinkItem(
                who=text,
                filename=text,
                size="128M",
                expires="6月3日",
                days_left=2,
                url="https://mail.qq.com/cgi-bin/ftnExs_download?k=1",
            ),
        ),
        links_expired=0,
        admin_more=0,
        links_more=0,
        mailboxes=(
            MailboxRow(
                name="reports",
                label="线下活动汇总",
                address="wxb0626@126.com",
                ok=False,
                state="连续失败 2 次",
                last_ok="6月1日 06:00",
                last_error=text,
            ),
        ),
        count_notes=(
            CountNote(id=1, unit="西宁市总工会", activities=3, explanation=f"说明中写明“{text}”", check=False),
        ),
        count_notes_more=0,
        rule=("每份通过审核的线下活动汇总计 1 场。",),
    )
