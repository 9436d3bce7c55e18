"""Subjects read tolerantly, and wrong ones answered with the closest roster units."""

from __future__ import annotations

import pytest

from campaign.notice import MailboxKind
from campaign.settings import Unit
from ingest.mail.decode import without_reply_prefixes
from ingest.roster import Roster
from ingest.rules.subject import check_subject

ROSTER = Roster(
    units=(
        Unit(name="西宁市总工会", aliases=("西宁总工会",), activity_quota=10),
        Unit(name="海南州总工会", activity_quota=5),
        Unit(name="黄南州总工会", activity_quota=5),
        Unit(name="中国铁路青藏集团有限公司工会", activity_quota=5),
        Unit(name="海东市总工会"),
    )
)
REPORT = MailboxKind.OFFLINE_ACTIVITY


@pytest.mark.parametrize(
    "subject",
    [
        "西宁市总工会线下活动汇总",
        "西宁市总工会+线下活动汇总",
        "西宁市总工会＋线下活动汇总",
        "【西宁市总工会】线下活动汇总",
        "西宁市总工会 线下活动汇总（6月）",
        "西宁市总工会\u3000线下活动汇总",
        "回复：西宁市总工会线下活动汇总",
        "Re: 转发: 西宁市总工会线下活动汇总",
        "答复: FW: 西宁市总工会线下活动汇总",
        "ＲＥ：西宁市总工会线下活动汇总",
        "西宁总工会线下活动汇总",
        "关于西宁市总工会线下活动汇总的报告",
        "青海省西宁市总工会线下活动汇总",
        "西宁市总工会7月线下活动汇总",
        "西宁市总工会“网聚职工正能量”线下活动汇总",
        "线下活动汇总（西宁市总工会）",
        "西宁市总工会第二批线下活动 汇总",
    ],
)
def test_tolerant_forms_find_the_unit(subject: str) -> None:
    verdict = check_subject(subject, kind=REPORT, roster=ROSTER)
    assert verdict.problems == ()
    assert verdict.unit == "西宁市总工会"


def test_unknown_unit_names_closest() -> None:
    verdict = check_subject("海西州总工会线下活动汇总", kind=REPORT, roster=ROSTER)
    assert verdict.unit is None
    assert verdict.suggestions[0] == "海南州总工会"
    (problem,) = verdict.problems
    assert problem.text == "标题中的单位“海西州总工会”不在活动单位名单中"
    assert "海南州总工会" in problem.fix and "西宁市总工会线下活动汇总" in problem.fix


def test_wrong_convention_suggests_the_right_subject() -> None:
    verdict = check_subject("青藏集团有限公司工会活动照片", kind=REPORT, roster=ROSTER)
    (problem,) = verdict.problems
    assert problem.code == "subject-format"
    assert "中国铁路青藏集团有限公司工会" in problem.fix


def test_wrong_convention_with_exact_unit_gives_corrected_subject() -> None:
    verdict = check_subject("黄南州总工会活动照片", kind=REPORT, roster=ROSTER)
    assert "请把标题改为“黄南州总工会线下活动汇总”" in verdict.problems[0].fix


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("西宁市总工会《战疫路上的劳动者》", "战疫路上的劳动者"),
        ("海东市总工会 战疫路上的劳动者", "战疫路上的劳动者"),
        ("回复：【黄南州总工会】《青春》", "青春"),
    ],
)
def test_collection_subject_records_title(subject: str, title: str) -> None:
    verdict = check_subject(subject, kind=MailboxKind.MICRO_VIDEO, roster=ROSTER)
    assert verdict.problems == ()
    assert verdict.title == title


def test_subject_without_any_unit_does_not_pretend_a_closest_one() -> None:
    verdict = check_subject("活动照片", kind=REPORT, roster=ROSTER)
    (problem,) = verdict.problems
    assert problem.text == "邮件标题“活动照片”不符合格式“单位+线下活动汇总”"
    assert "标题中没有找到活动单位名单中的单位" in problem.fix
    assert "最接近" not in problem.fix


def test_two_units_in_one_report_subject_are_told_one_report_per_unit() -> None:
    verdict = check_subject("西宁市总工会、海东市总工会线下活动汇总", kind=REPORT, roster=ROSTER)
    assert verdict.unit is None
    (problem,) = verdict.problems
    assert problem.text == "标题中有 2 个单位（西宁市总工会、海东市总工会），一封邮件只能报送一个单位的线下活动汇总"
    assert "请每个单位分别发送一封邮件" in problem.fix


def test_the_longest_roster_name_wins_and_an_alias_is_its_unit() -> None:
    roster = Roster(units=(Unit(name="青海省建设工会", aliases=("省建设工会",)), Unit(name="西宁市总工会")))
    verdict = check_subject("青海省建设工会线下活动汇总", kind=REPORT, roster=roster)
    assert (verdict.unit, verdict.problems) == ("青海省建设工会", ())


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("关于海西州总工会线下活动汇总的报告", "标题中的单位“海西州总工会”不在活动单位名单中"),
        ("关于线下活动汇总的报告", "标题中没有写明活动单位名单中的单位"),
        ("线下活动汇总", "标题中没有写明活动单位名单中的单位"),
    ],
)
def test_unknown_unit_is_quoted_only_when_it_plausibly_is_one(subject: str, text: str) -> None:
    verdict = check_subject(subject, kind=REPORT, roster=ROSTER)
    (problem,) = verdict.problems
    assert problem.text == text
    assert "最接近的是：" in problem.fix and "（空）" not in problem.text


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("青海省西宁市总工会《战疫路上的劳动者》", "战疫路上的劳动者"),
        ("《战疫路上的劳动者》西宁市总工会", "战疫路上的劳动者"),
        ("关于报送西宁市总工会作品《战疫路上的劳动者》", "战疫路上的劳动者"),
        ("西宁市总工会《海东市总工会的一天》", "海东市总工会的一天"),
    ],
)
def test_collection_subject_finds_the_unit_outside_the_title(subject: str, title: str) -> None:
    verdict = check_subject(subject, kind=MailboxKind.MICRO_VIDEO, roster=ROSTER)
    assert (verdict.unit, verdict.title, verdict.problems) == ("西宁市总工会", title, ())


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("摄影作品：西宁市总工会《光明守护者》", "光明守护者"),
        ("微视频-西宁市总工会《战疫》", "战疫"),
        ("西宁市总工会-摄影作品《一线》", "一线"),
        ("西宁市总工会摄影作品一线", "一线"),
        ("西宁市总工会微视频作品：战疫路上", "战疫路上"),
        ("西宁市总工会《我骄傲，我是中国工人》", "我骄傲，我是中国工人"),  # the sender's comma, not NFKC's
        ("回复：西宁市总工会《夏都街头（上）》", "夏都街头（上）"),
    ],
)
def test_work_titles_leave_out_category_words_and_keep_the_senders_characters(subject: str, title: str) -> None:
    verdict = check_subject(subject, kind=MailboxKind.PHOTOGRAPHY, roster=ROSTER)
    assert (verdict.unit, verdict.title, verdict.problems) == ("西宁市总工会", title, ())


def test_a_work_from_a_unit_not_on_the_roster_is_told_exactly_that() -> None:
    verdict = check_subject("西宁市城西区总工会《一线》", kind=MailboxKind.PHOTOGRAPHY, roster=ROSTER)
    (problem,) = verdict.problems
    assert problem.text == "标题中的单位“西宁市城西区总工会”不在活动单位名单中"
    assert "最接近的是：西宁市总工会" in problem.fix


@pytest.mark.parametrize(
    ("subject", "line"),
    [
        ("回复：西宁市总工会《我骄傲，我是中国工人》", "西宁市总工会《我骄傲，我是中国工人》"),
        ("Ｒｅ: Fw: 西宁市总工会线下活动汇总（6月）", "西宁市总工会线下活动汇总（6月）"),
        ("西宁市总工会", "西宁市总工会"),
    ],
)
def test_reply_subjects_drop_prefixes_but_keep_the_senders_characters(subject: str, line: str) -> None:
    assert without_reply_prefixes(subject) == line
