"""The summary table (汇总表) as an xlsx workbook: per unit, per collection, every submission and file.

Everything is in Annex 1 order and comes from the same snapshot as the digest (`report.digest.gather`).
Text from senders is written as text, never as a formula (a subject like `=HYPERLINK(…)` stays a
string), without control characters, and capped at Excel's cell limit; the file is written to a
temporary name and renamed, so a reader never sees half a workbook.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from campaign.notice import (
    FILE_KIND_LABELS,
    KIND_SHORT,
    MIN_WORKS,
    REPLY_KIND_LABELS,
    REPLY_STATUS_LABELS,
    STATUS_LABELS,
    MailboxKind,
    local,
)
from notify.linktext import link_line
from notify.render import filesize
from report import counting
from report.snapshot import Campaign, Item, gather
from report.sources import Sources
from store.private import make_private, private_folder, write_private

CELL_LIMIT = 32767
FORMULA_STARTS = frozenset("=+-@\t\r")  # what spreadsheets take for the start of a formula
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6EE")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F5F8")
_THIN = Side(style="thin", color="B7C3CE")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")

Value = str | int | float | dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class ExportSummary:
    path: Path
    units: int
    collections: int
    submissions: int
    files: int


def _clean(value: str) -> str:
    """Text a spreadsheet accepts: no control characters but newlines, at most one cell's worth."""
    text = "".join(ch if ch == "\n" or (ch >= " " and ch not in "\x7f") else " " for ch in value)
    text = "".join(ch for ch in text if not ("\ud800" <= ch <= "\udfff") and ch not in "\ufffe\uffff")
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def put(ws: Worksheet, row: int, col: int, value: Value, *, fmt: str | None = None) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = _clean(value)
        cell.data_type = "s"  # never a formula, whatever the sender wrote
        # and it stays text after an edit or a CSV round trip: Excel's own "'" prefix
        cell.quotePrefix = value.lstrip()[:1] in FORMULA_STARTS
        cell.alignment = _WRAP if "\n" in value else _TOP
    else:
        cell.value = value
        cell.alignment = _TOP
    cell.border = _BORDER
    if fmt:
        cell.number_format = fmt


def sheet(
    wb: Workbook, title: str, heading: str, columns: Sequence[tuple[str, int]], *, first: bool = False
) -> Worksheet:
    ws = wb.active if first and wb.active is not None else wb.create_sheet()
    assert isinstance(ws, Worksheet)
    ws.title = title
    ws.cell(row=1, column=1, value=heading).font = _TITLE
    for col, (name, width) in enumerate(columns, start=1):
        cell = ws.cell(row=2, column=col, value=name)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"
    return ws


def _when(ts: dt.datetime | None) -> dt.datetime | None:
    return local(ts).replace(tzinfo=None) if ts is not None else None


def _units(wb: Workbook, campaign: Campaign, heading: str) -> int:
    kinds = [c.kind for c in campaign.collections]
    ws = sheet(
        wb,
        "单位汇总",
        heading,
        [
            ("序号", 6),
            ("单位", 30),
            ("线下活动任务（场）", 10),
            ("已开展（场）", 10),
            ("完成率", 9),
            ("通过的报告（份）", 10),
            ("照片（张）", 9),
            ("最近报送", 17),
            *[(f"{KIND_SHORT[k]}（件）", 9) for k in kinds],
            ("作品合计（件）", 10),
        ],
        first=True,
    )
    row = 3

    def write(
        number: str | int,
        name: str,
        quota: int | None,
        activities: int,
        reports: int,
        photos: int,
        last: dt.datetime | None,
        works: list[int],
    ) -> None:
        nonlocal row
        values: list[tuple[Value, str | None]] = [
            (number, None),
            (name, None),
            (quota, None),
            (activities, None),
            (activities / quota if quota else None, "0%"),
            (reports, None),
            (photos, None),
            (last, "yyyy-mm-dd hh:mm"),
            *[(n, None) for n in works],
            (sum(works), None),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            put(ws, row, col, value, fmt=fmt)
        row += 1

    quota_units = campaign.quota_units
    for u in quota_units:
        write(
            u.number or "",
            u.name,
            u.quota,
            u.activities,
            u.reports,
            u.photos,
            _when(u.last_report),
            [u.works.get(k, 0) for k in kinds],
        )
    write(
        "",
        "合计",
        sum(u.quota or 0 for u in quota_units),
        sum(u.activities for u in quota_units),
        sum(u.reports for u in quota_units),
        sum(u.photos for u in quota_units),
        None,
        [sum(u.works.get(k, 0) for u in quota_units) for k in kinds],
    )
    for col in range(1, 10 + len(kinds)):
        ws.cell(row=row - 1, column=col).font = _BOLD
        ws.cell(row=row - 1, column=col).fill = _TOTAL_FILL
    for u in campaign.units:
        if not u.quota:
            write(
                "",
                f"{u.name}（附件1未分配任务）",
                None,
                u.activities,
                u.reports,
                u.photos,
                _when(u.last_report),
                [u.works.get(k, 0) for k in kinds],
            )
    return len(campaign.units)


def _collections(wb: Workbook, campaign: Campaign, heading: str) -> int:
    ws = sheet(
        wb,
        "征集汇总",
        heading,
        [
            ("序号", 6),
            ("子项目", 28),
            ("承办单位", 28),
            ("报送邮箱", 24),
            ("收到邮件（封）", 10),
            ("通过作品（件）", 10),
            ("最低要求（件）", 10),
            ("完成率", 9),
            ("尚差（件）", 9),
            ("退回（封）", 9),
            ("各单位通过的作品", 40),
        ],
    )
    for row, c in enumerate(campaign.collections, start=3):
        by_unit = "\n".join(
            f"{name} {n} 件"
            for name, n in sorted(
                c.by_unit.items(),
                key=lambda kv: next((i for i, u in enumerate(campaign.units) if u.name == kv[0]), 999),
            )
        )
        values: list[tuple[Value, str | None]] = [
            (c.number, None),
            (c.label, None),
            (c.organiser, None),
            ("\n".join(c.addresses), None),
            (c.received, None),
            (c.accepted, None),
            (MIN_WORKS, None),
            (c.accepted / MIN_WORKS, "0%"),
            (max(0, MIN_WORKS - c.accepted), None),
            (c.rejected, None),
            (by_unit, None),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            put(ws, row, col, value, fmt=fmt)
    return len(campaign.collections)


def _ordered(campaign: Campaign) -> list[Item]:
    """Submissions in Annex 1 order of their unit (unknown units last), reports first, then by time."""
    unit_order = {u.name: i for i, u in enumerate(campaign.units)}
    kind_order = {MailboxKind.OFFLINE_ACTIVITY: -1, **{c.kind: i for i, c in enumerate(campaign.collections)}}
    return sorted(
        campaign.items,
        key=lambda i: (
            unit_order.get(i.unit or "", len(unit_order)),
            kind_order.get(i.kind, 99),
            i.arrived_at,
            i.id,
        ),
    )


def _submissions(wb: Workbook, items: list[Item], heading: str) -> int:
    ws = sheet(
        wb,
        "报送明细",
        heading,
        [
            ("编号", 7),
            ("类别", 9),
            ("单位", 24),
            ("作品名称", 20),
            ("邮件标题", 30),
            ("发件人", 22),
            ("收到时间", 17),
            ("结果", 8),
            ("原因", 36),
            ("计入场次", 8),
            ("计数依据", 30),
            ("逾期", 6),
            ("文件数", 7),
            ("文件", 40),
            ("下载链接（超大附件、网盘）", 40),
            ("回复", 18),
        ],
    )
    for row, i in enumerate(items, start=3):
        files = "\n".join(
            f"{f.name}（{f.label or FILE_KIND_LABELS[f.kind.value]}，{filesize(f.size)}"
            f"{'' if f.counted else '，不计入'}）"
            for f in i.files
        )
        links = "\n".join(link_line(link) for link in i.links)
        count = i.count
        values: list[tuple[Value, str | None]] = [
            (i.id, None),
            (KIND_SHORT[i.kind], None),
            (i.unit or "（未识别）", None),
            (i.title or "", None),
            (i.subject, None),
            (i.sender, None),
            (_when(i.arrived_at), "yyyy-mm-dd hh:mm"),
            (STATUS_LABELS[i.status.value][0], None),
            ("\n".join((*i.reasons, *i.work_notes)), None),
            (count.activities if count is not None else None, None),
            (count.explanation if count is not None else "", None),
            ("是" if i.late else "", None),
            (sum(1 for f in i.files if f.counted), None),
            (files, None),
            (links, None),
            (_reply_text(i.reply), None),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            put(ws, row, col, value, fmt=fmt)
    if items:
        ws.auto_filter.ref = f"A2:{get_column_letter(16)}{len(items) + 2}"
    return len(items)


def _reply_text(reply: str | None) -> str:
    if not reply:
        return ""
    kind, _, status = reply.partition(": ")
    return f"{REPLY_KIND_LABELS.get(kind, kind)}{REPLY_STATUS_LABELS.get(status, status)}"


def _files(wb: Workbook, items: list[Item], heading: str) -> int:
    ws = sheet(
        wb,
        "文件明细",
        heading,
        [
            ("报送编号", 8),
            ("单位", 24),
            ("类别", 9),
            ("文件名", 36),
            ("所在压缩包", 24),
            ("类型", 16),
            ("大小（字节）", 12),
            ("有效", 6),
            ("计入", 6),
            ("问题", 36),
        ],
    )
    row = 3
    for i in items:
        for f in i.files:
            values: list[Value] = [
                i.id,
                i.unit or "（未识别）",
                KIND_SHORT[i.kind],
                f.name,
                f.container or "",
                f.label or FILE_KIND_LABELS[f.kind.value],
                f.size,
                "是" if f.valid else "否",
                "是" if f.counted else "否",
                "\n".join(f.problems),
            ]
            for col, value in enumerate(values, start=1):
                put(ws, row, col, value)
            row += 1
    if row > 3:
        ws.auto_filter.ref = f"A2:J{row - 1}"
    return row - 3


def _notes(wb: Workbook, campaign: Campaign, heading: str, campaign_name: str) -> None:
    ws = wb.create_sheet("说明")
    ws.column_dimensions["A"].width = 110
    ws.cell(row=1, column=1, value=heading).font = _TITLE
    lines = [
        f"活动：“{campaign_name}”主题活动（青总发〔2020〕25号）",
        f"生成时间：{local(campaign.taken_at):%Y-%m-%d %H:%M}（北京时间）",
        "单位顺序按附件1任务分配表；征集项目按附件1中承办单位的顺序。",
        f"征集作品：每项至少 {MIN_WORKS} 件；同一单位同名作品重复报送只计 1 件；收到邮件含退回的。",
        "照片：通过审核的报告中有效、且此前未收到过的照片。",
        "计数规则：",
        *(f"  {line}" for line in counting.RULE_TEXT),
    ]
    for row, line in enumerate(lines, start=3):
        put(ws, row, 1, line)
        ws.cell(row=row, column=1).border = Border()


def export_xlsx(app: Sources, path: Path, *, now: dt.datetime | None = None) -> ExportSummary:
    """Write the workbook to path (atomically) and say what it holds."""
    campaign = gather(app, now=now)
    stamp = local(campaign.taken_at)
    heading = f"“{app.settings.replies.campaign}”主题活动汇总表（截至 {stamp:%Y-%m-%d %H:%M}）"
    items = _ordered(campaign)
    wb = Workbook()
    units = _units(wb, campaign, heading)
    collections = _collections(wb, campaign, heading)
    submissions = _submissions(wb, items, heading)
    files = _files(wb, items, heading)
    _notes(wb, campaign, heading, app.settings.replies.campaign)
    wb.properties.title = heading
    wb.properties.creator = "mailbox intake"
    private_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_private(tmp, b"")  # 0600 before openpyxl writes into it: senders' names and addresses
        wb.save(tmp)
        make_private(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportSummary(path=path, units=units, collections=collections, submissions=submissions, files=files)
