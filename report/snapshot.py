"""One consistent, read-only snapshot of the campaign's figures, for the digest and the export.

Per unit against Annex 1, per collection against the minimum of 6 works, every submission with its
files and its activity count. Reading never writes: counts were recorded when each report was judged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from campaign.notice import (
    KIND_NAMES,
    KIND_SHORT,
    ORGANISERS,
    MailboxKind,
    name_key,
)
from campaign.settings import Settings
from notify.safe import clean_text
from report import counting
from report.sources import Sources
from store.enums import AttachmentKind, MessageStatus, ReplyStatus, WorkRole
from store.models import Attachment, MailboxState, Message, Reply, utcnow


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
    sha256: str = ""


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
    remarks: tuple[str, ...]  # what the rules noted for the hosts
    received_at: dt.datetime  # UTC, naive: when it was stored
    arrived_at: dt.datetime  # UTC, naive: when the provider received it
    late: bool
    attempts: int
    stage: str | None
    files: tuple[FileInfo, ...]
    links: tuple[dict[str, Any], ...]
    count: counting.Count | None
    reply: str | None  # e.g. "acknowledgement: sent"
    work_of: int | None = None  # the first message of the work this one belongs to (collections)
    work_role: WorkRole | None = None
    shared_with: tuple[str, ...] = ()  # other units that sent one of the same work files

    @property
    def work_notes(self) -> tuple[str, ...]:
        """What the hosts read about this work mail beside its verdict: its place in the work, shared files."""
        notes: list[str] = []
        if self.work_role is WorkRole.RESEND:
            notes.append(f"重复发送：与第 {self.work_of} 号邮件登记的作品相同")
        elif self.work_role is WorkRole.SUPPLEMENT:
            notes.append(f"补充材料：已补充到第 {self.work_of} 号邮件登记的作品")
        elif self.work_role is WorkRole.REPLACEMENT:
            notes.append(f"新版本：替换第 {self.work_of} 号邮件登记的版本（两个版本都已保存）")
        if self.shared_with:
            notes.append(f"作品文件与{'、'.join(self.shared_with)}报送的相同，请核实作品归属")
        return tuple(notes)

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
class Held:
    """A reply held by a cap on replies: it goes out when the cap allows."""

    message_id: int
    first_contact: bool
    since: dt.datetime  # when it was written (UTC, naive)
    reason: str


@dataclass(frozen=True, kw_only=True)
class Campaign:
    """One consistent reading of where the campaign stands."""

    taken_at: dt.datetime  # UTC, naive
    through_message_id: int | None  # the newest message this snapshot saw (ignored ones included)
    units: tuple[UnitFigures, ...]  # Annex 1 order, then the units without a quota
    collections: tuple[CollectionFigures, ...]  # Annex 1 order of their organisers
    items: tuple[Item, ...]  # by id
    given_up: tuple[tuple[int, str, str], ...]  # (message id, recipient, last error) of replies given up
    held: tuple[Held, ...] = ()  # replies held by a cap on replies, oldest first
    states: dict[str, MailboxState]
    conversations: tuple[Item, ...] = ()  # answers to our replies that submit nothing, by id (never counted)

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


def _shared_work_files(items: tuple[Item, ...]) -> tuple[Item, ...]:
    """Mark accepted works one of whose counted files was also accepted from another unit."""
    units_by_file: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item.kind is not MailboxKind.OFFLINE_ACTIVITY and item.status is MessageStatus.ACCEPTED and item.unit:
            for f in item.files:
                if f.counted and f.sha256:
                    units_by_file[f.sha256].add(item.unit)
    marked: list[Item] = []
    for item in items:
        others = {u for f in item.files if f.counted for u in units_by_file.get(f.sha256, ()) if u != item.unit}
        marked.append(dataclasses.replace(item, shared_with=tuple(sorted(others))) if others else item)
    return tuple(marked)


def gather(app: Sources, *, now: dt.datetime | None = None) -> Campaign:
    """Read the campaign's figures in one snapshot; nothing is written."""
    settings = app.settings
    boxes = {b.name: b.kind for b in settings.mailboxes}
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
                Message.remarks,
                Message.received_at,
                Message.arrived_at,
                Message.late,
                Message.attempts,
                Message.failure_stage,
                Message.large_attachment_links,
                Message.work_of,
                Message.work_role,
            )
            .where(Message.status.not_in((MessageStatus.IGNORED, MessageStatus.DUPLICATE)), Message.id <= limit)
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
                Attachment.sha256,
            )
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.status.not_in((MessageStatus.IGNORED, MessageStatus.DUPLICATE)), Message.id <= limit)
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
                    sha256=f.sha256,
                    problems=tuple(clean_text(p, max_chars=200) for p in f.problems or []),
                )
            )
        replies: dict[int, str] = {}
        given_up: list[tuple[int, str, str]] = []
        held: list[Held] = []
        for r in session.execute(
            select(
                Reply.message_id,
                Reply.kind,
                Reply.status,
                Reply.recipient,
                Reply.last_error,
                Reply.first_contact,
                Reply.created_at,
            )
            .where(Reply.message_id <= limit)
            .order_by(Reply.id)
        ):
            replies[r.message_id] = f"{r.kind.value}: {r.status.value}"
            if r.status is ReplyStatus.FAILED:
                given_up.append((r.message_id, r.recipient, clean_text(r.last_error or "", max_chars=200)))
            elif r.status is ReplyStatus.HELD:
                reason = clean_text(r.last_error or "", max_chars=200)
                held.append(
                    Held(message_id=r.message_id, first_contact=r.first_contact, since=r.created_at, reason=reason)
                )
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
            remarks=tuple(clean_text(x, max_chars=300) for x in r.remarks or []),
            received_at=r.received_at,
            arrived_at=r.arrived_at,
            late=r.late,
            attempts=r.attempts,
            stage=r.failure_stage.value if r.failure_stage else None,
            files=tuple(files.get(r.id, [])),
            links=tuple(r.large_attachment_links or []),
            count=report_counts.get(r.id),
            reply=replies.get(r.id),
            work_of=r.work_of,
            work_role=r.work_role,
        )
        for r in rows
        if r.mailbox in boxes
    )
    conversations = tuple(i for i in items if i.status is MessageStatus.CONVERSATION)
    items = _shared_work_files(tuple(i for i in items if i.status is not MessageStatus.CONVERSATION))
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
                unit.reports += 0 if item.count is not None and item.count.supplement else 1
                unit.photos += item.photos
                unit.activities += item.count.activities if item.count else 1
                if unit.last_report is None or item.arrived_at > unit.last_report:
                    unit.last_report = item.arrived_at
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
            if item.work_of is not None:
                continue  # a resend, supplement or new version of a work counted with its first mail
            work = (item.kind, item.unit or item.sender, name_key(item.title or f"#{item.id}"))
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
        held=tuple(held),
        states=states,
        conversations=conversations,
    )
