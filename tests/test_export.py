"""`intake export --xlsx`: the summary table against the database, in Annex 1 order, opening cleanly."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from test_digest import Campaign, db_unit, load_traffic
from test_digest import app as app  # the fixtures, re-exported so that pytest finds them here
from test_digest import campaign as campaign

from devservers import samples
from intake.app import App
from intake.cli import cli
from store.enums import MessageStatus
from store.models import ActivityCount, Attachment, Message

pytestmark = pytest.mark.servers

FORMULA = '=HYPERLINK("http://evil.example/","点我领奖")'
ANNEX = ["西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会"]


def rows(ws: Worksheet) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows(min_row=3)]


def test_export_matches_the_database_in_annex_order(campaign: Campaign, app: App, tmp_path: Path) -> None:
    load_traffic(campaign, app)
    campaign.reports(samples.wrong_subject(subject=FORMULA, sender="prize@example.com"))
    app.poll()
    out = tmp_path / "汇总表.xlsx"
    result = CliRunner().invoke(
        cli, ["--config", str(campaign.config), "export", "--xlsx", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    with app.sessions() as session:
        submissions = list(session.scalars(select(Message).where(Message.status != MessageStatus.IGNORED)))
        files = session.scalar(
            select(func.count()).select_from(Attachment).join(Message).where(Message.status != MessageStatus.IGNORED)
        )
    assert f"{len(submissions)} submissions, {files} files" in result.output

    # a well-formed package whose cells hold no formula at all
    with zipfile.ZipFile(out) as package:
        assert package.testzip() is None
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 5
        assert not any(re.search(rb"<f[ >]", package.read(n)) for n in sheets)

    wb = load_workbook(out)
    assert wb.sheetnames == ["单位汇总", "征集汇总", "报送明细", "文件明细", "说明"]

    units = wb["单位汇总"]
    assert [c.value for c in units[2]][:8] == [
        "序号",
        "单位",
        "线下活动任务（场）",
        "已开展（场）",
        "完成率",
        "通过的报告（份）",
        "照片（张）",
        "最近报送",
    ]
    table = rows(units)
    assert [r[1] for r in table] == [*ANNEX, "合计", "海东市总工会（附件1未分配任务）"]
    activities = {"西宁市总工会": 4, "海南州总工会": 1, "黄南州总工会": 0, "青海省建设工会": 1}
    for r in table[:4]:
        name = str(r[1])
        assert r[3] == activities[name]
        assert (r[5], r[6]) == db_unit(app, name)
    assert table[4][2:4] == [25, 6]
    assert table[0][4] == pytest.approx(0.4) and units.cell(row=3, column=5).number_format == "0%"
    assert table[0][8:10] == [1, 1]  # one work on the service-platform collection, one in all

    (collection,) = rows(wb["征集汇总"])
    assert collection[1:3] == ["互联网+普惠服务优秀平台征集", "海南州总工会"]
    assert collection[4:7] == [3, 2, 6] and collection[8] == 4

    detail = wb["报送明细"]
    table = rows(detail)
    assert sorted(int(str(r[0])) for r in table) == sorted(m.id for m in submissions)
    order = [ANNEX.index(str(r[2])) if r[2] in ANNEX else len(ANNEX) for r in table]
    assert order == sorted(order)  # Annex 1 order, unknown units last
    xining = [r for r in table if r[2] == "西宁市总工会"]
    assert [r[1] for r in xining] == ["线下活动", "线下活动", "普惠平台", "普惠平台"]
    assert [r[9] for r in xining[:2]] == [1, 3]
    assert "正文中写明“西宁市总工会共开展线下活动3场”" in str(xining[1][10])
    assert xining[0][12] == 2 and str(xining[0][13]).count("\n") == 1  # two photos, one line each
    link_row = next(r for r in table if r[2] == "青海省建设工会")
    assert "活动视频.mp4" in str(link_row[14]) and "mail.qq.com" in str(link_row[14])
    # sender text stays text: the formula is a string cell, the markup is kept as typed
    formula = next(c for c in detail["E"] if c.value == FORMULA)
    assert formula.data_type == "s"
    assert formula.quotePrefix  # and stays text when edited or saved as CSV (shown as '=HYPERLINK…)
    assert not any(c.quotePrefix for c in detail["B"] if isinstance(c.value, str))  # plain text is left alone
    assert any("<script>alert(1)</script>" in str(r[4]) for r in table)

    assert len(rows(wb["文件明细"])) == files
    notes = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    assert "开展线下活动3场" in notes and "附件1" in notes


def test_export_of_an_empty_campaign(campaign: Campaign, tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    result = CliRunner().invoke(
        cli, ["--config", str(campaign.config), "export", "--xlsx", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert [r[1] for r in rows(wb["单位汇总"])][:5] == [*ANNEX, "合计"]
    assert rows(wb["报送明细"]) == []
    result = CliRunner().invoke(
        cli,
        ["--config", str(campaign.config), "export", "--xlsx", str(tmp_path / "missing" / "dir" / "x.xlsx")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0  # folders are made


def _every_row(app: App) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in key order: what a read must leave exactly as it was."""
    with app.sessions() as session:
        return {
            table.name: [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Message.metadata.sorted_tables
        }


def test_reports_are_counted_when_judged_and_reading_writes_nothing(
    campaign: Campaign, app: App, tmp_path: Path
) -> None:
    # Given a morning's mail, judged
    load_traffic(campaign, app)
    with app.sessions() as session:
        stated = session.execute(
            select(ActivityCount.stated, ActivityCount.phrase).join(Message).where(Message.unit == "西宁市总工会")
        ).all()
    # Then each accepted report's count was read when it was judged, before any digest or export
    assert sorted((tuple(r) for r in stated), key=str) == [(3, "西宁市总工会共开展线下活动3场"), (None, None)]
    before = _every_row(app)

    # When the hosts preview the digest and export the summary table
    preview = tmp_path / "digest.html"
    for args in (["digest", "--preview", str(preview)], ["export", "--xlsx", str(tmp_path / "t.xlsx")]):
        result = CliRunner().invoke(cli, ["--config", str(campaign.config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    # Then the database is exactly as it was
    assert _every_row(app) == before
    assert "共开展线下活动3场" in preview.read_text(encoding="utf-8")
