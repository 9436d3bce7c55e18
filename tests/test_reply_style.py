"""Every reply kind, rendered from realistic cases, reads as an official letter: addressed, thankful, dated
as documents date, every duration written one way, no phrase doubled, a resend asked for only when it helps."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from pathlib import Path

import mediafactory as mf
import pytest

from campaign.notice import MailboxKind
from campaign.settings import ReplySettings
from ingest.answer import reply_context
from ingest.chain import Decision
from ingest.inspect import inspect_file
from ingest.rules.content import review
from ingest.rules.deadline import late_problem
from ingest.rules.views import FileView, Submission
from notify.render import Renderer
from store.enums import MessageStatus
from store.models import Message

RECEIVED = dt.datetime(2020, 8, 20, 2, 5)  # UTC: 10:05 in Beijing
GOOD_TEXT = "现报送我单位职工创作的作品，请查收。联系人：许堃。"
DOUBLED = re.compile(r"([\u4e00-\u9fff]{2,6})\1")
NEVER = ("征集作品作品", "视频视频", "：画面不够清晰：", "分钟 ", " 分钟")
RESEND = "请按以上说明修改后重新发送整封邮件"


def _view(path: Path, tmp_path: Path) -> FileView:
    facts = inspect_file(path, filename=path.name, workdir=tmp_path / "work")
    return FileView(
        name=path.name,
        kind=facts.kind,
        label=facts.label,
        size=path.stat().st_size,
        valid=not facts.problems,
        is_description=facts.is_description,
        problems=facts.problems,
        mime=facts.mime,
        media=facts.media,
        image=facts.image,
    )


def _render(
    kind: MailboxKind,
    files: Sequence[FileView],
    *,
    unit: str | None,
    title: str | None,
    text: str = GOOD_TEXT,
    late: bool = False,
) -> tuple[str, str, str, bool]:
    """(subject, text, html as text, whether the problems can be fixed by resending) as the sender gets it."""
    found = review(Submission(kind=kind, text=text, html="", files=files))
    problems = [*found.problems, *([late_problem(dt.date(2020, 8, 20), dt.date(2020, 8, 21))] if late else [])]
    decision = Decision(
        status=MessageStatus.REJECTED if problems else MessageStatus.ACCEPTED,
        problems=tuple(problems),
        notes=tuple(found.notes),
        remarks=tuple(found.remarks),
        set_aside=tuple(found.set_aside),
    )
    subject = f"{unit or '青海某某工会'}《{title}》" if title else f"{unit or '青海某某工会'}线下活动汇总"
    msg = Message(
        mailbox=kind.value, subject=subject, unit=unit, title=title, received_at=RECEIVED, arrived_at=RECEIVED
    )
    context = reply_context(msg=msg, kind=kind, decision=decision, files=files, links=[], replies=ReplySettings())
    name = "acknowledgement" if decision.status is MessageStatus.ACCEPTED else "rejection"
    rendered = Renderer().render(name, context.context())
    body = rendered.html.split("<body", 1)[1].split(">", 1)[1]  # what the mail client shows, not <title>
    as_text = html.unescape(re.sub(r"<[^>]+>", "", body))
    return rendered.subject, rendered.text, as_text, any(p.resend for p in problems)


CASES = [
    "accepted-micro-video",
    "accepted-photos-one-set-aside",
    "accepted-platform",
    "accepted-report",
    "rejected-short-parts",
    "rejected-mov-unclear-no-sound",
    "rejected-unknown-unit",
    "rejected-late",
]


@pytest.fixture(scope="module")
def replies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str | None, tuple[str, str, str, bool]]]:
    d = tmp_path_factory.mktemp("replies")
    video = _view(mf.make_video(d, name="劳动者.mp4", seconds=200, width=1280, height=720), d)
    good = _view(mf.make_jpeg(d, name="一线.jpg", size=(2400, 1600)), d)
    small = _view(mf.make_jpeg(d, name="小图.jpg", size=(800, 600)), d)
    up = _view(mf.make_video(d, name="上集.mp4", seconds=100, width=1280, height=720), d)
    down = _view(mf.make_video(d, name="下集.mp4", seconds=50, width=1280, height=720), d)
    mov = _view(mf.make_mov(d, seconds=120, width=640, height=360), d)
    platform = '微信公众号"果洛职工之家"提供政策宣传和法律咨询服务，网址 https://gl.example.cn/'
    mv, photo, sp, report = (
        MailboxKind.MICRO_VIDEO,
        MailboxKind.PHOTOGRAPHY,
        MailboxKind.SERVICE_PLATFORM,
        MailboxKind.OFFLINE_ACTIVITY,
    )
    unit = "西宁市总工会"
    return {
        "accepted-micro-video": (unit, _render(mv, [video], unit=unit, title="战疫路上的劳动者")),
        "accepted-photos-one-set-aside": (unit, _render(photo, [good, small], unit=unit, title="一线")),
        "accepted-platform": (unit, _render(sp, [], unit=unit, title="果洛职工之家", text=platform)),
        "accepted-report": (
            unit,
            _render(report, [good], unit=unit, title=None, text="六月在西宁举办了职工网络安全讲座"),
        ),
        "rejected-short-parts": (unit, _render(mv, [up, down], unit=unit, title="战疫")),
        "rejected-mov-unclear-no-sound": (unit, _render(mv, [mov], unit=unit, title="匠心")),
        "rejected-unknown-unit": (None, _render(mv, [up], unit=None, title="战疫路上的劳动者")),
        "rejected-late": (unit, _render(MailboxKind.MICRO_FILM, [video], unit=unit, title="匠心", late=True)),
    }


@pytest.mark.parametrize("case", CASES)
def test_every_reply_reads_as_an_official_letter(
    replies: dict[str, tuple[str | None, tuple[str, str, str, bool]]], case: str
) -> None:
    unit, (subject, text, as_html, fixable) = replies[case]
    for body in (text, as_html):
        # addressed to the unit by name, or to 贵单位 when the subject names none; and thanked
        assert body.lstrip().startswith(f"{unit or '贵单位'}：")
        assert "感谢贵单位对“网聚职工正能量·争做中国好网民”主题活动的支持" in body
        # dated as documents date: 2020年8月20日 10:05, never 2020-08-20 or 08月
        assert "2020年8月20日 10:05" in body
        assert not re.search(r"\d{4}-\d{2}-\d{2}|年0\d|月0\d", body)
        # durations written 5分钟 / 5分20秒, and no phrase doubled
        assert DOUBLED.search(body) is None, DOUBLED.search(body)
        assert not [phrase for phrase in NEVER if phrase in body]
        # a resend is asked for only when resending can fix the problems
        assert (RESEND in body) is (case.startswith("rejected") and fixable)
    assert ("请修改后重新发送" in subject) is (case.startswith("rejected") and fixable)


def test_the_cases_say_what_they_are_about(replies: dict[str, tuple[str | None, tuple[str, str, str, bool]]]) -> None:
    text = {case: replies[case][1][1] for case in CASES}
    assert "作品《战疫路上的劳动者》已登记为网络正能量微视频征集的报送作品。" in text["accepted-micro-video"]
    assert "  - 小图.jpg：尺寸 800×600，要求长边至少 1920 像素\n" in text["accepted-photos-one-set-aside"]
    assert "已记录平台名称：微信公众号“果洛职工之家”。" in text["accepted-platform"]
    assert "本邮件已登记为线下活动汇总的报送材料。" in text["accepted-report"]
    assert "要求为一个完整的视频文件" in text["rejected-short-parts"]
    assert "视频“上集.mp4”时长" not in text["rejected-short-parts"]  # one "join them", not "too short" twice
    assert "视频格式为 MOV，要求 MP4" in text["rejected-mov-unclear-no-sound"]
    assert "修改方法：请用原始素材按 720P" in text["rejected-mov-unclear-no-sound"]
    assert "视频没有声音（没有音频轨道）" in text["rejected-mov-unclear-no-sound"]
    assert "邮件于2020年8月21日收到，报送截止日期为2020年8月20日，已逾期" in text["rejected-late"]
    assert "说明：报送已截止" in text["rejected-late"]
    assert "视频时长 1分40秒，要求 3—5分钟" in text["rejected-unknown-unit"]
    # only the files were wrong: the subject convention is not repeated at the end
    for case in ("rejected-short-parts", "rejected-mov-unclear-no-sound", "rejected-unknown-unit"):
        assert "邮件标题格式" not in text[case] and "邮件标题格式" not in replies[case][1][2]
