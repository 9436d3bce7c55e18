"""What the workbench's pages show, read-only: a collection's works, one work with its files and
history, a file's place (for the permission check), and the selection's figures.

Frozen values only: templates never see ORM rows. Sender text is cleaned here, as in the digest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.notice import LOCAL_TZ, MailboxKind, duration_text
from notify.linktext import code_text, is_netdisk
from notify.safe import clean_text
from report.sections import SHOWN_STATUSES
from report.sources import Sources
from store.audit import Entry, history, message_target
from store.enums import AttachmentKind, MessageStatus, SelectionStage, WorkRole
from store.models import Attachment, Message, Selection

SHOWN = SHOWN_STATUSES  # the statuses the digest lists


def measure(kind: AttachmentKind, facts: Mapping[str, Any] | None) -> str:
    """A file's length or size as a person reads it: 3分20秒, 1920×1080."""
    facts = facts or {}
    media = facts.get("media") or {}
    image = facts.get("image") or {}
    if kind in (AttachmentKind.VIDEO, AttachmentKind.AUDIO) and media.get("duration_seconds"):
        length = duration_text(float(media["duration_seconds"]))  # as a player shows it, as the replies say
        if kind is AttachmentKind.VIDEO and media.get("width") and media.get("height"):
            return f"{length}，{media['width']}×{media['height']}"
        return length
    if image.get("width") and image.get("height"):
        return f"{image['width']}×{image['height']}"
    return ""


@dataclass(frozen=True, kw_only=True)
class FileView:
    id: int
    name: str
    kind: str  # AttachmentKind value
    label: str
    size: int
    mime: str
    valid: bool
    counted: bool
    container: str | None
    problems: tuple[str, ...]
    measure: str
    archive: bool  # the archive itself (its files are listed apart)


@dataclass(frozen=True, kw_only=True)
class WorkRow:
    """One message as a collection's list shows it."""

    id: int
    kind: str
    mailbox: str
    unit: str | None
    title: str | None
    subject: str
    sender: str
    status: str
    arrived_at: dt.datetime
    late: bool
    reasons: tuple[str, ...]
    thumb: int | None  # attachment id of the first photo or video
    thumb_kind: str | None
    stage: str | None  # SelectionStage value
    comment: str
    work_role: str | None
    work_of: int | None

    @property
    def name(self) -> str:
        return f"《{self.title}》" if self.title else self.subject or "（无标题）"


@dataclass(frozen=True, kw_only=True)
class ReplyView:
    kind: str
    status: str
    subject: str
    text: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class LinkView:
    """A download link the mail carried instead of a file: what to fetch and where."""

    what: str  # 百度网盘 … / 超大附件
    filename: str
    detail: str  # 提取码 x7k2, or size and expiry
    url: str | None  # only an http(s) address is offered as a link


def _link(link: Mapping[str, Any]) -> LinkView:
    url = clean_text(str(link.get("url") or ""), max_chars=500)
    name = clean_text(str(link.get("filename") or ""), max_chars=120) or "（未写文件名）"
    if is_netdisk(link):
        what, detail = clean_text(str(link.get("provider") or "网盘"), max_chars=20), code_text(link)
    else:
        parts = (clean_text(str(link.get(k) or ""), max_chars=40) for k in ("size", "expires"))
        what, detail = "超大附件", "，".join(p for p in parts if p)
    return LinkView(
        what=what, filename=name, detail=detail, url=url if url.startswith(("https://", "http://")) else None
    )


@dataclass(frozen=True, kw_only=True)
class WorkDetail:
    row: WorkRow
    files: tuple[FileView, ...]
    notes: tuple[str, ...]
    remarks: tuple[str, ...]
    replies: tuple[ReplyView, ...]
    history: tuple[Entry, ...]
    selected_by: str | None
    selected_at: dt.datetime | None
    versions: tuple[int, ...]  # later mails of this work (resends, supplements, versions)
    links: tuple[LinkView, ...] = ()  # large-attachment links and net-disk shares, to download


@dataclass(frozen=True, kw_only=True)
class Filters:
    status: str | None = None
    unit: str | None = None
    since: dt.date | None = None  # arrival day, Beijing time, inclusive
    until: dt.date | None = None
    stage: str | None = None


def _boxes(sources: Sources, kind: MailboxKind) -> list[str]:
    return [b.name for b in sources.settings.mailboxes if b.kind is kind]


def kind_of_mailbox(sources: Sources, mailbox: str) -> MailboxKind | None:
    return next((b.kind for b in sources.settings.mailboxes if b.name == mailbox), None)


def _thumbs(session: Session, ids: list[int]) -> dict[int, tuple[int, str]]:
    found: dict[int, tuple[int, str]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(Attachment.message_id, Attachment.id, Attachment.kind)
        .where(
            Attachment.message_id.in_(ids),
            Attachment.kind.in_((AttachmentKind.PHOTO, AttachmentKind.VIDEO)),
            Attachment.valid.is_(True),
        )
        .order_by(Attachment.message_id, Attachment.kind.desc(), Attachment.position)
    )
    for r in rows:  # a video first (kind order: video > photo), else the first photo
        found.setdefault(r.message_id, (r.id, r.kind.value))
    return found


def _row(m: Message, kind: MailboxKind, thumb: tuple[int, str] | None, sel: Selection | None) -> WorkRow:
    # a conversation shows what the unit wrote (its 来信 remark), not why it is no submission
    said = [r for r in m.remarks or [] if r.startswith("来信：")] if m.status is MessageStatus.CONVERSATION else []
    return WorkRow(
        id=m.id,
        kind=kind.value,
        mailbox=m.mailbox,
        unit=m.unit,
        title=clean_text(m.title, max_chars=120) if m.title else None,
        subject=clean_text(m.subject or "", max_chars=200),
        sender=clean_text(m.sender or "", max_chars=120),
        status=m.status.value,
        arrived_at=m.arrived_at,
        late=m.late,
        reasons=tuple(clean_text(x, max_chars=300) for x in said or m.reasons or []),
        thumb=thumb[0] if thumb else None,
        thumb_kind=thumb[1] if thumb else None,
        stage=sel.stage.value if sel else None,
        comment=clean_text(sel.comment, max_chars=300) if sel else "",
        work_role=m.work_role.value if m.work_role else None,
        work_of=m.work_of,
    )


def _day_start(day: dt.date) -> dt.datetime:
    """The start of a Beijing day as the store keeps times (naive UTC)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.UTC).replace(tzinfo=None)


def works(sources: Sources, kind: MailboxKind, filters: Filters = Filters()) -> list[WorkRow]:
    """A collection's (or the reports') messages, newest first, as filtered."""
    query = select(Message).where(Message.mailbox.in_(_boxes(sources, kind)), Message.status.in_(SHOWN))
    if filters.status:
        query = query.where(Message.status == MessageStatus(filters.status))
    if filters.unit:
        query = query.where(Message.unit == filters.unit)
    if filters.since:
        query = query.where(Message.arrived_at >= _day_start(filters.since))
    if filters.until:
        query = query.where(Message.arrived_at < _day_start(filters.until + dt.timedelta(days=1)))
    if filters.stage:
        reached = SelectionStage(filters.stage).and_later()
        query = query.join(Selection, Selection.message_id == Message.id).where(Selection.stage.in_(reached))
    with sources.sessions() as session:
        messages = list(session.scalars(query.order_by(Message.arrived_at.desc(), Message.id.desc())))
        ids = [m.id for m in messages]
        thumbs = _thumbs(session, ids)
        selections = {s.message_id: s for s in session.scalars(select(Selection).where(Selection.message_id.in_(ids)))}
        return [_row(m, kind, thumbs.get(m.id), selections.get(m.id)) for m in messages]


def units_of(sources: Sources, kind: MailboxKind) -> list[str]:
    """The units that sent anything to a kind's mailboxes (for the filter)."""
    with sources.sessions() as session:
        return sorted(
            u
            for u in session.scalars(
                select(Message.unit)
                .where(Message.mailbox.in_(_boxes(sources, kind)), Message.unit.is_not(None))
                .distinct()
            )
            if u
        )


def work(sources: Sources, message_id: int) -> WorkDetail | None:
    with sources.sessions() as session:
        m = session.get(Message, message_id)
        kind = kind_of_mailbox(sources, m.mailbox) if m is not None else None
        if m is None or kind is None or m.status not in SHOWN:
            return None
        files = tuple(
            FileView(
                id=a.id,
                name=clean_text(a.display_name, max_chars=160),
                kind=a.kind.value,
                label=a.label,
                size=a.size,
                mime=a.mime,
                valid=a.valid,
                counted=a.counted,
                container=clean_text(a.container, max_chars=120) if a.container else None,
                problems=tuple(clean_text(p, max_chars=300) for p in a.problems or []),
                measure=measure(a.kind, a.facts),
                archive=a.kind is AttachmentKind.ARCHIVE,
            )
            for a in m.attachments
        )
        sel = session.get(Selection, m.id)
        replies = tuple(
            ReplyView(
                kind=r.kind.value,
                status=r.status.value,
                subject=r.subject,
                text=r.body_text,
                created_at=r.created_at,
                sent_at=r.sent_at,
            )
            for r in sorted(m.replies, key=lambda r: r.id)
        )
        later = tuple(session.scalars(select(Message.id).where(Message.work_of == m.id).order_by(Message.id)))
        thumb = _thumbs(session, [m.id]).get(m.id)
        return WorkDetail(
            row=_row(m, kind, thumb, sel),
            files=files,
            notes=tuple(clean_text(x, max_chars=300) for x in m.notes or []),
            remarks=tuple(clean_text(x, max_chars=300) for x in m.remarks or []),
            replies=replies,
            history=history(session, message_target(m.id)),
            selected_by=sel.by if sel else None,
            selected_at=sel.at if sel else None,
            versions=later,
            links=tuple(_link(x) for x in m.large_attachment_links or [] if isinstance(x, Mapping)),
        )


@dataclass(frozen=True, kw_only=True)
class FilePlace:
    """Where a stored file belongs, for the permission check, and how to serve it."""

    kind: MailboxKind
    message_id: int
    sha256: str
    name: str
    mime: str
    file_kind: AttachmentKind
    size: int
    valid: bool


def file_place(sources: Sources, attachment_id: int) -> FilePlace | None:
    with sources.sessions() as session:
        row = session.execute(
            select(Attachment, Message.mailbox, Message.status)
            .join(Message, Message.id == Attachment.message_id)
            .where(Attachment.id == attachment_id)
        ).first()
        if row is None or row.status not in SHOWN:
            return None
        a: Attachment = row[0]
        kind = kind_of_mailbox(sources, row.mailbox)
        if kind is None:
            return None
        return FilePlace(
            kind=kind,
            message_id=a.message_id,
            sha256=a.sha256,
            name=a.display_name,
            mime=a.mime,
            file_kind=a.kind,
            size=a.size,
            valid=a.valid,
        )


def stage_counts(sources: Sources) -> dict[str, dict[str, int]]:
    """Per mailbox kind, how many works have reached each selection stage (a later stage counts for
    the earlier ones too: a selected work is shortlisted)."""
    boxes = {b.name: b.kind.value for b in sources.settings.mailboxes}
    counts: dict[str, dict[str, int]] = {}
    with sources.sessions() as session:
        rows = session.execute(
            select(Message.mailbox, Selection.stage, func.count())
            .join(Message, Message.id == Selection.message_id)
            .where(Message.status == MessageStatus.ACCEPTED)
            .group_by(Message.mailbox, Selection.stage)
        )
        order = list(SelectionStage)
        for mailbox, stage, n in rows:
            kind = boxes.get(mailbox)
            if kind is None:
                continue
            per = counts.setdefault(kind, {s.value: 0 for s in order})
            for earlier in order[: order.index(stage) + 1]:
                per[earlier.value] += n
    return counts


def is_work(role: str | None) -> bool:
    """A mail that is a work of its own (not a resend, supplement or version of an earlier one)."""
    return role in (None, WorkRole.ORIGINAL.value)


def message_kind(sources: Sources, message_id: int) -> MailboxKind | None:
    """The kind of the mailbox a shown message came to (None: no such message, or not shown)."""
    with sources.sessions() as session:
        row = session.execute(select(Message.mailbox, Message.status).where(Message.id == message_id)).first()
    if row is None or row.status not in SHOWN:
        return None
    return kind_of_mailbox(sources, row.mailbox)
