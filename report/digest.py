"""The hosts' view of the campaign: figures read from the database, turned into the daily digest.

`gather` reads one consistent snapshot (per unit against Annex 1, per collection against the minimum
of 6 works, every submission with its files and count); the digest and the xlsx export both use it.
`build_view` turns a snapshot into what the digest templates show, `send_digest` sends one date's
digest once (see notify.digest), and `catch_up` sends the last due digest if it was missed while the
service was down or a try failed, marked late.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select

from campaign.notice import (
    KIND_NAMES,
    KIND_SHORT,
    LOCAL_TZ,
    MIN_WORKS,
    ORGANISERS,
    REPORT_DEADLINE,
    STATUS_LABELS,
    UPWARD_DEADLINE,
    MailboxKind,
    local,
    today,
)
from campaign.settings import Settings
from ingest.roster import key
from intake.app import App
from notify import digest as nd
from notify.safe import clean_text
from report import counting
from store.enums import AttachmentKind, MessageStatus, ReplyStatus
from store.models import Attachment, MailboxState, Message, Reply, utcnow

LATE_AFTER = dt.timedelta(hours=1)  # a digest sent later than this after its time is marked late
STUCK_AFTER = dt.timedelta(minutes=30)  # a message still unjudged after this needs an admin
SUBJECT_CHARS, REASON_CHARS = 60, 90
# the longest lists the digest shows (the rest is counted, and in `intake messages` and the export):
# at these lengths the HTML stays below the size at which Gmail clips a message (tests/test_digest_view.py)
NEW_LIMIT, WAITING_LIMIT, LINK_LIMIT, ADMIN_LIMIT, NOTE_LIMIT = 30, 20, 20, 20, 15
URGENT_LINK_DAYS = 3
WEEKDAYS = "一二三四五六日"

_SHOWN_STATUSES = (MessageStatus.ACCEPTED, MessageStatus.REJECTED, MessageStatus.FAILED, MessageStatus.RECEIVED)
_EXPIRES = re.compile(r"(?:(\d{4})\s*[年\-/.])?\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")


# -- the snapshot ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FileInfo:
    name: str
    kind: AttachmentKind
    label: str
    size: int
    valid: bool
    counted: bool
    container: str | None
    problems: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Item:
    """One submission: a message that is not ignored, with its files and (for reports) its count."""

    id: int
    mailbox: str
    kind: MailboxKind
    sender: str
    subject: str
    unit: str | None
    title: str | None
    status: MessageStatus
    reasons: tuple[str, ...]
    received_at: dt.datetime  # UTC, naive
    late: bool
    attempts: int
    stage: str | None
    files: tuple[FileInfo, ...]
    links: tuple[dict[str, Any], ...]
    count: counting.Count | None
    reply: str | None  # e.g. "acknowledgement: sent"

    @property
    def photos(self) -> int:
        return sum(1 for f in self.files if f.kind is AttachmentKind.PHOTO and f.counted)


@dataclass(kw_only=True)
class UnitFigures:
    number: int | None  # position in Annex 1 (units with a quota), else None
    name: str
    quota: int | None
    activities: int = 0
    reports: int = 0
    photos: int = 0
    last_report: dt.datetime | None = None
    works: dict[MailboxKind, int] = field(default_factory=dict)

    @property
    def total_works(self) -> int:
        return sum(self.works.values())


@dataclass(kw_only=True)
class CollectionFigures:
    number: int
    kind: MailboxKind
    label: str
    short: str
    organiser: str
    addresses: tuple[str, ...]
    received: int = 0
    accepted: int = 0  # distinct works (unit and title) accepted
    rejected: int = 0
    by_unit: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Campaign:
    """One consistent reading of where the campaign stands."""

    taken_at: dt.datetime  # UTC, naive
    through_message_id: int | None  # the newest message this snapshot saw (ignored ones included)
    units: tuple[UnitFigures, ...]  # Annex 1 order, then the units without a quota
    collections: tuple[CollectionFigures, ...]  # Annex 1 order of their organisers
    items: tuple[Item, ...]  # by id
    given_up: tuple[tuple[int, str, str], ...]  # (message id, recipient, last error) of replies given up
    states: dict[str, MailboxState]

    @property
    def quota_units(self) -> tuple[UnitFigures, ...]:
        return tuple(u for u in self.units if u.quota)

    def unit(self, name: str | None) -> UnitFigures | None:
        return next((u for u in self.units if u.name == name), None)


def report_mailboxes(settings: Settings) -> frozenset[str]:
    return frozenset(b.name for b in settings.mailboxes if b.kind is MailboxKind.OFFLINE_ACTIVITY)


def _annex_order(settings: Settings) -> dict[str, int]:
    return {u.name: i for i, u in enumerate(settings.units)}


def _collections(settings: Settings) -> list[CollectionFigures]:
    order = _annex_order(settings)
    kinds = sorted(
        {b.kind for b in settings.mailboxes if b.kind is not MailboxKind.OFFLINE_ACTIVITY},
        key=lambda k: (order.get(ORGANISERS.get(k, ""), len(order)), list(MailboxKind).index(k)),
    )
    return [
        CollectionFigures(
            number=i + 1,
            kind=k,
            label=KIND_NAMES[k],
            short=KIND_SHORT[k],
            organiser=ORGANISERS.get(k, ""),
            addresses=tuple(b.address for b in settings.mailboxes if b.kind is k),
        )
        for i, k in enumerate(kinds)
    ]


def gather(app: App, *, now: dt.datetime | None = None) -> Campaign:
    """Read the campaign's figures (reading the reports' stated activity counts first, once each)."""
    settings = app.settings
    boxes = {b.name: b.kind for b in settings.mailboxes}
    counting.refresh(sessions=app.sessions, blobs=app.blobs, report_mailboxes=report_mailboxes(settings))
    with app.sessions() as session:
        through = session.scalar(select(func.max(Message.id)))
        limit = through or 0
        rows = session.execute(
            select(
                Message.id,
                Message.mailbox,
                Message.sender,
                Message.subject,
                Message.unit,
                Message.title,
                Message.status,
                Message.reasons,
                Message.received_at,
                Message.late,
                Message.attempts,
                Message.failure_stage,
                Message.large_attachment_links,
            )
            .where(Message.status != MessageStatus.IGNORED, Message.id <= limit)
            .order_by(Message.id)
        ).all()
        files: dict[int, list[FileInfo]] = defaultdict(list)
        for f in session.execute(
            select(
                Attachment.message_id,
                Attachment.display_name,
                Attachment.kind,
                Attachment.label,
                Attachment.size,
                Attachment.valid,
                Attachment.counted,
                Attachment.container,
                Attachment.problems,
            )
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.status != MessageStatus.IGNORED, Message.id <= limit)
            .order_by(Attachment.message_id, Attachment.position)
        ):
            files[f.message_id].append(
                FileInfo(
                    name=clean_text(f.display_name, max_chars=120),
                    kind=f.kind,
                    label=f.label,
                    size=f.size,
                    valid=f.valid,
                    counted=f.counted,
                    container=clean_text(f.container, max_chars=120) if f.container else None,
                    problems=tuple(clean_text(p, max_chars=200) for p in f.problems or []),
                )
            )
        replies: dict[int, str] = {}
        given_up: list[tuple[int, str, str]] = []
        for r in session.execute(
            select(Reply.message_id, Reply.kind, Reply.status, Reply.recipient, Reply.last_error)
            .where(Reply.message_id <= limit)
            .order_by(Reply.id)
        ):
            replies[r.message_id] = f"{r.kind.value}: {r.status.value}"
            if r.status is ReplyStatus.FAILED:
                given_up.append((r.message_id, r.recipient, clean_text(r.last_error or "", max_chars=200)))
        report_ids = [r.id for r in rows if boxes.get(r.mailbox) is MailboxKind.OFFLINE_ACTIVITY]
        report_counts = counting.counts(session, report_ids)
        states = {s.mailbox: s for s in session.scalars(select(MailboxState))}
        for s in states.values():
            session.expunge(s)

    items = tuple(
        Item(
            id=r.id,
            mailbox=r.mailbox,
            kind=boxes[r.mailbox],
            sender=clean_text(r.sender or "", max_chars=120),
            subject=clean_text(r.subject or "", max_chars=200),
            unit=r.unit,
            title=clean_text(r.title, max_chars=120) if r.title else None,
            status=r.status,
            reasons=tuple(clean_text(x, max_chars=300) for x in r.reasons or []),
            received_at=r.received_at,
            late=r.late,
            attempts=r.attempts,
            stage=r.failure_stage.value if r.failure_stage else None,
            files=tuple(files.get(r.id, [])),
            links=tuple(r.large_attachment_links or []),
            count=report_counts.get(r.id),
            reply=replies.get(r.id),
        )
        for r in rows
        if r.mailbox in boxes
    )
    number = 0
    units: list[UnitFigures] = []
    for u in settings.units:
        if u.activity_quota:
            number += 1
        units.append(UnitFigures(number=number if u.activity_quota else None, name=u.name, quota=u.activity_quota))
    units.sort(key=lambda u: (u.number is None, u.number or 0))  # Annex 1 first, in its order
    by_name = {u.name: u for u in units}
    collections = _collections(settings)
    by_kind = {c.kind: c for c in collections}
    seen_works: set[tuple[MailboxKind, str, str]] = set()
    for item in items:
        unit = by_name.get(item.unit or "")
        if item.kind is MailboxKind.OFFLINE_ACTIVITY:
            if unit is not None and item.status is MessageStatus.ACCEPTED:
                unit.reports += 1
                unit.photos += item.photos
                unit.activities += item.count.activities if item.count else 1
                if unit.last_report is None or item.received_at > unit.last_report:
                    unit.last_report = item.received_at
            elif unit is not None and item.count is not None:
                unit.activities += item.count.activities  # an admin may count a report that was not accepted
            continue
        coll = by_kind.get(item.kind)
        if coll is None:
            continue
        coll.received += 1
        if item.status is MessageStatus.REJECTED:
            coll.rejected += 1
        if item.status is MessageStatus.ACCEPTED:
            work = (item.kind, item.unit or item.sender, key(item.title or f"#{item.id}"))
            if work in seen_works:
                continue  # the same work (unit and title) sent again
            seen_works.add(work)
            coll.accepted += 1
            who = item.unit or "未识别单位"
            coll.by_unit[who] = coll.by_unit.get(who, 0) + 1
            if unit is not None:
                unit.works[item.kind] = unit.works.get(item.kind, 0) + 1
    return Campaign(
        taken_at=now.astimezone(dt.UTC).replace(tzinfo=None) if now else utcnow(),
        through_message_id=through,
        units=tuple(units),
        collections=tuple(collections),
        items=items,
        given_up=tuple(given_up),
        states=states,
    )


# -- the digest's view -----------------------------------------------------------------------------------


def _date_text(d: dt.date, *, year: int | None = None) -> str:
    return f"{d.month}月{d.day}日" if year in (None, d.year) else f"{d.year}年{d.month}月{d.day}日"


def _time_text(ts: dt.datetime | None, *, year: int | None = None) -> str:
    if ts is None:
        return "—"
    t = local(ts)
    return f"{_date_text(t.date(), year=year)} {t:%H:%M}"


def due_at(settings: Settings, day: dt.date) -> dt.datetime:
    """When day's digest is due: the configured time, in the campaign's time zone (Asia/Shanghai)."""
    return dt.datetime.combine(day, settings.digest.time, tzinfo=LOCAL_TZ)


def is_late(settings: Settings, day: dt.date, now: dt.datetime) -> bool:
    return now > due_at(settings, day) + LATE_AFTER


def _deadlines(settings: Settings, day: dt.date) -> list[nd.Deadline]:
    configured: dict[dt.date, list[str]] = defaultdict(list)
    for b in settings.mailboxes:
        if b.deadline is not None:
            configured[b.deadline].append(KIND_SHORT[b.kind])
    year = min(configured).year if configured else day.year
    out: list[nd.Deadline] = []
    for when, kinds in sorted(configured.items()):
        what = (
            REPORT_DEADLINE[2]
            if (when.month, when.day) == REPORT_DEADLINE[:2]
            else f"报送截止：{'、'.join(dict.fromkeys(kinds))}"
        )
        out.append(nd.Deadline(date=_date_text(when, year=day.year), what=what, days_left=(when - day).days))
    if not configured:
        when = dt.date(year, REPORT_DEADLINE[0], REPORT_DEADLINE[1])
        out.append(
            nd.Deadline(date=_date_text(when, year=day.year), what=REPORT_DEADLINE[2], days_left=(when - day).days)
        )
    upward = dt.date(year, UPWARD_DEADLINE[0], UPWARD_DEADLINE[1])
    out.append(
        nd.Deadline(date=_date_text(upward, year=day.year), what=UPWARD_DEADLINE[2], days_left=(upward - day).days)
    )
    return out


def _expiry(text: str | None, *, day: dt.date) -> dt.date | None:
    match = _EXPIRES.search(text or "")
    if match is None:
        return None
    year = int(match.group(1)) if match.group(1) else day.year
    try:
        return dt.date(year, int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _who(item: Item) -> str:
    return item.unit or item.sender or "（发件人不明）"


def _what(item: Item) -> str:
    """A work by its title, anything else by its subject."""
    if item.kind is not MailboxKind.OFFLINE_ACTIVITY and item.title:
        return f"《{item.title}》"
    return clean_text(item.subject, max_chars=SUBJECT_CHARS) or "（无标题）"


def _detail(item: Item) -> str:
    if item.status is MessageStatus.ACCEPTED:
        if item.kind is MailboxKind.OFFLINE_ACTIVITY:
            count = item.count.activities if item.count else 1
            return f"照片 {item.photos} 张，计 {count} 场"
        names = [f.name for f in item.files if f.counted]
        shown = "、".join(names[:3])
        return f"{shown} 等 {len(names)} 个文件" if len(names) > 3 else shown or "—"
    if item.status is MessageStatus.FAILED:
        return f"在“{item.stage or '?'}”阶段出错，已尝试 {item.attempts} 次"
    if item.status is MessageStatus.RECEIVED:
        return "已收下，尚未审核"
    return item.reasons[0] if item.reasons else "—"


def _reasons(reasons: Sequence[str]) -> tuple[str, ...]:
    shown = tuple(clean_text(r, max_chars=REASON_CHARS) for r in reasons[:2])
    return (*shown, f"等共 {len(reasons)} 个问题") if len(reasons) > 2 else shown


def _waiting(campaign: Campaign, *, day: dt.date) -> list[nd.WaitingItem]:
    """Rejections with no accepted submission after them from the same unit (or sender) and collection."""
    accepted = [i for i in campaign.items if i.status is MessageStatus.ACCEPTED]
    groups: dict[tuple[MailboxKind, str], list[Item]] = defaultdict(list)
    for item in campaign.items:
        if item.status is not MessageStatus.REJECTED:
            continue
        resolved = any(
            a.id > item.id
            and a.kind is item.kind
            and ((item.unit is not None and a.unit == item.unit) or (bool(item.sender) and a.sender == item.sender))
            for a in accepted
        )
        if not resolved:
            groups[(item.kind, item.unit or item.sender)].append(item)
    order = {u.name: i for i, u in enumerate(campaign.units)}
    out: list[nd.WaitingItem] = []
    for (kind, _), rejected in sorted(groups.items(), key=lambda g: (order.get(g[0][1], len(order)), g[1][0].id)):
        last = rejected[-1]
        first = local(rejected[0].received_at).date()
        out.append(
            nd.WaitingItem(
                who=_who(last),
                collection=KIND_SHORT[kind],
                subject=_what(last),
                reasons=_reasons(last.reasons),
                since=_date_text(first, year=day.year),
                days=max(0, (day - first).days),
                times=len(rejected),
            )
        )
    return out


def _admin(campaign: Campaign, *, day: dt.date) -> list[nd.AdminItem]:
    out: list[nd.AdminItem] = []
    by_id = {i.id: i for i in campaign.items}
    for item in campaign.items:
        if item.status is MessageStatus.FAILED:
            out.append(
                nd.AdminItem(
                    id=item.id,
                    what="处理失败",
                    mailbox=item.mailbox,
                    since=_time_text(item.received_at, year=day.year),
                    subject=_what(item),
                    detail=f"阶段 {item.stage or '?'}，已尝试 {item.attempts} 次",
                )
            )
        elif item.status is MessageStatus.RECEIVED and item.received_at < campaign.taken_at - STUCK_AFTER:
            out.append(
                nd.AdminItem(
                    id=item.id,
                    what="长时间未审核",
                    mailbox=item.mailbox,
                    since=_time_text(item.received_at, year=day.year),
                    subject=_what(item),
                    detail="收下后一直未审核（服务可能在处理时停止）",
                )
            )
    for msg_id, recipient, error in campaign.given_up:
        found = by_id.get(msg_id)
        out.append(
            nd.AdminItem(
                id=msg_id,
                what="回复未能发出",
                mailbox=found.mailbox if found else "",
                since=_time_text(found.received_at, year=day.year) if found else "—",
                subject=_what(found) if found else "",
                detail=f"发给 {clean_text(recipient, max_chars=80)}：{error[:120] or '多次重试失败'}",
            )
        )
    return out


def _links(campaign: Campaign, *, day: dt.date) -> tuple[list[nd.LinkItem], int]:
    found: list[tuple[dt.date | None, nd.LinkItem]] = []
    expired = 0
    for item in campaign.items:
        for link in item.links:
            url = str(link.get("url") or "")
            when = _expiry(str(link.get("expires") or ""), day=day)
            if when is not None and when < day:
                expired += 1
                continue
            found.append(
                (
                    when,
                    nd.LinkItem(
                        who=_who(item),
                        filename=clean_text(str(link.get("filename") or "（未写文件名）"), max_chars=80),
                        size=clean_text(str(link.get("size") or "—"), max_chars=20),
                        expires=clean_text(str(link.get("expires") or "未写明"), max_chars=40),
                        days_left=(when - day).days if when else None,
                        url=url if url.lower().startswith(("https://", "http://")) else "",
                    ),
                )
            )
    found.sort(key=lambda f: (f[0] is None, f[0] or day))
    return [f[1] for f in found], expired


def _mailboxes(app: App, campaign: Campaign) -> list[nd.MailboxRow]:
    out: list[nd.MailboxRow] = []
    for box in app.settings.mailboxes:
        st = campaign.states.get(box.name)
        stale_after = max(dt.timedelta(seconds=3 * box.poll_seconds), dt.timedelta(hours=2))
        if st is None or st.last_poll_at is None:
            ok, state = False, "尚未收信"
        elif st.last_ok_at is None:
            ok, state = False, "从未成功收信"
        elif st.consecutive_errors:
            ok, state = False, f"连续失败 {st.consecutive_errors} 次"
        elif st.last_ok_at < campaign.taken_at - stale_after:
            hours = int((campaign.taken_at - st.last_ok_at).total_seconds() // 3600)
            ok, state = False, f"已 {hours} 小时未收信"
        else:
            ok, state = True, "正常"
        out.append(
            nd.MailboxRow(
                name=box.name,
                label=KIND_SHORT[box.kind],
                address=box.address,
                ok=ok,
                state=state,
                last_ok=_time_text(st.last_ok_at if st else None),
                last_error=clean_text(st.last_error or "", max_chars=160) if st and not ok else "",
            )
        )
    return out


def build_view(
    app: App,
    campaign: Campaign,
    *,
    day: dt.date,
    now: dt.datetime,
    late: bool,
    previous: tuple[dt.date, dt.datetime | None, int | None] | None,
) -> nd.DigestView:
    """The digest for day from a snapshot; previous is (day, sent at, through message id) of the last one sent."""
    settings = app.settings
    # what is new since the last digest
    if previous is None:
        new = list(campaign.items)
        since = "首份日报，列出目前收到的全部邮件"
    else:
        prev_day, prev_sent, prev_through = previous
        if prev_through is not None:
            new = [i for i in campaign.items if i.id > prev_through]
        else:
            new = [i for i in campaign.items if prev_sent is None or i.received_at > prev_sent]
        since = f"{_date_text(prev_day, year=day.year)}的日报以来"
    new_activity: dict[str, int] = defaultdict(int)
    new_works: dict[MailboxKind, int] = defaultdict(int)
    for item in new:
        if item.status is MessageStatus.ACCEPTED and item.unit:
            if item.kind is MailboxKind.OFFLINE_ACTIVITY:
                new_activity[item.unit] += item.count.activities if item.count else 1
            else:
                new_works[item.kind] += 1
    status_counts = [(STATUS_LABELS[s.value][0], sum(1 for i in new if i.status is s)) for s in _SHOWN_STATUSES]
    new_items = [
        nd.NewItem(
            id=i.id,
            when=_time_text(i.received_at, year=day.year),
            collection=KIND_SHORT[i.kind],
            who=_who(i),
            subject=_what(i),
            status=STATUS_LABELS[i.status.value][0],
            tone=STATUS_LABELS[i.status.value][1],
            detail=_detail(i),
        )
        for i in new[-NEW_LIMIT:]
    ]

    waiting = _waiting(campaign, day=day)
    waiting_units = {w.who for w in waiting if w.collection == KIND_SHORT[MailboxKind.OFFLINE_ACTIVITY]}

    def unit_row(u: UnitFigures) -> nd.UnitRow:
        return nd.UnitRow(
            number=str(u.number or ""),
            name=u.name,
            activities=nd.Progress(done=u.activities, target=u.quota),
            reports=u.reports,
            photos=u.photos,
            last_report=_date_text(local(u.last_report).date(), year=day.year) if u.last_report else "—",
            new=new_activity.get(u.name, 0),
            waiting=u.name in waiting_units,
        )

    quota_units = campaign.quota_units
    units = tuple(unit_row(u) for u in quota_units)
    others = tuple(unit_row(u) for u in campaign.units if not u.quota and (u.reports or u.activities or u.total_works))
    collections = tuple(
        nd.CollectionRow(
            number=c.number,
            label=c.label,
            organiser=c.organiser,
            address="、".join(c.addresses),
            works=nd.Progress(done=c.accepted, target=MIN_WORKS),
            received=c.received,
            rejected=c.rejected,
            new=new_works.get(c.kind, 0),
        )
        for c in campaign.collections
    )
    matrix = tuple(
        nd.MatrixRow(
            unit=u.name, cells=tuple(u.works.get(c.kind, 0) for c in campaign.collections), total=u.total_works
        )
        for u in campaign.units
        if u.total_works
    )
    admin = _admin(campaign, day=day)
    links, expired = _links(campaign, day=day)
    mailboxes = _mailboxes(app, campaign)
    noted = [
        nd.CountNote(
            id=i.id,
            unit=_who(i),
            activities=i.count.activities,
            explanation=i.count.explanation,
            check=i.count.needs_check,
        )
        for i in campaign.items
        if i.count is not None
        and i.count.basis in (counting.Basis.STATED, counting.Basis.IMPLAUSIBLE, counting.Basis.CORRECTED)
    ]
    # the ones to check first, then the newest
    count_notes = tuple(sorted(noted, key=lambda n: (not n.check, -n.id))[:NOTE_LIMIT])
    deadlines = _deadlines(settings, day)
    behind = sum(1 for u in quota_units if u.activities < (u.quota or 0))
    short = sum(1 for c in campaign.collections if c.accepted < MIN_WORKS)

    todo: list[str] = []
    if admin:
        todo.append(f"{len(admin)} 项需要管理员处理（处理失败、未审核或回复未能发出的邮件）")
    urgent = sum(1 for link in links if link.urgent)
    if links:
        soon = f"，其中 {urgent} 个 {URGENT_LINK_DAYS} 天内过期" if urgent else ""
        todo.append(f"{len(links)} 个超大附件链接待下载{soon}")
    bad_boxes = [m.name for m in mailboxes if not m.ok]
    if bad_boxes:
        todo.append(f"{len(bad_boxes)} 个邮箱收信异常：{'、'.join(bad_boxes)}")
    if waiting:
        todo.append(f"{len(waiting)} 份退回的报送尚未重新报送")
    checks = sum(1 for n in count_notes if n.check)
    if checks:
        todo.append(f"{checks} 份线下活动报告写明的场次异常，需要核对（intake count 邮件ID 场次）")
    upcoming = next((d for d in deadlines if d.days_left >= 0), None)
    if upcoming is not None and upcoming is deadlines[0] and (behind or short):
        parts = [
            f"{behind} 个单位未完成线下活动任务" if behind else "",
            f"{short} 个征集项目不足 {MIN_WORKS} 件" if short else "",
        ]
        todo.append(f"{upcoming.date}截止（{upcoming.state}）：" + "，".join(p for p in parts if p))

    missed: list[str] = []
    late_text = ""
    if late:
        due = due_at(settings, day).astimezone(LOCAL_TZ)
        late_text = (
            f"本期日报应于 {_date_text(due.date())} {due:%H:%M} 发出，因服务停止或发送失败延误，"
            f"于 {_date_text(now.astimezone(LOCAL_TZ).date())} {now.astimezone(LOCAL_TZ):%H:%M} 补发；"
            "内容为补发时的最新情况。"
        )
        if previous is not None:
            gap = (day - previous[0]).days - 1
            missed = [_date_text(previous[0] + dt.timedelta(days=k + 1), year=day.year) for k in range(min(gap, 10))]
            if gap > 10:
                missed.append(f"等共 {gap} 天")
    now_local = now.astimezone(LOCAL_TZ)
    return nd.DigestView(
        day=day.isoformat(),
        day_text=f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）",
        generated=f"{_date_text(now_local.date())} {now_local:%H:%M}",
        campaign=settings.replies.campaign,
        contact=settings.replies.contact,
        late=late,
        late_text=late_text,
        missed_days=tuple(missed),
        todo=tuple(todo),
        deadlines=tuple(deadlines),
        units=units,
        unit_total=nd.Progress(
            done=sum(u.activities for u in quota_units), target=sum(u.quota or 0 for u in quota_units)
        ),
        other_units=others,
        units_behind=behind,
        collections=collections,
        collections_reached=sum(1 for c in campaign.collections if c.accepted >= MIN_WORKS),
        minimum_works=MIN_WORKS,
        matrix_header=tuple(c.short for c in campaign.collections),
        matrix=matrix,
        since=since,
        new_counts=tuple(status_counts),
        new_items=tuple(new_items),
        new_more=max(0, len(new) - NEW_LIMIT),
        waiting=tuple(waiting[:WAITING_LIMIT]),
        waiting_more=max(0, len(waiting) - WAITING_LIMIT),
        admin=tuple(admin[:ADMIN_LIMIT]),
        admin_more=max(0, len(admin) - ADMIN_LIMIT),
        links=tuple(links[:LINK_LIMIT]),
        links_more=max(0, len(links) - LINK_LIMIT),
        links_expired=expired,
        mailboxes=tuple(mailboxes),
        count_notes=count_notes,
        count_notes_more=max(0, len(noted) - NOTE_LIMIT),
        rule=counting.RULE_TEXT,
    )


def _previous(app: App, day: dt.date) -> tuple[dt.date, dt.datetime | None, int | None] | None:
    with app.sessions() as session:
        prev = nd.previous_sent(session, day=day)
        return (prev.day, prev.sent_at, prev.through_message_id) if prev is not None else None


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(LOCAL_TZ)


def compose(app: App, *, day: dt.date, now: dt.datetime, late: bool) -> tuple[EmailMessage, int | None]:
    """The digest message for day as it stands now, and the newest message id it covers."""
    campaign = gather(app, now=now)
    view = build_view(app, campaign, day=day, now=now, late=late, previous=_previous(app, day))
    message = nd.compose_digest(
        renderer=app.renderer, view=view, sender=app.settings.smtp.sender, recipients=app.settings.digest.recipients
    )
    return message, campaign.through_message_id


def preview(app: App, *, day: dt.date, now: dt.datetime | None = None) -> EmailMessage:
    """The digest for day exactly as `send_digest` would send it now (nothing is recorded)."""
    moment = _now(now)
    return compose(app, day=day, now=moment, late=is_late(app.settings, day, moment))[0]


def send_digest(app: App, *, day: dt.date, now: dt.datetime | None = None) -> nd.Outcome:
    """Send day's digest unless it was sent already or another worker is sending it."""
    moment = _now(now)
    late = is_late(app.settings, day, moment)
    held = nd.claim(app.sessions, day=day, late=late, now=moment.astimezone(dt.UTC).replace(tzinfo=None))
    if isinstance(held, nd.Outcome):
        return held
    try:
        message, through = compose(app, day=day, now=moment, late=late)
        nd.deliver(
            app.sessions, smtp=app.settings.smtp, held=held, message=message, recipients=app.settings.digest.recipients
        )
        nd.finish(app.sessions, held=held, message_id=str(message["Message-ID"]), through_message_id=through)
    except BaseException as exc:
        nd.fail(app.sessions, held=held, error=f"{type(exc).__name__}: {exc}")
        raise
    return nd.Outcome.SENT


def last_due_day(settings: Settings, now: dt.datetime) -> dt.date:
    """The latest date whose digest time has passed at now."""
    date = today(now)
    return date if now >= due_at(settings, date) else date - dt.timedelta(days=1)


def catch_up(app: App, *, now: dt.datetime | None = None) -> tuple[dt.date, nd.Outcome] | None:
    """Send the last due digest if it is missing or failed (marked late when past its time); None when there
    is nothing to do. A fresh installation (no digest ever) waits for the scheduled time instead."""
    moment = _now(now)
    day = last_due_day(app.settings, moment)
    with app.sessions() as session:
        if not nd.any_digest(session):
            return None
        row = nd.state(session, day=day)
        if row is not None and row.status == "sent":
            return None
    return day, send_digest(app, day=day, now=moment)


def summary_lines(outcome: nd.Outcome, *, day: dt.date, recipients: Sequence[str]) -> str:
    if outcome is nd.Outcome.SENT:
        return f"digest for {day} sent to {', '.join(recipients)}"
    if outcome is nd.Outcome.ALREADY_SENT:
        return f"digest for {day} was already sent"
    return f"digest for {day} is being sent by another worker"
