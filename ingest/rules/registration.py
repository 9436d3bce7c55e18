"""Works registered before: a later mail for the same work is a resend, a supplement or a new version.

A unit's later mail to a collection is about a work it registered before when it carries the same
work file (by its bytes) or the same title. Then nothing new is a resend (已登记，无需重复发送, never a
rejection), new other files (作品简介, 授权书) are a supplement added to the work, and a new work file
under the same title is a new version that replaces the registered one once it passes the rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from campaign.notice import MailboxKind, date_text, local, name_key
from ingest.rules import NOTHING, Finding
from ingest.rules.case import Case, Registered
from ingest.rules.views import FileView
from store.enums import AttachmentKind, WorkRole

# the kinds of file that are the work itself in each collection (a report has no work file)
WORK_FILES: dict[MailboxKind, frozenset[AttachmentKind]] = {
    MailboxKind.MICRO_VIDEO: frozenset({AttachmentKind.VIDEO}),
    MailboxKind.RECITATION: frozenset({AttachmentKind.VIDEO}),
    MailboxKind.PHOTOGRAPHY: frozenset({AttachmentKind.PHOTO}),
    MailboxKind.SERVICE_PLATFORM: frozenset({AttachmentKind.PHOTO}),
    MailboxKind.MICRO_FILM: frozenset({AttachmentKind.VIDEO}),
    MailboxKind.SONG: frozenset({AttachmentKind.AUDIO, AttachmentKind.VIDEO}),
    MailboxKind.MICRO_LESSON: frozenset({AttachmentKind.VIDEO}),
}


def _usable(files: Sequence[FileView]) -> list[FileView]:
    return [f for f in files if f.valid and f.note is None and f.kind is not AttachmentKind.ARCHIVE]


def role_of(
    kind: MailboxKind, files: Sequence[FileView], registered: Registered | None, title: str | None
) -> WorkRole | None:
    """What this mail is to the registered work; ORIGINAL for a new work, None for a report."""
    if kind is MailboxKind.OFFLINE_ACTIVITY:
        return None
    if registered is None:
        return WorkRole.ORIGINAL
    usable = _usable(files)
    work = [f for f in usable if f.kind in WORK_FILES[kind]]
    if work and all(f.duplicate for f in work):
        return WorkRole.SUPPLEMENT if any(not f.duplicate for f in usable) else WorkRole.RESEND
    same_title = title is not None and registered.title is not None and name_key(title) == name_key(registered.title)
    if any(not f.duplicate for f in work) and same_title:
        return WorkRole.REPLACEMENT
    if not work and same_title and any(not f.duplicate for f in usable):
        return WorkRole.SUPPLEMENT  # only other files, under the work's title
    return WorkRole.ORIGINAL


def registration(case: Case) -> Finding:
    """The rule: tell the unit what its mail did to the work registered before (notes only)."""
    registered = case.registered
    role = role_of(case.kind, case.files, registered, case.subject.title)
    if registered is None or role in (None, WorkRole.ORIGINAL):
        return NOTHING
    work = f"作品《{registered.title}》" if registered.title else f"第 {registered.message_id} 号邮件登记的作品"
    day = date_text(local(registered.arrived_at).date())
    if role is WorkRole.RESEND:
        return Finding(notes=(f"{work}已于{day}登记，本邮件中的作品文件与登记的相同，无需重复发送。",))
    if role is WorkRole.SUPPLEMENT:
        added = "、".join(f"“{f.name}”" for f in _usable(case.files) if not f.duplicate)
        return Finding(notes=(f"{work}已于{day}登记；本邮件新附的{added}已补充到该作品。",))
    return Finding(
        notes=(f"本邮件中的作品文件是{work}的新版本，已替换{day}登记的版本。",),
        remarks=(f"{work}换了新版本，替换第 {registered.message_id} 号邮件登记的版本（两个版本都已保存）。",),
    )
