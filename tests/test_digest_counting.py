"""The activity-counting rule: what a report's description states, and what the report counts."""

from __future__ import annotations

import pytest

from ingest.activities import stated
from report.counting import MAX_PLAUSIBLE, Basis, count_of


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("6月10日，我会开展线下活动3场，参加职工260人。", 3),
        ("本月共开展两场“好网民”主题活动。", 2),
        ("组织职工开展网络安全宣讲活动３场次。", 3),  # full-width digit
        ("6月开展活动2场，7月开展活动3场。", 5),  # separate statements add up
        ("共开展线下活动5场，其中进企业3场、进社区2场。", 5),  # a stated total wins
        ("开展线下活动5场，其中进企业3场、进社区2场。", 5),  # “…，其中…” marks a total
        ("累计举办十二场线下活动", 12),
        ("开展“好网民”进班组活动4次。", 4),
    ],
)
def test_stated_numbers(text: str, number: int) -> None:
    found = stated(text)
    assert found is not None and found.number == number, found
    assert found.phrase


@pytest.mark.parametrize(
    "text",
    [
        # dates and people are not activities
        "6月3日，西宁市总工会组织开展主题线下活动，参加职工123人（联系人：许堃）。",
        "这是第3场活动的照片。",  # an ordinal
        "在这一场突如其来的疫情中，职工们坚守岗位。",  # “一场” as a turn of phrase
        "活动现场气氛热烈，会场座无虚席，覆盖职工5000人次。",
        "转发3次以上的稿件另行统计。",  # 次 without an activity
        "",
    ],
)
def test_no_statement(text: str) -> None:
    assert stated(text) is None


def test_counts_follow_the_rule() -> None:
    assert count_of(accepted=True, corrected=None, stated_number=None, phrase=None).activities == 1
    three = count_of(accepted=True, corrected=None, stated_number=3, phrase="开展线下活动3场")
    assert (three.activities, three.basis) == (3, Basis.STATED)
    assert "开展线下活动3场" in three.explanation
    too_many = count_of(accepted=True, corrected=None, stated_number=MAX_PLAUSIBLE + 1, phrase="开展活动120场")
    assert (too_many.activities, too_many.basis, too_many.needs_check) == (1, Basis.IMPLAUSIBLE, True)
    rejected = count_of(accepted=False, corrected=None, stated_number=3, phrase="x")
    assert (rejected.activities, rejected.basis) == (0, Basis.NOT_ACCEPTED)
    fixed = count_of(accepted=True, corrected=0, stated_number=3, phrase="x", note="重复报送")
    assert (fixed.activities, fixed.basis) == (0, Basis.CORRECTED)
    assert "重复报送" in fixed.explanation
