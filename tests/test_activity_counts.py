"""Activities counted as written: enumerations, online parts, Chinese numerals, read as a host reads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from devservers import samples
from devservers.smtpsink import SmtpSink
from ingest.activities import stated
from ingest.numerals import number_of
from intake.cli import cli

# (what a unit wrote, what a host counts): sentences as union staff write them in a report's body
WRITTEN: list[tuple[str, int | None]] = [
    # enumerations, each item one activity
    (
        "今年以来，我会围绕“网聚职工正能量”开展了系列活动：一是6月10日组织职工开展网络安全知识讲座一场；"
        "二是6月18日举办“争做中国好网民”主题演讲比赛一场；三是7月2日组织职工观看网络安全警示教育片一次。",
        3,
    ),
    ("一是开展网络文明宣讲活动一场，参加职工80人；二是举办网络安全知识竞赛一场；三是组织“好网民”主题征文活动一次。", 3),
    (
        "一、6月12日，在公司会议室开展网络安全知识讲座一场，参加职工45人。\n二、6月20日，组织职工参观网络安全展览一次。\n"
        "三、7月5日，举办“争做好网民”演讲比赛一场。",
        3,
    ),
    ("（一）开展“网聚正能量”主题宣讲一场；（二）举办网络安全知识竞赛一场；（三）组织职工参加志愿服务活动一次。", 3),
    ("1.6月15日开展网络安全宣传进班组活动一场；\n2.6月28日举办网络文明沙龙一场；\n3.7月8日开展故事分享会一场。", 3),
    ("1、开展网络安全宣讲一场；2、举办知识竞赛一场。", 2),
    ("第一场在西宁市城东区职工之家举行，参加职工60人；第二场在城西区职工服务中心举行，参加职工52人。", 2),
    ("一是开展宣讲活动2场；二是举办知识竞赛一场；三是组织观影活动一次。", 4),
    ("今年以来，我会开展线下活动3场：一是宣讲一场；二是竞赛一场；三是观影一次。", 3),  # the same three
    ("一是举办讲座一场；二是开展线上知识答题一次；三是组织参观一次。", 2),  # the online one is left out
    # totals with an online part
    ("共开展活动5场，其中线上知识竞赛1场。", 4),
    ("我会共开展“好网民”主题活动5场，其中线上网络知识竞赛1场、线下宣讲活动4场。", 4),
    ("开展线下活动3场、线上活动2场。", 3),
    ("共开展活动4场（其中线上直播讲座2场）。", 2),
    ("共开展线上线下活动6场，其中线上2场。", 4),
    ("共开展线下活动6场，其中线下宣讲4场、线上竞赛2场。", 4),
    ("共开展线下活动5场，其中进企业3场、进社区2场。", 5),  # a breakdown by place is no online part
    # Chinese numerals in every usual form
    ("本月开展活动两场。", 2),
    ("组织职工开展网络安全宣讲活动俩场。", 2),
    ("累计开展线下活动十二场，覆盖职工1200余人。", 12),
    ("截至8月底，全州各级工会共开展线下活动二十场。", 20),
    ("共举办主题活动廿场。", 20),
    ("共开展活动一十五场。", 15),
    ("共开展线下活动叁场。", 3),
    ("全年共开展活动贰拾场。", 20),
    ("开展线下活动３场，参加职工２６０人。", 3),  # full-width figures
    ("6月开展活动2场，7月开展活动3场。", 5),
    # ordinals, dates, people and figures of speech are no counts
    ("这是第3场活动的照片。", None),
    ("在这一场突如其来的疫情中，职工们坚守岗位。", None),
    ("一是提高政治站位；二是加强组织领导；三是注重宣传引导。", None),
    ("一是打赢一场疫情防控阻击战；二是开展主题活动。", None),
    ("6月10日开展网络安全进企业活动，参加职工3.5万人次。", None),
    ("我单位于2020.6.10开展网络安全宣讲活动，参加职工120人。", None),
    ("线上开展网络知识答题活动2场。", None),
    ("统一是我们的目标，举办活动一场。", None),
]


@pytest.mark.parametrize(("text", "number"), WRITTEN, ids=[str(i) for i in range(len(WRITTEN))])
def test_activities_are_counted_as_written(text: str, number: int | None) -> None:
    found = stated(text)
    assert (found.number if found else None) == number, found
    if found is not None:
        assert found.phrase and len(found.phrase) <= 120


def test_the_words_that_state_the_count_are_kept() -> None:
    three = stated("一是开展网络文明宣讲活动一场；二是举办网络安全知识竞赛一场；三是组织“好网民”主题征文活动一次。")
    assert three is not None and three.phrase.startswith("一是…") and "三是…" in three.phrase
    online = stated("共开展活动5场，其中线上知识竞赛1场。")
    assert online is not None and online.phrase == "共开展活动5场，其中线上知识竞赛1场"


@pytest.mark.parametrize(
    ("written", "number"),
    [
        *[("两", 2), ("俩", 2), ("十二", 12), ("二十", 20), ("廿", 20), ("廿一", 21), ("一十五", 15), ("叁", 3)],
        *[("贰拾", 20), ("〇", 0), ("３", 3), ("12", 12), ("一二", None), ("壹贰叁", None), ("场", None)],
    ],
)
def test_numerals(written: str, number: int | None) -> None:
    assert number_of(written) == number


@pytest.mark.servers
def test_the_digest_counts_reports_as_written(settings_path: Path, tmp_path: Path, smtp: SmtpSink) -> None:
    # Given three reports, imported as a unit's mail would arrive, each stating its count its own way
    reports = [
        (
            "西宁市总工会",
            "xnzgh@163.com",
            "6月以来，我会开展“网聚职工正能量”活动：一是6月10日组织职工开展网络安全知识讲座一场；"
            "二是6月18日举办“争做中国好网民”演讲比赛一场；三是7月2日组织职工观看网络安全警示教育片一次。",
        ),
        ("西宁市总工会", "xnzgh@163.com", "7月共开展活动5场，其中线上知识竞赛1场，参加职工300余人。"),
        ("海南州总工会", "hnz@126.com", "我会开展线下活动叁场、线上活动两场，参加职工200人。"),
    ]
    runner = CliRunner()
    for index, (unit, sender, text) in enumerate(reports):
        eml = tmp_path / f"report{index}.eml"
        eml.write_bytes(samples.offline_report(unit=unit, sender=sender, description=text, client="qq"))
        result = runner.invoke(cli, ["--config", str(settings_path), "import", "--mailbox", "reports", str(eml)])
        assert result.exit_code == 0 and "accepted" in result.output, result.output

    # When the hosts preview the digest
    out = tmp_path / "digest.txt"
    result = runner.invoke(cli, ["--config", str(settings_path), "digest", "--preview", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")

    # Then each unit counts what its reports state, and each report says why
    assert "西宁市总工会：7/10" in text and "海南州总工会：3/5" in text
    said = re.findall(r"#\d+ (\S+?：计 \d+ 场，正文中写明“.+?”)\n", text)
    assert "西宁市总工会：计 4 场，正文中写明“7月共开展活动5场，其中线上知识竞赛1场”" in said
    assert "海南州总工会：计 3 场，正文中写明“我会开展线下活动叁场”" in said
    (listed,) = [line for line in said if line.startswith("西宁市总工会：计 3 场，正文中写明“一是…")]
    assert "二是…" in listed and "三是…" in listed
