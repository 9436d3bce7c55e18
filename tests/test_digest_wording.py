"""Lines of the digest's to-do list and waiting list as a host reads them: no "其中 4 封" of four,
no "；等共" after a semicolon."""

from __future__ import annotations

import datetime as dt

from report.sections import held_line, reasons_text
from report.snapshot import Held

SINCE = dt.datetime(2020, 8, 19, 1, 30)  # UTC: 9:30 in Beijing
REASON = "最近一小时已向首次来信的陌生发件人发出 10 封自动回复（上限 10 封），暂缓发送"


def _held(first: bool, n: int) -> Held:
    return Held(message_id=n, first_contact=first, since=SINCE, reason=REASON)


def test_all_held_replies_to_first_contacts_read_as_all() -> None:
    line = held_line([_held(True, 1), _held(True, 2)], year=2020)
    assert line.startswith(
        "2 封自动回复因发送上限暂缓发送（均发给首次来信的陌生发件人），最早的自 8月19日 09:30 起等待"
    )


def test_some_held_replies_to_first_contacts_read_as_some() -> None:
    line = held_line([_held(True, 1), _held(False, 2), _held(False, 3)], year=2020)
    assert "3 封自动回复因发送上限暂缓发送（其中 1 封发给首次来信的陌生发件人）" in line


def test_more_than_two_reasons_end_in_a_count_after_the_second() -> None:
    reasons = ["邮件标题“测试”不符合格式“单位+线下活动汇总”", "邮件中没有活动照片", "邮件中没有活动的简要说明"]
    assert (
        "；".join(reasons_text(reasons)) == "邮件标题“测试”不符合格式“单位+线下活动汇总”；邮件中没有活动照片等 3 个问题"
    )
    assert reasons_text(reasons[:2]) == tuple(reasons[:2])
