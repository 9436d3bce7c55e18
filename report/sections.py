"""The digest's sections, each built from a snapshot: deadlines, waiting rejections, admin work, links, mailboxes."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence

from campaign.notice import (
    KIND_SHORT,
    LOCAL_TZ,
    REPORT_DEADLINE,
    UPWARD_DEADLINE,
    MailboxKind,
    local,
)
from campaign.settings import Settings
from notify import digest_view as dv
from notify.linktext import code_text, is_netdisk
from notify.safe import clean_text
from report import pollfailure
from report.counting import Basis
from report.snapshot import Campaign, Held, Item
from report.sources import Sources
from store.enums import MessageStatus

LATE_AFTER = dt.timedelta(hours=1)  # a digest sent later than this after its time is marked late
STUCK_AFTER = dt.timedelta(minutes=30)  # a message still unjudged after this needs an admin
SUBJECT_CHARS, REASON_CHARS = 60, 90
# the longest lists the digest shows (the rest is counted, and in `intake messages` and the export):
# at these lengths the HTML stays below the size at which Gmail clips a message (tests/test_digest_view.py)
NEW_LIMIT, WAITING_LIMIT, LINK_LIMIT, ADMIN_LIMIT, NOTE_LIMIT = 30, 20, 20, 20, 15
URGENT_LINK_DAYS = 3
WEEKDAYS = "一二三四五六日"

SHOWN_STATUSES = (
    MessageStatus.ACCEPTED,
    MessageStatus.REJECTED,
    MessageStatus.FAILED,
    MessageStatus.RECEIVED,
    MessageStatus.CONVERSATION,
)
_EXPIRES = re.compile(r"(?:(\d{4})\s*[年\-/.])?\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")


def date_text(d: dt.date, *, year: int | None = None) -> str:
    return f"{d.month}月{d.day}日" if year in (None, d.year) else f"{d.year}年{d.month}月{d.day}日"


def time_text(ts: dt.datetime | None, *, year: int | None = None) -> str:
    if ts is None:
        return "—"
    t = local(ts)
    return f"{date_text(t.date(), year=year)} {t:%H:%M}"


def due_at(settings: Settings, day: dt.date) -> dt.datetime:
    """When day's digest is due: the configured time, in the campaign's time zone (Asia/Shanghai)."""
    return dt.datetime.combine(day, settings.digest.time, tzinfo=LOCAL_TZ)


def is_late(settings: Settings, day: dt.date, now: dt.datetime) -> bool:
    return now > due_at(settings, day) + LATE_AFTER


def deadline_rows(settings: Settings, day: dt.date) -> list[dv.Deadline]:
    configured: dict[dt.date, list[str]] = defaultdict(list)
    for b in settings.mailboxes:
        if b.deadline is not None:
            configured[b.deadline].append(KIND_SHORT[b.kind])
    year = min(configured).year if configured else day.year
    out: list[dv.Deadline] = []
    for when, kinds in sorted(configured.items()):
        what = (
            REPORT_DEADLINE[2]
            if (when.month, when.day) == REPORT_DEADLINE[:2]
            else f"报送截止：{'、'.join(dict.fromkeys(kinds))}"
        )
        out.append(dv.Deadline(date=date_text(when, year=day.year), what=what, days_left=(when - day).days))
    if not configured:
        when = dt.date(year, REPORT_DEADLINE[0], REPORT_DEADLINE[1])
        out.append(
            dv.Deadline(date=date_text(when, year=day.year), what=REPORT_DEADLINE[2], days_left=(when - day).days)
        )
    upward = dt.date(year, UPWARD_DEADLINE[0], UPWARD_DEADLINE[1])
    out.append(
        dv.Deadline(date=date_text(upward, year=day.year), what=UPWARD_DEADLINE[2], days_left=(upward - day).days)
    )
    return out


def expiry(text: str | None, *, day: dt.date) -> dt.date | None:
    match = _EXPIRES.search(text or "")
    if match is None:
        return None
    year = int(match.group(1)) if match.group(1) else day.year
    try:
        return dt.date(year, int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def who(item: Item) -> str:
    return item.unit or item.sender or "（发件人不明）"


def what(item: Item) -> str:
    """A work by its title, anything else by its subject."""
    if item.kind is not MailboxKind.OFFLINE_ACTIVITY and item.title:
        return f"《{item.title}》"
    return clean_text(item.subject, max_chars=SUBJECT_CHARS) or "（无标题）"


def detail(item: Item) -> str:
    if item.status is MessageStatus.ACCEPTED:
        if item.kind is MailboxKind.OFFLINE_ACTIVITY:
            count = item.count.activities if item.count else 1
            if item.count is not None and item.count.supplement and item.count.basis is not Basis.CORRECTED:
                return f"照片 {item.photos} 张，{item.count.explanation}"
            return f"照片 {item.photos} 张，计 {count} 场"
        names = [f.name for f in item.files if f.counted]
        shown = "、".join(names[:3])
        files = f"{shown} 等 {len(names)} 个文件" if len(names) > 3 else shown or "—"
        told = [*item.work_notes, remarks_text(item.remarks)] if item.remarks else list(item.work_notes)
        return "；".join([files, *told])
    if item.status is MessageStatus.FAILED:
        return f"在“{item.stage or '?'}”阶段出错，已尝试 {item.attempts} 次"
    if item.status is MessageStatus.RECEIVED:
        return "已收下，尚未审核"
    if item.status is MessageStatus.CONVERSATION:  # what the unit wrote back (a question, a thank-you)
        return clean_text(item.remarks[0].removeprefix("来信："), max_chars=REASON_CHARS) if item.remarks else "—"
    return item.reasons[0] if item.reasons else "—"


def remarks_text(remarks: Sequence[str]) -> str:
    """The first remark for the hosts, and how many more there are."""
    first = clean_text(remarks[0], max_chars=REASON_CHARS)
    return f"备注：{first}" + (f"（另有 {len(remarks) - 1} 条备注）" if len(remarks) > 1 else "")


def reasons_text(reasons: Sequence[str]) -> tuple[str, ...]:
    shown = tuple(clean_text(r, max_chars=REASON_CHARS) for r in reasons[:2])
    if len(reasons) > 2:  # “…；邮件中没有活动照片等 3 个问题”
        return (*shown[:-1], f"{shown[-1]}等 {len(reasons)} 个问题")
    return shown


def waiting_items(campaign: Campaign, *, day: dt.date) -> list[dv.WaitingItem]:
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
    out: list[dv.WaitingItem] = []
    for (kind, _), rejected in sorted(groups.items(), key=lambda g: (order.get(g[0][1], len(order)), g[1][0].id)):
        last = rejected[-1]
        first = local(rejected[0].arrived_at).date()
        out.append(
            dv.WaitingItem(
                who=who(last),
                collection=KIND_SHORT[kind],
                subject=what(last),
                reasons=reasons_text(last.reasons),
                since=date_text(first, year=day.year),
                days=max(0, (day - first).days),
                times=len(rejected),
            )
        )
    return out


def admin_items(campaign: Campaign, *, day: dt.date) -> list[dv.AdminItem]:
    out: list[dv.AdminItem] = []
    by_id = {i.id: i for i in campaign.items}
    for item in campaign.items:
        if item.status is MessageStatus.FAILED:
            out.append(
                dv.AdminItem(
                    id=item.id,
                    what="处理失败",
                    mailbox=item.mailbox,
                    since=time_text(item.received_at, year=day.year),
                    subject=what(item),
                    detail=f"阶段 {item.stage or '?'}，已尝试 {item.attempts} 次",
                )
            )
        elif item.status is MessageStatus.RECEIVED and item.received_at < campaign.taken_at - STUCK_AFTER:
            out.append(
                dv.AdminItem(
                    id=item.id,
                    what="长时间未审核",
                    mailbox=item.mailbox,
                    since=time_text(item.received_at, year=day.year),
                    subject=what(item),
                    detail="收下后一直未审核（服务可能在处理时停止）",
                )
            )
        elif item.status is MessageStatus.ACCEPTED and item.shared_with:
            out.append(
                dv.AdminItem(
                    id=item.id,
                    what="作品文件相同",
                    mailbox=item.mailbox,
                    since=time_text(item.arrived_at, year=day.year),
                    subject=f"{who(item)} {what(item)}",
                    detail=f"与{'、'.join(item.shared_with)}报送的作品文件相同，请核实作品归属",
                )
            )
    for msg_id, recipient, error in campaign.given_up:
        found = by_id.get(msg_id)
        out.append(
            dv.AdminItem(
                id=msg_id,
                what="回复未能发出",
                mailbox=found.mailbox if found else "",
                since=time_text(found.received_at, year=day.year) if found else "—",
                subject=what(found) if found else "",
                detail=f"发给 {clean_text(recipient, max_chars=80)}：{error[:120] or '多次重试失败'}",
            )
        )
    return out


def held_line(held: Sequence[Held], *, year: int) -> str:
    """The to-do line for replies held by the caps on replies: how many, to whom, since when, why."""
    first = sum(1 for h in held if h.first_contact)
    whom = f"（{'均' if first == len(held) else f'其中 {first} 封'}发给首次来信的陌生发件人）" if first else ""
    since = time_text(min(h.since for h in held), year=year)
    return (
        f"{len(held)} 封自动回复因发送上限暂缓发送{whom}，最早的自 {since} 起等待；额度恢复后自动发出。"
        f"原因：{clean_text(held[0].reason, max_chars=REASON_CHARS)}"
    )


def link_items(campaign: Campaign, *, day: dt.date) -> tuple[list[dv.LinkItem], int]:
    found: list[tuple[dt.date | None, dv.LinkItem]] = []
    expired = 0
    for item in campaign.items:
        for link in item.links:
            url = str(link.get("url") or "")
            netdisk = is_netdisk(link)
            when = None if netdisk else expiry(str(link.get("expires") or ""), day=day)
            if when is not None and when < day:
                expired += 1
                continue
            found.append(
                (
                    when,
                    dv.LinkItem(
                        who=who(item),
                        filename=clean_text(str(link.get("filename") or "（未写文件名）"), max_chars=80),
                        size=clean_text(str(link.get("size") or "—"), max_chars=20),
                        expires="" if netdisk else clean_text(str(link.get("expires") or "未写明"), max_chars=40),
                        days_left=(when - day).days if when else None,
                        url=url if url.lower().startswith(("https://", "http://")) else "",
                        provider=clean_text(str(link.get("provider") or "网盘"), max_chars=20) if netdisk else "",
                        code=code_text(link) if netdisk else "",
                    ),
                )
            )
    found.sort(key=lambda f: (f[0] is None, f[0] or day))
    return [f[1] for f in found], expired


def mailbox_rows(app: Sources, campaign: Campaign) -> list[dv.MailboxRow]:
    out: list[dv.MailboxRow] = []
    for box in app.settings.mailboxes:
        st = campaign.states.get(box.name)
        stale_after = max(dt.timedelta(seconds=3 * box.poll_seconds), dt.timedelta(hours=2))
        pending = False
        if st is None or st.last_poll_at is None:
            ok, state, pending = False, "尚未收信（服务启动后还没有轮到这个邮箱）", True
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
            dv.MailboxRow(
                name=box.name,
                label=KIND_SHORT[box.kind],
                address=box.address,
                ok=ok,
                pending=pending,
                state=state,
                last_ok=time_text(st.last_ok_at if st else None),
                last_error=clean_text(st.last_error or "", max_chars=160) if st and not ok else "",
                trouble=pollfailure.sentence(st.last_error) if st and st.last_error and not ok else "",
            )
        )
    return out
