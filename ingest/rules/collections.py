"""What each collection's works must be, measured from their content; limits come from the config.

Each rule returns problems (the work is rejected) and notes (the sender is reminded, the work is
still accepted). Every problem puts the measured value next to the rule, in plain Chinese:
`视频时长 2分10秒，要求 3—5 分钟`, `画面比例 9:16（竖屏），要求 16:9（横屏）`.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from campaign.notice import MailboxKind
from campaign.settings import KindRules
from ingest.rules import Problem
from store.enums import AttachmentKind

if TYPE_CHECKING:  # content.py imports this module; the views are only annotations here
    from ingest.rules.content import FileView, Submission

MP4_MIMES = frozenset({"video/mp4", "video/x-m4v", "audio/mp4"})
_NAMED_RATIOS = ((16, 9), (9, 16), (4, 3), (3, 4), (1, 1), (3, 2), (2, 3), (21, 9), (9, 21), (2, 1), (1, 2), (5, 4))
_NAMED_TOLERANCE = 0.02
_URL = re.compile(r"https?://[^\s\"'<>（）()，。、；;]+", re.I)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


@dataclass(frozen=True, kw_only=True)
class Review:
    """What the content rules found: problems reject the message, notes go into the acknowledgement."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- formatting ----------------------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    """2分10秒, 6分钟, 45秒: rounded to the second."""
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    if minutes == 0:
        return f"{rest}秒"
    return f"{minutes}分{rest}秒" if rest else f"{minutes}分钟"


def _limit_number(seconds: int) -> str:
    return f"{seconds // 60}" if seconds % 60 == 0 else f"{seconds / 60:.1f}".rstrip("0").rstrip(".")


def range_text(min_seconds: int | None, max_seconds: int | None) -> str:
    """要求 3—5 分钟 / 要求 5 分钟以内 / 要求至少 3 分钟."""
    if min_seconds and max_seconds:
        return f"要求 {_limit_number(min_seconds)}—{_limit_number(max_seconds)} 分钟"
    if max_seconds:
        return f"要求 {_limit_number(max_seconds)} 分钟以内"
    return f"要求至少 {_limit_number(min_seconds or 0)} 分钟"


def orientation(aspect: float) -> str:
    if abs(aspect - 1) < _NAMED_TOLERANCE:
        return "方形"
    return "横屏" if aspect > 1 else "竖屏"


def aspect_text(aspect: float) -> str:
    """9:16（竖屏）; a ratio without a common name as 1.62:1（横屏）."""
    for w, h in _NAMED_RATIOS:
        if abs(aspect / (w / h) - 1) <= _NAMED_TOLERANCE:
            return f"{w}:{h}（{orientation(aspect)}）"
    if aspect >= 1:
        return f"约 {aspect:.2f}:1（{orientation(aspect)}）"
    return f"约 1:{1 / aspect:.2f}（{orientation(aspect)}）"


def _displayed(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if rotation in (90, 270) else (width, height)


# -- the rules -----------------------------------------------------------------------------------


def _usable(files: Sequence[FileView], *kinds: AttachmentKind) -> list[FileView]:
    return [f for f in files if f.kind in kinds and f.valid and not f.duplicate]


def _name_prefix(f: FileView, many: bool, noun: str) -> str:
    return f"{noun}“{f.name}”" if many else noun


def _duration_problems(works: Sequence[FileView], rules: KindRules, noun: str, notes: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not (rules.min_seconds or rules.max_seconds):
        return problems
    many = len(works) > 1
    wanted = range_text(rules.min_seconds, rules.max_seconds)
    for f in works:
        seconds = f.media.duration_seconds if f.media is not None else None
        if seconds is None:
            notes.append(f"未能读出{noun}“{f.name}”的时长，工作人员将人工核对（{wanted}）。")
            continue
        short = rules.min_seconds is not None and round(seconds) < rules.min_seconds
        long = rules.max_seconds is not None and round(seconds) > rules.max_seconds
        if short or long:
            problems.append(
                Problem(
                    code="too-short" if short else "too-long",
                    text=f"{_name_prefix(f, many, noun)}时长 {duration_text(seconds)}，{wanted}",
                    fix=f"请把{noun}剪辑到规定时长（{wanted.removeprefix('要求 ')}）后重新发送。",
                )
            )
    return problems


def _picture_problems(videos: Sequence[FileView], rules: KindRules) -> list[Problem]:
    problems: list[Problem] = []
    many = len(videos) > 1
    wanted = rules.aspect_value()
    for f in videos:
        m = f.media
        if m is None or not m.width or not m.height:
            continue
        prefix = f"视频“{f.name}”" if many else ""  # 画面比例 9:16（竖屏），要求 16:9（横屏）
        if rules.require_mp4 and f.mime not in MP4_MIMES:
            problems.append(
                Problem(
                    code="not-mp4",
                    text=f"{prefix or '视频'}格式为 {f.label}，要求 MP4",
                    fix="请用剪辑软件或格式工厂把视频导出（转换）为 MP4 格式后重新发送。",
                )
            )
        shown = m.display_aspect
        if wanted is not None and shown is not None and abs(shown / wanted - 1) > rules.aspect_tolerance:
            rule = f"{rules.aspect}（{orientation(wanted)}）"
            problems.append(
                Problem(
                    code="aspect",
                    text=f"{prefix}画面比例 {aspect_text(shown)}，要求 {rule}",
                    fix=f"请按 {rules.aspect} 的{orientation(wanted)}画面拍摄或导出视频后重新发送。",
                )
            )
        if rules.min_width or rules.min_height:
            shown_w, shown_h = _displayed(m.width, m.height, m.rotation)
            need_long = max(rules.min_width or 0, rules.min_height or 0)
            need_short = min(rules.min_width or 0, rules.min_height or 0)
            # Clear enough: as many lines as asked (720 of 1280x720: a 4:3 960x720 is clear too);
            # with only one of the two set, that one is the long side.
            if (min(shown_w, shown_h) < need_short) if need_short else (max(shown_w, shown_h) < need_long):
                rule = f"{rules.min_width or 0}×{rules.min_height or 0}"
                problems.append(
                    Problem(
                        code="resolution",
                        text=f"{prefix}分辨率 {shown_w}×{shown_h}，要求至少 {rule}",
                        fix="画面不够清晰：请用原始素材按 720P（1280×720）或更高的分辨率导出后重新发送。",
                    )
                )
    return problems


def _no_work(text: str, fix: str, files: Sequence[FileView], links: int, notes: list[str]) -> list[Problem]:
    """No usable work: a problem, unless a large-attachment link may carry it."""
    if links:
        notes.append("作品以超大附件链接发送，工作人员下载后将再核对作品要求。")
        return []
    if any(f.problems for f in files):  # the broken file is already named, with how to fix it
        return []
    if any(f.duplicate and f.valid for f in files):
        return [
            Problem(
                code="only-duplicates",
                text="邮件中的作品文件此前都已收到过",
                fix="如需报送新的作品，请附上新的作品文件后重新发送。",
            )
        ]
    return [Problem(code="no-work", text=text, fix=fix)]


def _video_work(sub: Submission, rules: KindRules, notes: list[str], *, subtitles: bool = False) -> list[Problem]:
    videos = _usable(sub.files, AttachmentKind.VIDEO)
    if not videos:
        return _no_work(
            "邮件中没有视频作品文件",
            "请把视频作品（MP4 等视频文件）作为附件添加到邮件中后重新发送。",
            sub.files,
            sub.large_links,
            notes,
        )
    problems = _duration_problems(videos, rules, "视频", notes)
    problems.extend(_picture_problems(videos, rules))
    if subtitles:
        for f in videos:
            if f.media is not None and f.media.has_subtitles:
                notes.append(f"视频“{f.name}”含字幕轨道，已记录；请确认重点内容已配字幕。")
            else:
                notes.append(
                    f"视频“{f.name}”中没有单独的字幕轨道（字幕压在画面里的无法自动核对）：请确认重点内容已配字幕。"
                )
    return problems


def _recording(sub: Submission, rules: KindRules, notes: list[str]) -> list[Problem]:
    works = _usable(sub.files, AttachmentKind.AUDIO, AttachmentKind.VIDEO)
    if not works:
        return _no_work(
            "邮件中没有歌曲录音（音频或视频文件）",
            "请把歌曲小样（MP3、M4A 等音频，或 MP4 视频）作为附件添加到邮件中后重新发送。",
            sub.files,
            sub.large_links,
            notes,
        )
    problems = _duration_problems(works, rules, "录音", notes)
    problems.extend(_picture_problems([f for f in works if f.kind is AttachmentKind.VIDEO], rules))
    return problems


def _photo_dates(photos: Sequence[FileView], rules: KindRules) -> list[str]:
    if rules.campaign_start is None and rules.campaign_end is None:
        return []
    notes: list[str] = []
    for f in photos:
        taken = f.image.taken_at.date() if f.image is not None and f.image.taken_at is not None else None
        if taken is None:
            continue
        before = rules.campaign_start is not None and taken < rules.campaign_start
        after = rules.campaign_end is not None and taken > rules.campaign_end
        if before or after:
            start = rules.campaign_start.isoformat() if rules.campaign_start else "…"
            end = rules.campaign_end.isoformat() if rules.campaign_end else "…"
            notes.append(
                f"照片“{f.name}”的拍摄日期 {taken.isoformat()} 不在活动期间（{start} 至 {end}）内，"
                "请确认是本次活动的照片。"
            )
    return notes


def _photography(sub: Submission, rules: KindRules, notes: list[str]) -> list[Problem]:
    photos = _usable(sub.files, AttachmentKind.PHOTO)
    if not photos:
        return _no_work(
            "邮件中没有摄影作品（图片文件）",
            "请把摄影作品的原图（JPG、PNG 等图片文件）作为附件添加到邮件中后重新发送。",
            sub.files,
            sub.large_links,
            notes,
        )
    problems: list[Problem] = []
    need = rules.photo_min_long_side
    for f in photos:
        if f.image is None:
            continue
        if need and max(f.image.width, f.image.height) < need:
            problems.append(
                Problem(
                    code="photo-too-small",
                    text=f"照片“{f.name}”尺寸 {f.image.width}×{f.image.height}，要求长边至少 {need} 像素",
                    fix="请发送相机或手机拍摄的原图（用“原图”或文件方式发送，不要发微信压缩后的图片）。",
                )
            )
        details = [
            part
            for part in (
                f"拍摄于 {f.image.taken_at:%Y-%m-%d %H:%M}" if f.image.taken_at else None,
                f"相机 {f.image.camera}" if f.image.camera else None,
            )
            if part
        ]
        if details:
            notes.append(f"照片“{f.name}”：{'，'.join(details)}。")
    notes.extend(_photo_dates(photos, rules))
    return problems


def body_links(sub: Submission) -> list[str]:
    """Every http(s) link in the body, once, in order (the large-attachment ones included)."""
    html_text = htmllib.unescape(_TAGS.sub(" ", sub.html)) if sub.html else ""
    hrefs = re.findall(r"href\s*=\s*[\"'](https?://[^\"']+)", sub.html, re.I) if sub.html else []
    found: dict[str, None] = {}
    for url in [*_URL.findall(sub.text), *_URL.findall(html_text), *(htmllib.unescape(h) for h in hrefs)]:
        found.setdefault(url.rstrip(".,;:!?"), None)
    return list(found)


def _service_platform(sub: Submission, rules: KindRules, notes: list[str], described: bool) -> list[Problem]:
    problems: list[Problem] = []
    links = body_links(sub)
    screenshots = _usable(sub.files, AttachmentKind.PHOTO)
    if not described:
        problems.append(
            Problem(
                code="no-description",
                text="邮件中没有平台的简要介绍（正文少于 10 个字，也没有说明文档）",
                fix="请在正文中介绍平台的名称、服务内容和使用情况，或附上 Word/PDF 介绍文档。",
            )
        )
    if not links and not screenshots:
        problems.append(
            Problem(
                code="no-platform",
                text="邮件中没有平台的链接，也没有平台截图",
                fix="请在正文中写上平台的网址（或公众号、APP 名称及下载链接），或附上平台的截图后重新发送。",
            )
        )
    if links:
        notes.append(f"已记录正文中的平台链接（{len(links)} 个）：{'、'.join(links[:10])}")
    return problems


def review_collection(sub: Submission, rules: KindRules, *, described: bool) -> Review:
    """The rules of sub.kind with the given limits; file problems are added by the caller."""
    notes: list[str] = []
    problems: list[Problem]
    match sub.kind:
        case MailboxKind.MICRO_VIDEO:
            problems = _video_work(sub, rules, notes, subtitles=True)
        case MailboxKind.RECITATION | MailboxKind.MICRO_FILM | MailboxKind.MICRO_LESSON:
            problems = _video_work(sub, rules, notes)
        case MailboxKind.SONG:
            problems = _recording(sub, rules, notes)
        case MailboxKind.PHOTOGRAPHY:
            problems = _photography(sub, rules, notes)
        case MailboxKind.SERVICE_PLATFORM:
            problems = _service_platform(sub, rules, notes, described)
        case MailboxKind.OFFLINE_ACTIVITY:
            problems = []
            notes.extend(_photo_dates(_usable(sub.files, AttachmentKind.PHOTO), rules))
    return Review(problems=problems, notes=notes)
