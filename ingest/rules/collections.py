"""What each collection's works must be, measured from their content; limits come from the config.

Each rule returns problems (the work is rejected), notes (the sender is reminded, the work is
still accepted) and remarks (for the hosts only). Every problem puts the measured value next to
the rule, in plain Chinese: `视频时长 2分10秒，要求 3—5分钟`, `画面比例 9:16（竖屏），要求 16:9（横屏）`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from campaign.notice import MailboxKind, date_text, datetime_text
from campaign.settings import KindRules
from ingest.rules import Problem, SetAside
from ingest.rules.hints import missing_video
from ingest.rules.platforms import service_platform
from ingest.rules.severity import reminder_note, reminder_remark, reminds, weigh
from ingest.rules.views import FileView, Submission
from ingest.rules.works import group_works, sound_problems, work_problems
from store.enums import AttachmentKind

MP4_MIMES = frozenset({"video/mp4", "video/x-m4v", "audio/mp4"})
_NAMED_RATIOS = ((16, 9), (9, 16), (4, 3), (3, 4), (1, 1), (3, 2), (2, 3), (21, 9), (9, 21), (2, 1), (1, 2), (5, 4))
_NAMED_TOLERANCE = 0.02
SUBTITLES = "请确认视频的重点内容已配字幕（字幕压在画面里的无法自动核对）。"


@dataclass(frozen=True, kw_only=True)
class Review:
    """What the content rules found: problems reject the message, notes go into the acknowledgement,
    remarks are for the hosts, set-aside files are received but not registered."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)


# -- formatting ----------------------------------------------------------------------------------


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


def _picture_problems(videos: Sequence[FileView], rules: KindRules) -> list[Problem]:
    problems: list[Problem] = []
    many = len(videos) > 1
    wanted = rules.aspect_value()
    for f in videos:
        m = f.media
        if m is None or not m.width or not m.height:
            continue
        prefix = f"视频“{f.name}”" if many else ""  # 画面比例 9:16（竖屏），要求 16:9（横屏）
        fmt = f.label.removesuffix("视频").strip()  # "MOV 视频" is 视频格式为 MOV, not MOV 视频视频
        if rules.require_mp4 and f.mime not in MP4_MIMES:
            problems.append(
                Problem(
                    code="not-mp4",
                    text=f"{prefix or '视频'}格式为 {fmt}，要求 MP4" if fmt else f"{prefix or '视频'}不是 MP4 格式",
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
                        fix="请用原始素材按 720P（1280×720）或更高的分辨率导出，使画面清晰，然后重新发送。",
                    )
                )
    return problems


def _no_work(
    text: str,
    fix: str,
    files: Sequence[FileView],
    links: int,
    notes: list[str],
    *,
    registered: bool = False,
    netdisk: bool = False,
) -> list[Problem]:
    """No usable work: a problem, unless a large-attachment or net-disk link may carry it, or the work
    files are those of a work the unit registered before (a resend or a supplement: see rules.registration)."""
    if links:
        via = "网盘链接" if netdisk else "超大附件链接"
        notes.append(f"作品以{via}发送，工作人员下载后将再核对作品要求。")
        return []
    if any(f.problems for f in files):  # the broken file is already named, with how to fix it
        return []
    if any(f.duplicate and f.valid for f in files):
        if registered:
            return []
        return [
            Problem(
                code="only-duplicates",
                text="邮件中的作品文件此前都已收到过",
                fix="这些作品已经登记，无需重复发送；如需报送新的作品，请附上新的作品文件。",
                resend=False,
            )
        ]
    return [Problem(code="no-work", text=text, fix=fix)]


def _video_work(sub: Submission, rules: KindRules, review: Review, *, subtitles: bool = False) -> list[Problem]:
    videos = _usable(sub.files, AttachmentKind.VIDEO)
    if not videos:
        hint = missing_video(sub.kind, sub.files) if not sub.large_links else None
        if hint is not None:
            return [hint]
        return _no_work(
            "邮件中没有视频作品文件",
            "请把视频作品（MP4 等视频文件）作为附件添加到邮件中后重新发送。",
            sub.files,
            sub.large_links,
            review.notes,
            registered=sub.registered,
            netdisk=sub.netdisk_links > 0,
        )
    problems = work_problems(group_works(videos), sub.kind, rules, "视频", review.notes, review.remarks)
    problems.extend(sound_problems(videos, rules, "视频", review.remarks))
    problems.extend(_picture_problems(videos, rules))
    if subtitles:
        review.notes.append(SUBTITLES)
        for f in videos:
            found = f.media is not None and f.media.has_subtitles
            review.remarks.append(f"视频“{f.name}”{'含字幕轨道' if found else '没有单独的字幕轨道'}。")
    return problems


def _recording(sub: Submission, rules: KindRules, review: Review) -> list[Problem]:
    works = _usable(sub.files, AttachmentKind.AUDIO, AttachmentKind.VIDEO)
    if not works:
        return _no_work(
            "邮件中没有歌曲录音（音频或视频文件）",
            "请把歌曲小样（MP3、M4A 等音频，或 MP4 视频）作为附件添加到邮件中后重新发送。",
            sub.files,
            sub.large_links,
            review.notes,
            registered=sub.registered,
            netdisk=sub.netdisk_links > 0,
        )
    problems = work_problems(group_works(works), sub.kind, rules, "录音", review.notes, review.remarks)
    problems.extend(sound_problems(works, rules, "录音", review.remarks))
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
            start = date_text(rules.campaign_start) if rules.campaign_start else "…"
            end = date_text(rules.campaign_end) if rules.campaign_end else "…"
            notes.append(
                f"照片“{f.name}”的拍摄日期为{date_text(taken)}，不在活动期间（{start}至{end}）内，"
                "请确认是本次活动的照片。"
            )
    return notes


def _photography(sub: Submission, rules: KindRules, review: Review) -> list[Problem]:
    """Each photo on its own: small ones are set aside and named; the mail fails only when none passes."""
    photos = _usable(sub.files, AttachmentKind.PHOTO)
    if not photos:
        return _no_work(
            "邮件中没有摄影作品（图片文件）",
            "请把摄影作品的原图（JPG、PNG 等图片文件）作为附件添加到邮件中后重新发送。",
            sub.files,
            sub.large_links,
            review.notes,
            registered=sub.registered,
            netdisk=sub.netdisk_links > 0,
        )
    need = rules.photo_min_long_side
    small: list[tuple[int, FileView, str]] = []
    usable = {id(f) for f in photos}
    for index, f in enumerate(sub.files):
        if id(f) not in usable or f.image is None:
            continue
        if need and max(f.image.width, f.image.height) < need:
            small.append((index, f, f"尺寸 {f.image.width}×{f.image.height}，要求长边至少 {need} 像素"))
        details = [
            part
            for part in (
                f"拍摄于{datetime_text(f.image.taken_at)}" if f.image.taken_at else None,
                f"相机 {f.image.camera}" if f.image.camera else None,
            )
            if part
        ]
        if details:
            review.remarks.append(f"照片“{f.name}”：{'，'.join(details)}。")
    review.notes.extend(_photo_dates(photos, rules))
    fix = "请发送相机或手机拍摄的原图（用“原图”或文件方式发送，不要发微信压缩后的图片）。"
    if reminds(rules.severity, "photo_size"):  # a guideline: every photo is registered, the small ones noted
        for _, f, why in small:
            problem = Problem(code="photo-too-small", text=f"照片“{f.name}”{why}", fix=fix)
            review.notes.append(reminder_note(problem, "photo_size"))
            review.remarks.append(reminder_remark(problem, "photo_size"))
        return []
    if len(small) == len(photos):
        return [Problem(code="photo-too-small", text=f"照片“{f.name}”{why}", fix=fix) for _, f, why in small]
    for index, f, why in small:
        review.set_aside.append(SetAside(index=index, why=why))
        review.notes.append(f"照片“{f.name}”{why}，未登记为作品；如需报送，{fix}")
    return []


def review_collection(sub: Submission, rules: KindRules, *, described: bool) -> Review:
    """The rules of sub.kind with the given limits; file problems are added by the caller."""
    review = Review()
    problems: list[Problem]
    match sub.kind:
        case MailboxKind.MICRO_VIDEO:
            problems = _video_work(sub, rules, review, subtitles=True)
        case MailboxKind.RECITATION | MailboxKind.MICRO_FILM | MailboxKind.MICRO_LESSON:
            problems = _video_work(sub, rules, review)
        case MailboxKind.SONG:
            problems = _recording(sub, rules, review)
        case MailboxKind.PHOTOGRAPHY:
            problems = _photography(sub, rules, review)
        case MailboxKind.SERVICE_PLATFORM:
            screenshots = _usable(sub.files, AttachmentKind.PHOTO)
            problems = service_platform(sub, screenshots, review.notes, described)
        case MailboxKind.OFFLINE_ACTIVITY:
            problems = []
            review.notes.extend(_photo_dates(_usable(sub.files, AttachmentKind.PHOTO), rules))
    review.problems.extend(weigh(problems, rules.severity, review.notes, review.remarks))
    return review
