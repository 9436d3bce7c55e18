"""How many offline activities an accepted report stands for: the rule, its reading, and admin corrections.

The rule (documented in the README and in every digest):

1. A report counts only once it is accepted; rejected, failed and ignored mail counts 0.
2. An admin's correction (`intake count ID N`, kept in Message.activity_count) wins over everything.
3. Otherwise a report counts the number of activities its description states, e.g. “开展线下活动3场”,
   “共开展两场活动”, “活动3次”; a stated total (“共/合计/累计…”, or a number followed by “其中…”)
   is taken as it is, several separate statements are added up. The subject is read when the body
   states nothing (“西宁市总工会线下活动汇总（3场）”). Ordinals (“第3场”) and a lone “一场/一次” (often
   just a turn of phrase) are not statements.
4. Otherwise, and when the stated number is implausible (more than MAX_PLAUSIBLE in one report),
   the report counts 1; an implausible number is flagged for an admin to check.

The stated number is read once per report from its stored raw bytes (the body, quotes and client
boilerplate removed) and kept in the activity_counts table with the words that state it.
"""

from __future__ import annotations

import enum
import logging
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import MailboxKind
from ingest.mail.parse import parse_bytes
from ingest.rules.content import Submission, description_text
from notify.safe import clean_text
from store.blobs import BlobStore
from store.enums import MessageStatus
from store.models import ActivityCount, Message, utcnow

log = logging.getLogger(__name__)

RULE = 1  # bump when the reading changes: every report is read again
MAX_PLAUSIBLE = 30  # a single report stating more is checked by an admin (the province's target is 50)
MAX_SCANNED_CHARS = 5000

RULE_TEXT = (
    "线下活动按通过审核的“单位+线下活动汇总”邮件计：每份计 1 场。",
    "说明（正文，正文未写时看标题）写明场次的按写明的计，如“开展线下活动3场”计 3 场、“共开展两场活动”计 2 场；"
    "分别写明的相加，写明“共…场”或“…场，其中…”的按总数计。",
    f"一份报告写明超过 {MAX_PLAUSIBLE} 场的暂按 1 场计，请管理员核对；被退回、处理失败的邮件不计。",
    "管理员可用 intake count 邮件ID 场次 更正（intake count 邮件ID --auto 恢复按规则计）。",
)

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_TOTAL = ("共计", "合计", "累计", "总计", "总共", "一共", "共")
_STATEMENT = re.compile(
    r"(?P<total>共计|合计|累计|总计|总共|一共|共)?(?:开展|举办|组织|举行|进行)?(?:了)?(?:线下)?(?:活动)?"
    r"(?P<num>\d{1,4}|[一二两三四五六七八九十]{1,3})\s*(?:个)?(?P<unit>场次|场|次)"
)
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")
_NOT_EVENT_AFTER = ("地", "馆", "所", "景", "面", "合", "性", "数")


class Basis(enum.StrEnum):
    """Why a report counts what it counts."""

    NOT_ACCEPTED = "not-accepted"
    DEFAULT = "default"
    STATED = "stated"
    IMPLAUSIBLE = "implausible"
    CORRECTED = "corrected"


@dataclass(frozen=True, kw_only=True)
class Statement:
    """A number of activities a text states, with the words that state it."""

    number: int
    phrase: str


@dataclass(frozen=True, kw_only=True)
class Count:
    """What one report counts, and why."""

    activities: int
    basis: Basis
    phrase: str | None = None
    stated: int | None = None
    note: str | None = None

    @property
    def explanation(self) -> str:
        """The reason in Chinese, as the digest and the export show it."""
        if self.basis is Basis.NOT_ACCEPTED:
            return "未通过审核，不计入"
        if self.basis is Basis.CORRECTED:
            return f"管理员更正为 {self.activities} 场" + (f"（{self.note}）" if self.note else "")
        if self.basis is Basis.STATED:
            return f"说明中写明“{self.phrase}”"
        if self.basis is Basis.IMPLAUSIBLE:
            return f"说明中写“{self.phrase}”，数字异常，暂按 1 场计，请核对"
        return "说明中未写场次，按 1 场计"

    @property
    def needs_check(self) -> bool:
        return self.basis is Basis.IMPLAUSIBLE


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return (_DIGITS.get(tens, -100) if tens else 1) * 10 + (_DIGITS.get(ones, -100) if ones else 0)
    return _DIGITS.get(text) if len(text) == 1 else None


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the clause before and after a match (up to the sentence's end)."""
    before = _CLAUSE_END.split(text[:start])[-1]
    after = _CLAUSE_END.split(text[end:], maxsplit=1)[0]
    return before, after


def stated(text: str) -> Statement | None:
    """The number of activities text states (see the module's rule), or None when it states none."""
    norm = unicodedata.normalize("NFKC", text)[:MAX_SCANNED_CHARS]
    found: list[tuple[int, bool, str, int]] = []  # number, is a total, phrase, end
    for match in _STATEMENT.finditer(norm):
        start = match.start("num")
        number = _number(match.group("num"))
        if number is None or number <= 0:
            continue
        if start > 0 and norm[start - 1] in "第每":
            continue
        rest = norm[match.end() :]
        if rest[:1] in _NOT_EVENT_AFTER:
            continue
        before, after = _clause(norm, match.start(), match.end())
        if match.group("unit") == "次" and "活动" not in before[-12:] + match.group(0) + after[:12]:
            continue
        total = match.group("total") is not None or before.rstrip().endswith(_TOTAL)
        if not total and match.group("num") == "一":
            continue  # “一场/一次” is usually a turn of phrase, and 1 is the default anyway
        lead = re.split(r"[,，、:：(（]", before)[-1][-20:]
        phrase = clean_text((lead + match.group(0)).strip(), max_chars=40)
        found.append((number, total, phrase, match.end()))
    if not found:
        return None
    totals = [f for f in found if f[1]]
    if totals:
        best = max(totals, key=lambda f: f[0])
        return Statement(number=best[0], phrase=best[2])
    first = found[0]
    if "其中" in norm[first[3] : first[3] + 30]:
        return Statement(number=first[0], phrase=first[2])
    if len(found) == 1:
        return Statement(number=first[0], phrase=first[2])
    return Statement(number=sum(f[0] for f in found), phrase="、".join(f[2] for f in found)[:120])


def count_of(
    *, accepted: bool, corrected: int | None, stated_number: int | None, phrase: str | None, note: str | None = None
) -> Count:
    """Apply the rule to what is known of one report."""
    if corrected is not None:
        return Count(activities=corrected, basis=Basis.CORRECTED, phrase=phrase, stated=stated_number, note=note)
    if not accepted:
        return Count(activities=0, basis=Basis.NOT_ACCEPTED, phrase=phrase, stated=stated_number)
    if stated_number is None:
        return Count(activities=1, basis=Basis.DEFAULT)
    if stated_number > MAX_PLAUSIBLE:
        return Count(activities=1, basis=Basis.IMPLAUSIBLE, phrase=phrase, stated=stated_number)
    return Count(activities=stated_number, basis=Basis.STATED, phrase=phrase, stated=stated_number)


def read_report(blobs: BlobStore, *, raw_sha256: str | None, subject: str | None) -> Statement | None:
    """What a stored report states: its description first, its subject when the description says nothing."""
    statement: Statement | None = None
    if raw_sha256 is not None:
        try:
            mail = parse_bytes(blobs.read_bytes(raw_sha256))
            body = description_text(Submission(kind=MailboxKind.OFFLINE_ACTIVITY, text=mail.text, html=mail.html))
            statement = stated(body)
        except Exception:  # a report that cannot be read again counts 1, as if it stated nothing
            log.warning("cannot read the description of the raw message %s", raw_sha256, exc_info=True)
    return statement or stated(subject or "")


def refresh(*, sessions: sessionmaker[Session], blobs: BlobStore, report_mailboxes: Collection[str]) -> int:
    """Read every accepted report not yet read under this RULE; returns how many were read."""
    with sessions() as session:
        rows = session.execute(
            select(Message.id, Message.raw_sha256, Message.subject)
            .outerjoin(ActivityCount, ActivityCount.message_id == Message.id)
            .where(
                Message.mailbox.in_(list(report_mailboxes)),
                Message.status == MessageStatus.ACCEPTED,
                or_(ActivityCount.message_id.is_(None), ActivityCount.rule != RULE),
            )
            .order_by(Message.id)
        ).all()
    for msg_id, sha, subject in rows:
        statement = read_report(blobs, raw_sha256=sha, subject=subject)
        try:
            with sessions.begin() as session:
                row = session.get(ActivityCount, msg_id)
                if row is None:
                    row = ActivityCount(message_id=msg_id)
                    session.add(row)
                row.rule = RULE
                row.stated = statement.number if statement else None
                row.phrase = statement.phrase if statement else None
                row.read_at = utcnow()
        except IntegrityError:  # another worker read it at the same moment, with the same result
            continue
    return len(rows)


def counts(session: Session, ids: Collection[int]) -> dict[int, Count]:
    """The count of each of the given messages (read beforehand with refresh)."""
    if not ids:
        return {}
    rows = session.execute(
        select(
            Message.id,
            Message.status,
            Message.activity_count,
            ActivityCount.stated,
            ActivityCount.phrase,
            ActivityCount.note,
        )
        .outerjoin(ActivityCount, ActivityCount.message_id == Message.id)
        .where(Message.id.in_(list(ids)))
    ).all()
    return {
        msg_id: count_of(
            accepted=status is MessageStatus.ACCEPTED,
            corrected=corrected,
            stated_number=number,
            phrase=phrase,
            note=note,
        )
        for msg_id, status, corrected, number, phrase, note in rows
    }


class NotAReport(ValueError):
    """The message is not in an offline-activity mailbox, so it has no activity count."""


def correct(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    report_mailboxes: Collection[str],
    message_id: int,
    activities: int | None,
    note: str | None = None,
) -> Count:
    """Set (or with None drop) an admin's correction of one report's count; returns the count now."""
    if activities is not None and activities < 0:
        raise ValueError("a count is 0 or more")
    refresh(sessions=sessions, blobs=blobs, report_mailboxes=report_mailboxes)
    with sessions.begin() as session:
        msg = session.get(Message, message_id)
        if msg is None:
            raise LookupError(f"no message with id {message_id}")
        if msg.mailbox not in report_mailboxes:
            raise NotAReport(
                f"message {message_id} is in the mailbox {msg.mailbox!r}, not an offline-activity "
                "mailbox: only reports count activities"
            )
        msg.activity_count = activities
        row = session.get(ActivityCount, message_id)
        if row is None:  # not read yet (a report that is not accepted): read it when it is
            row = ActivityCount(message_id=message_id, rule=0)
            session.add(row)
        row.note = clean_text(note, max_chars=300) if activities is not None and note else None
        row.corrected_at = utcnow() if activities is not None else None
        session.flush()
        return counts(session, [message_id])[message_id]


def current(
    *, sessions: sessionmaker[Session], blobs: BlobStore, report_mailboxes: Collection[str], message_id: int
) -> tuple[Message, Count]:
    """One message and its count, for `intake count ID`."""
    refresh(sessions=sessions, blobs=blobs, report_mailboxes=report_mailboxes)
    with sessions() as session:
        msg = session.get(Message, message_id)
        if msg is None:
            raise LookupError(f"no message with id {message_id}")
        if msg.mailbox not in report_mailboxes:
            raise NotAReport(
                f"message {message_id} is in the mailbox {msg.mailbox!r}, not an offline-activity "
                "mailbox: only reports count activities"
            )
        session.expunge(msg)
        return msg, counts(session, [message_id])[message_id]
