"""Activity counts in the forms the held-out mail showed: tables of dated rows, 等三项活动, 十余场,
活动一：…活动二：, counts in figures listed side by side; and what still counts nothing."""

from __future__ import annotations

import pytest

from ingest.activities import stated
from ingest.tables import activity_table

ROWS_BY_LINE = (
    "我会线下活动情况如下：\n时间\t地点\t内容\n6月9日\t城中区\t讲座\n6月23日\t城东区\t演讲比赛\n7月14日\t城西区\t签名\n"
)
CELL_BY_LINE = (
    "具体情况如下：\n序号\n时间\n地点\n参加人数\n活动内容\n"
    "1\n6月12日\n特钢会议室\n60人\n讲座\n2\n7月3日上午\n职工书屋\n45人\n宣讲\n"
)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (ROWS_BY_LINE, 3),  # Outlook's table pasted as text: one row a line
        (CELL_BY_LINE, 2),  # a Word or Excel table read one cell a line
        ("共开展线下活动5场，情况如下：\n时间 地点 内容\n6月9日 城中区 讲座\n6月23日 城东区 比赛\n", 5),  # the larger
        ("先后开展了“网络安全进企业”“好网民宣讲进班组”“清朗网络签名”等三项活动。", 3),
        ("开展三项主题活动。", 3),
        ("累计举办线下活动十余场。", 10),
        ("共开展活动20多场。", 20),
        ("活动一：7月2日宣讲；活动二：7月20日比赛；活动三：8月8日签名。", 3),
        ("具体为：网络安全讲座1场、主题演讲比赛1场、知识竞赛2场。", 4),
        # what counts nothing
        ("7月16日开展宣讲。\n8月3日开展签名。", None),  # dates without a table header
        ("活动时间、地点由各基层工会自定。\n7月16日 开展宣讲", None),  # one dated line is no table
        ("落实五项措施，开展宣讲活动。", None),
        ("参加职工260余人次，发放资料3000份。", None),
        ("这一场活动很成功。", None),  # a lone 一场 in words stays a turn of phrase
    ],
)
def test_counts_as_units_write_them(text: str, count: int | None) -> None:
    found = stated(text)
    assert (found.number if found else None) == count


def test_a_table_is_quoted_by_its_dates_with_inner_quotes_as_single() -> None:
    table = activity_table(ROWS_BY_LINE)
    assert table is not None and table.dates == ("6月9日", "6月23日", "7月14日")
    found = stated(ROWS_BY_LINE)
    assert found is not None and found.phrase == "活动表列出6月9日、6月23日、7月14日的3项活动"
    quoted = stated("先后开展了“网络安全进企业”“清朗网络签名”等两项活动")
    assert quoted is not None and "“" not in quoted.phrase and "‘清朗网络签名’等两项活动" in quoted.phrase
