"""The digest templates on their own: a full view renders, stays escaped, and fits webmail's size limits."""

from __future__ import annotations

import dataclasses
import re

from notify.digest_view import Deadline, DigestView, MatrixRow, Progress, example_view
from notify.render import Renderer
from report.sections import ADMIN_LIMIT, LINK_LIMIT, NEW_LIMIT, NOTE_LIMIT, SUBJECT_CHARS, WAITING_LIMIT

EVIL = "<script>alert(1)</script>\r\nBcc: x@example.org\u202e"
GMAIL_CLIPS_AT = 102 * 1024  # Gmail shows "[Message clipped]" past this much HTML


def worst_case() -> DigestView:
    """Every list at the length the digest caps it at, with long (but real-sized) texts: the largest HTML."""
    view = example_view()
    who = "中国水利水电第四工程有限公司工会"
    subject = "西宁市总工会线下活动汇总（6月第二批，补发照片）" * 3  # the digest cuts subjects at SUBJECT_CHARS
    reason = "照片“微信图片_20200612083015.jpg”尺寸 800×600，要求长边至少 1920 像素，请换原图"  # 60
    unit, coll, wait, admin, link, box = (
        view.units[0],
        view.collections[0],
        view.waiting[0],
        view.admin[0],
        view.links[0],
        view.mailboxes[0],
    )
    subject = subject[: SUBJECT_CHARS - 1] + "…"
    new = dataclasses.replace(view.new_items[0], who=who, subject=subject, detail=reason)
    return dataclasses.replace(
        view,
        units=(dataclasses.replace(unit, name=who),) * 12,
        other_units=view.other_units * 5,
        collections=(coll,) * 7,
        matrix_header=("微视频",) * 7,
        matrix=(MatrixRow(unit=who, cells=(1,) * 7, total=7),) * 17,
        new_items=(new,) * NEW_LIMIT,
        todo=view.todo * 7,
        waiting=(dataclasses.replace(wait, who=who, subject=subject, reasons=(reason, reason, "等共 3 个问题")),)
        * WAITING_LIMIT,
        admin=(dataclasses.replace(admin, subject=subject, detail=reason),) * ADMIN_LIMIT,
        links=(dataclasses.replace(link, who=who, filename="网络安全进工地活动视频（完整版）.mp4"),) * LINK_LIMIT,
        mailboxes=(dataclasses.replace(box, last_error=reason * 2),) * 8,
        count_notes=(dataclasses.replace(view.count_notes[0], unit=who, explanation=reason),) * NOTE_LIMIT,
    )


def test_the_example_renders_escaped() -> None:
    rendered = Renderer().render("digest", example_view(text=EVIL).context())
    assert "\n" not in rendered.subject and rendered.subject.startswith("【补发】收件日报 2020-06-01")
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text
    assert "西宁市总工会：3/10 场 ■■■□□□□□□□ 30%" in rendered.text


def test_the_largest_digest_fits_webmail() -> None:
    html = Renderer().render("digest", worst_case().context()).html
    assert len(html.encode("utf-8")) < GMAIL_CLIPS_AT, len(html.encode("utf-8"))
    lowered = html.lower()
    assert not re.search(r"<(script|link|img|iframe|object|embed|style|form|input)\b", lowered)
    assert not re.search(r"<[^>]*\s(src|on\w+)=", lowered)
    assert "class=" not in lowered  # every style is inline
    assert html.count("<tr") == html.count("</tr>") and html.count("<td") == html.count("</td>")


def test_progress_and_deadlines() -> None:
    assert (Progress(done=12, target=10).percent, Progress(done=12, target=10).reached) == (100, True)
    assert Progress(done=1, target=None).percent == 0
    assert Progress(done=2, target=6).text_bar == "■■■□□□□□□□"
    assert [Deadline(date="8月20日", what="", days_left=d).state for d in (3, 0, -2)] == [
        "还有 3 天",
        "今天截止",
        "已过 2 天",
    ]
