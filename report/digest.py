"""The daily digest's content: a snapshot turned into the view the templates show, and its sending.

`build_view` turns a snapshot (report.snapshot) into the digest's view; `send_digest` hands it to
notify.digest, which sends each date's digest once; `catch_up` sends the last due digest if it was
missed while the service was down or a try failed, marked late.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from email.message import EmailMessage

from campaign.notice import (
    KIND_SHORT,
    LOCAL_TZ,
    MIN_WORKS,
    STATUS_LABELS,
    MailboxKind,
    local,
    today,
)
from campaign.settings import Settings
from notify import digest as nd
from notify import digest_view as dv
from report import counting
from report.sections import (
    ADMIN_LIMIT,
    LINK_LIMIT,
    NEW_LIMIT,
    NOTE_LIMIT,
    SHOWN_STATUSES,
    URGENT_LINK_DAYS,
    WAITING_LIMIT,
    WEEKDAYS,
    admin_items,
    date_text,
    deadline_rows,
    detail,
    due_at,
    held_line,
    is_late,
    link_items,
    mailbox_rows,
    time_text,
    waiting_items,
    what,
    who,
)
from report.snapshot import Campaign, Item, UnitFigures, gather
from report.sources import Sources
from store.enums import MessageStatus


def build_view(
    app: Sources,
    campaign: Campaign,
    *,
    day: dt.date,
    now: dt.datetime,
    late: bool,
    previous: tuple[dt.date, dt.datetime | None, int | None] | None,
) -> dv.DigestView:
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
            new = [i for i in campaign.items if prev_sent is None or i.received_at > prev_sent]  # stored since
        since = f"{date_text(prev_day, year=day.year)}的日报以来"
    # answers to our replies are shown when they say something (a unit may ask a question), never counted
    talk = [i for i in campaign.conversations if i.remarks and (previous is None or _since(i, previous))]
    new = sorted([*new, *talk], key=lambda i: i.id)
    new_activity: dict[str, int] = defaultdict(int)
    new_works: dict[MailboxKind, int] = defaultdict(int)
    for item in new:
        if item.status is MessageStatus.ACCEPTED and item.unit:
            if item.kind is MailboxKind.OFFLINE_ACTIVITY:
                new_activity[item.unit] += item.count.activities if item.count else 1
            else:
                new_works[item.kind] += 1
    status_counts = [(STATUS_LABELS[s.value][0], sum(1 for i in new if i.status is s)) for s in SHOWN_STATUSES]
    new_items = [
        dv.NewItem(
            id=i.id,
            when=time_text(i.arrived_at, year=day.year),
            collection=KIND_SHORT[i.kind],
            who=who(i),
            subject=what(i),
            status=STATUS_LABELS[i.status.value][0],
            tone=STATUS_LABELS[i.status.value][1],
            detail=detail(i),
        )
        for i in new[-NEW_LIMIT:]
    ]

    waiting = waiting_items(campaign, day=day)
    waiting_units = {w.who for w in waiting if w.collection == KIND_SHORT[MailboxKind.OFFLINE_ACTIVITY]}

    def unit_row(u: UnitFigures) -> dv.UnitRow:
        return dv.UnitRow(
            number=str(u.number or ""),
            name=u.name,
            activities=dv.Progress(done=u.activities, target=u.quota),
            reports=u.reports,
            photos=u.photos,
            last_report=date_text(local(u.last_report).date(), year=day.year) if u.last_report else "—",
            new=new_activity.get(u.name, 0),
            waiting=u.name in waiting_units,
        )

    quota_units = campaign.quota_units
    units = tuple(unit_row(u) for u in quota_units)
    others = tuple(unit_row(u) for u in campaign.units if not u.quota and (u.reports or u.activities or u.total_works))
    collections = tuple(
        dv.CollectionRow(
            number=c.number,
            label=c.label,
            organiser=c.organiser,
            address="、".join(c.addresses),
            works=dv.Progress(done=c.accepted, target=MIN_WORKS),
            received=c.received,
            rejected=c.rejected,
            new=new_works.get(c.kind, 0),
        )
        for c in campaign.collections
    )
    matrix = tuple(
        dv.MatrixRow(
            unit=u.name, cells=tuple(u.works.get(c.kind, 0) for c in campaign.collections), total=u.total_works
        )
        for u in campaign.units
        if u.total_works
    )
    admin = admin_items(campaign, day=day)
    links, expired = link_items(campaign, day=day)
    mailboxes = mailbox_rows(app, campaign)
    noted = [
        dv.CountNote(
            id=i.id,
            unit=who(i),
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
    deadlines = deadline_rows(settings, day)
    behind = sum(1 for u in quota_units if u.activities < (u.quota or 0))
    short = sum(1 for c in campaign.collections if c.accepted < MIN_WORKS)

    todo: list[str] = []
    if admin:
        todo.append(f"{len(admin)} 项需要管理员处理（处理失败、未审核或回复未能发出的邮件）")
    if campaign.held:
        todo.append(held_line(campaign.held, year=day.year))
    urgent = sum(1 for link in links if link.urgent)
    large = sum(1 for link in links if not link.netdisk)
    if large:
        soon = f"，其中 {urgent} 个 {URGENT_LINK_DAYS} 天内过期" if urgent else ""
        todo.append(f"{large} 个超大附件链接待下载{soon}")
    if len(links) > large:
        todo.append(f"{len(links) - large} 个网盘链接待下载（提取码见“六、下载链接”）")
    bad_boxes = [f"{m.label}（{m.name}）" for m in mailboxes if not m.ok and not m.pending]
    if bad_boxes:
        todo.append(f"{len(bad_boxes)} 个邮箱收信异常：{'、'.join(bad_boxes)}，请管理员查看“邮箱状态”")
    if waiting:
        todo.append(f"{len(waiting)} 份退回的报送尚未重新报送")
    if talk:
        todo.append(f"{len(talk)} 封单位答复本服务回复的来信（未附报送材料），请阅读：见新收到的邮件中的“来信”")
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
            f"本期日报应于 {date_text(due.date())} {due:%H:%M} 发出，因服务停止或发送失败延误，"
            f"于 {date_text(now.astimezone(LOCAL_TZ).date())} {now.astimezone(LOCAL_TZ):%H:%M} 补发；"
            "内容为补发时的最新情况。"
        )
        if previous is not None:
            gap = (day - previous[0]).days - 1
            missed = [date_text(previous[0] + dt.timedelta(days=k + 1), year=day.year) for k in range(min(gap, 10))]
            if gap > 10:
                missed.append(f"等共 {gap} 天")
    now_local = now.astimezone(LOCAL_TZ)
    return dv.DigestView(
        day=day.isoformat(),
        day_text=f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）",
        generated=f"{date_text(now_local.date())} {now_local:%H:%M}",
        campaign=settings.replies.campaign,
        contact=settings.replies.contact,
        late=late,
        late_text=late_text,
        missed_days=tuple(missed),
        todo=tuple(todo),
        deadlines=tuple(deadlines),
        units=units,
        unit_total=dv.Progress(
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


def _since(item: Item, previous: tuple[dt.date, dt.datetime | None, int | None]) -> bool:
    """Whether item is new since the previous digest (by the newest message it covered, else by time)."""
    _, sent, through = previous
    if through is not None:
        return item.id > through
    return sent is None or item.received_at > sent


def _previous(app: Sources, day: dt.date) -> tuple[dt.date, dt.datetime | None, int | None] | None:
    with app.sessions() as session:
        prev = nd.previous_sent(session, day=day)
        return (prev.day, prev.sent_at, prev.through_message_id) if prev is not None else None


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(LOCAL_TZ)


def compose(app: Sources, *, day: dt.date, now: dt.datetime, late: bool) -> tuple[EmailMessage, int | None]:
    """The digest message for day as it stands now, and the newest message id it covers."""
    campaign = gather(app, now=now)
    view = build_view(app, campaign, day=day, now=now, late=late, previous=_previous(app, day))
    message = nd.compose_digest(
        renderer=app.renderer, view=view, sender=app.settings.smtp.sender, recipients=app.settings.digest.recipients
    )
    return message, campaign.through_message_id


def preview(app: Sources, *, day: dt.date, now: dt.datetime | None = None) -> EmailMessage:
    """The digest for day exactly as `send_digest` would send it now (nothing is recorded)."""
    moment = _now(now)
    return compose(app, day=day, now=moment, late=is_late(app.settings, day, moment))[0]


def send_digest(app: Sources, *, day: dt.date, now: dt.datetime | None = None) -> nd.Outcome:
    """Send day's digest unless it was sent already or another worker is sending it (see notify.digest)."""
    moment = _now(now)
    late = is_late(app.settings, day, moment)
    return nd.send_once(
        app.sessions,
        smtp=app.settings.smtp,
        day=day,
        late=late,
        now=moment,
        recipients=app.settings.digest.recipients,
        make=lambda: compose(app, day=day, now=moment, late=late),
    )


def last_due_day(settings: Settings, now: dt.datetime) -> dt.date:
    """The latest date whose digest time has passed at now."""
    date = today(now)
    return date if now >= due_at(settings, date) else date - dt.timedelta(days=1)


def catch_up(app: Sources, *, now: dt.datetime | None = None) -> tuple[dt.date, nd.Outcome] | None:
    """Send the last due digest if it is missing or failed (marked late when past its time); None when there
    is nothing to do. A fresh installation (no digest ever) waits for the scheduled time instead."""
    moment = _now(now)
    day = last_due_day(app.settings, moment)
    with app.sessions() as session:
        if not nd.any_digest(session):
            return None
        if nd.sent(session, day=day):
            return None
    return day, send_digest(app, day=day, now=moment)


def summary_lines(outcome: nd.Outcome, *, day: dt.date, recipients: Sequence[str]) -> str:
    if outcome is nd.Outcome.SENT:
        return f"digest for {day} sent to {', '.join(recipients)}"
    if outcome is nd.Outcome.ALREADY_SENT:
        return f"digest for {day} was already sent"
    return f"digest for {day} is being sent by another worker"
