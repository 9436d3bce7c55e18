"""Units named as people really write them: registered and former names, short forms, traditional
characters, 开展情况汇总, two units too alike to tell, units not on the roster (never quoted cut)."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.notice import MailboxKind
from campaign.settings import Unit
from ingest.mail.ours import without_our_suffixes
from ingest.roster import Roster
from ingest.rules.subject import check_subject
from intake.config import load

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
# the example's roster (Annex 1 and the other prefectures), and a unit that Annex 1 does not list,
# named by its short form, whose company's registered name is much longer
ROSTER = Roster(units=(*load(EXAMPLE).units, Unit(name="青海油田工会")))
R, V, P, S, L = (
    MailboxKind.OFFLINE_ACTIVITY,
    MailboxKind.MICRO_VIDEO,
    MailboxKind.PHOTOGRAPHY,
    MailboxKind.SONG,
    MailboxKind.MICRO_LESSON,
)
TAKEN = "已按“{}”登记"

# (subject, mailbox kind, the unit registered or None, the title or None, what the sender reads)
CASES = [
    # a group's registered name for the short form on the roster: recognised, told, remarked
    ("中国石油天然气股份有限公司青海油田分公司工会线下活动汇总", R, "青海油田工会", None, TAKEN),
    ("青海油田分公司工会线下活动汇总", R, "青海油田工会", None, TAKEN),
    ("【青海油田工会】7月线下活动汇总", R, "青海油田工会", None, ""),
    # Annex 1's names, their former and registered names, everyday short forms
    ("中国铁路青藏集团有限公司工会线下活动汇总", R, "中国铁路青藏集团有限公司工会", None, ""),
    ("青藏铁路公司工会线下活动汇总", R, "中国铁路青藏集团有限公司工会", None, TAKEN),
    ("青藏铁路工会线下活动汇总", R, "中国铁路青藏集团有限公司工会", None, TAKEN),
    ("线下活动汇总（青藏铁路工会）", R, "中国铁路青藏集团有限公司工会", None, TAKEN),
    ("国网青海省电力公司工会线下活动开展情况汇总", R, "国网青海省电力公司工会", None, ""),
    ("青海省电力公司工会开展情况汇总", R, "国网青海省电力公司工会", None, TAKEN),
    ("国家电网青海省电力公司工会线下活动汇总", R, "国网青海省电力公司工会", None, TAKEN),
    ("青海省电力工会线下活动汇总", R, "国网青海省电力公司工会", None, TAKEN),
    ("中国水利水电第四工程局有限公司工会线下活动汇总", R, "中国水利水电第四工程有限公司工会", None, TAKEN),
    ("水电四局工会线下活动汇总", R, "中国水利水电第四工程有限公司工会", None, ""),
    ("中国邮政集团有限公司青海省分公司工会线下活动汇总", R, "青海省邮政公司工会", None, TAKEN),
    ("中国电信股份有限公司青海分公司工会线下活动情况汇总", R, "中国电信青海省分公司工会", None, TAKEN),
    ("西部机场集团青海机场公司工会线下活动汇总", R, "西部机场集团青海机场有限公司工会", None, ""),
    ("教科文卫工会线下活动汇总", R, "省教科文卫体工会", None, TAKEN),
    ("青海省教科文卫体工会线下活动汇总", R, "省教科文卫体工会", None, ""),
    ("黄南州线下活动汇总", R, "黄南州总工会", None, TAKEN),
    ("海南藏族自治州总工会线下活动汇总", R, "海南州总工会", None, ""),
    # traditional characters
    ("西寧市總工會線下活動匯總", R, "西宁市总工会", None, ""),
    ("中國鐵路青藏集團有限公司工會線下活動彙總", R, "中国铁路青藏集团有限公司工会", None, ""),
    ("青海省建設工會線下活動開展情況匯總", R, "青海省建设工会", None, ""),
    # the other ways of writing 汇总
    ("西宁市总工会开展情况汇总", R, "西宁市总工会", None, ""),
    ("西宁市总工会情况汇总", R, "西宁市总工会", None, ""),
    ("西宁市总工会活动情况汇总", R, "西宁市总工会", None, ""),
    ("关于西宁市总工会2020年线下活动开展情况的报告", R, "西宁市总工会", None, ""),
    ("回复：青海省邮政公司工会线下活动汇总（未通过，请修改后重新发送）", R, "青海省邮政公司工会", None, ""),
    # two units about as likely: both offered back
    ("南州总工会线下活动汇总", R, None, None, "标题中的单位“南州总工会”无法确定是“海南州总工会”还是“黄南州总工会”"),
    ("海州总工会线下活动汇总", R, None, None, "无法确定是“海南州总工会”还是“海北州总工会”还是“海西州总工会”"),
    # units not on the roster: quoted whole, never cut inside the name
    ("格尔木市总工会线下活动汇总", R, None, None, "标题中的单位“格尔木市总工会”不在活动单位名单中"),
    ("中国移动通信集团青海有限公司工会线下活动汇总", R, None, None, "“中国移动通信集团青海有限公司工会”不在"),
    ("西宁市城东区总工会线下活动汇总", R, None, None, "标题中的单位“西宁市城东区总工会”不在活动单位名单中"),
    # collections: the unit outside the title
    ("中国石油天然气股份有限公司青海油田分公司工会《油田的早晨》", V, "青海油田工会", "油田的早晨", TAKEN),
    ("青藏铁路工会《天路》", S, "中国铁路青藏集团有限公司工会", "天路", TAKEN),
    ("國網青海省電力公司工會《光明守護者》", P, "国网青海省电力公司工会", "光明守護者", ""),
    ("青海油田工會《油田的早晨》", V, "青海油田工会", "油田的早晨", ""),
    ("中国电信股份有限公司青海分公司工会《云上课堂》", L, "中国电信青海省分公司工会", "云上课堂", TAKEN),
    ("摄影作品：青海省电力公司工会《一线》", P, "国网青海省电力公司工会", "一线", TAKEN),
    ("中国水利水电第四工程局有限公司工会《大坝》", V, "中国水利水电第四工程有限公司工会", "大坝", TAKEN),
    ("西部机场集团青海机场公司工会 航站楼里的守护者", V, "西部机场集团青海机场有限公司工会", "航站楼里的守护者", ""),
    ("青藏铁路工会 天路之歌", S, "中国铁路青藏集团有限公司工会", "天路之歌", TAKEN),
    ("南州总工会《草原》", P, None, None, "无法确定是“海南州总工会”还是“黄南州总工会”"),
    ("格尔木市总工会《盐湖》", P, None, None, "标题中的单位“格尔木市总工会”不在活动单位名单中"),
    ("中国移动通信集团青海有限公司工会《5G》", V, None, None, "“中国移动通信集团青海有限公司工会”不在"),
    ("西宁市城西区总工会《一线》", P, None, None, "“西宁市城西区总工会”不在活动单位名单中"),
]


@pytest.mark.parametrize(("subject", "kind", "unit", "title", "told"), CASES, ids=[c[0] for c in CASES])
def test_the_unit_is_read_as_a_host_reads_it(
    subject: str, kind: MailboxKind, unit: str | None, title: str | None, told: str
) -> None:
    verdict = check_subject(subject, kind=kind, roster=ROSTER)
    assert verdict.unit == unit
    if kind is not R:
        assert verdict.title == title
    if unit is None:
        (problem,) = verdict.problems
        assert told in problem.text
        assert verdict.suggestions
        return
    assert verdict.problems == ()
    if told == TAKEN:
        (note,) = verdict.notes
        assert note.endswith(f"已按“{unit}”登记。")
    else:
        assert verdict.notes == ()


def test_a_guess_is_remarked_for_the_hosts_and_a_known_other_name_is_not() -> None:
    guessed = check_subject("中国石油天然气股份有限公司青海油田分公司工会线下活动汇总", kind=R, roster=ROSTER)
    assert guessed.notes == ("标题中的单位“中国石油天然气股份有限公司青海油田分公司工会”已按“青海油田工会”登记。",)
    (remark,) = guessed.remarks
    assert remark.startswith("标题中的单位“中国石油天然气股份有限公司青海油田分公司工会”按名称相似认定为“青海油田工会”")
    assert remark.endswith("请核实")
    registered = check_subject("中国电信股份有限公司青海分公司工会线下活动汇总", kind=R, roster=ROSTER)
    assert registered.notes == ("标题中的单位“中国电信股份有限公司青海分公司工会”已按“中国电信青海省分公司工会”登记。",)
    assert registered.remarks == ()


def test_an_unknown_unit_is_offered_the_likeliest_roster_units() -> None:
    verdict = check_subject("西宁市城东区总工会线下活动汇总", kind=R, roster=ROSTER)
    assert "西宁市总工会" in verdict.suggestions
    assert "西宁市总工会" in verdict.problems[0].fix


def test_the_quoted_unit_is_capped_not_cut_inside_a_name() -> None:
    long_name = "某某" * 40 + "有限公司工会"
    verdict = check_subject(f"{long_name}线下活动汇总", kind=R, roster=ROSTER)
    (problem,) = verdict.problems
    quoted = problem.text.split("“")[1].split("”")[0]
    assert quoted.endswith("…") and len(quoted) == 50 and long_name.startswith(quoted[:-1])


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("西宁市总工会线下活动汇总（已收到）", "西宁市总工会线下活动汇总"),
        ("西宁市总工会线下活动汇总（未通过，请修改后重新发送）（已收到）", "西宁市总工会线下活动汇总"),
        ("西宁市总工会线下活动汇总(未通过)", "西宁市总工会线下活动汇总"),
        ("西宁市总工会线下活动汇总（6月）", "西宁市总工会线下活动汇总（6月）"),
    ],
)
def test_our_own_suffixes_come_off_a_subject(subject: str, kept: str) -> None:
    assert without_our_suffixes(subject) == kept
