"""Hints that name the real mistake when a video collection receives no video: sound, slides, no picture."""

from __future__ import annotations

from collections.abc import Sequence

from campaign.notice import MailboxKind
from ingest.inspect import SOUND_IN_VIDEO
from ingest.rules import Problem
from ingest.rules.views import FileView
from store.enums import AttachmentKind

SLIDES = frozenset(
    {
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.presentation",
    }
)
_WORKS = {
    MailboxKind.MICRO_VIDEO: "微视频作品",
    MailboxKind.RECITATION: "诵读作品",
    MailboxKind.MICRO_FILM: "微电影作品",
    MailboxKind.MICRO_LESSON: "微课",
}
_RECORD = {
    MailboxKind.MICRO_VIDEO: "请把作品制作成视频（画面与声音俱全），导出为 MP4 后重新发送。",
    MailboxKind.RECITATION: "请录制诵读的视频（画面中有诵读者，声音清楚），导出为 MP4 后重新发送。",
    MailboxKind.MICRO_FILM: "请把微电影导出为 MP4 等视频文件后重新发送。",
    MailboxKind.MICRO_LESSON: "请录制讲课的视频（可以是讲解加课件录屏），导出为 MP4 后重新发送。",
}


def missing_video(kind: MailboxKind, files: Sequence[FileView]) -> Problem | None:
    """Why a video collection's mail has no video, when its files tell: None when they do not."""
    work = _WORKS.get(kind)
    if work is None:
        return None
    sound = [f for f in files if f.kind is AttachmentKind.AUDIO and f.valid and not f.duplicate]
    pictureless = [f for f in sound if f.mime in SOUND_IN_VIDEO]
    if pictureless:
        f = pictureless[0]
        return Problem(
            code="no-picture",
            text=f"文件“{f.name}”是 MP4 但没有画面（只有声音）",
            fix=f"{work}须为视频。{_RECORD[kind]}",
        )
    slides = kind is MailboxKind.MICRO_LESSON and any(f.mime in SLIDES and f.valid for f in files)
    if sound and slides:  # courseware is courseware: the mail is not "only sound"
        return Problem(
            code="slides-not-video",
            text="微课须为录制的视频，本邮件只有课件（PPT）和音频文件，没有视频",
            fix="请边放课件边讲解，用 PowerPoint 的“录制幻灯片演示”或录屏软件把课件和讲解录成一个视频，"
            "导出为 MP4 后重新发送（课件可作为附件一并发送）。",
        )
    if sound:
        return Problem(code="audio-not-video", text=f"{work}须为视频（本邮件只有音频文件）", fix=_RECORD[kind])
    if slides:
        return Problem(
            code="slides-not-video",
            text="微课须为录制的视频，不能只发课件（PPT）",
            fix="请边放课件边讲解，用 PowerPoint 的“录制幻灯片演示”或录屏软件录成视频，导出为 MP4 后重新发送"
            "（课件可作为附件一并发送）。",
        )
    return None
