"""The digest's view: the typed rows and figures its templates read, and an example for template authors."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BAR_CELLS = 10


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
    provider: str = ""  # a net-disk share: its service, and its code (提取码 x7k2 / 未写提取码)
    code: str = ""

    @property
    def netdisk(self) -> bool:
        return bool(self.provider)

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
    pending: bool = False  # not polled yet: neither healthy nor failing
    last_ok: str
    last_error: str  # the technical line, for the admins
    trouble: str = ""  # the hosts' sentence for a failure: what happened and whom to ask


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
            LinkItem(
                who=text,
                filename=text,
                size="—",
                expires="",
                days_left=None,
                url="https://pan.baidu.com/s/1AbC",
                provider="百度网盘",
                code=f"提取码 {text}",
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
                trouble=text,
            ),
        ),
        count_notes=(
            CountNote(id=1, unit="西宁市总工会", activities=3, explanation=f"正文中写明“{text}”", check=False),
        ),
        count_notes_more=0,
        rule=("每份通过审核的线下活动汇总计 1 场。",),
    )
