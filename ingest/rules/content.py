"""What a submission must contain, per mailbox kind: photos and a description for reports."""

from __future__ import annotations

import dataclasses
import functools
import html as htmllib
import re
from collections.abc import Sequence

from campaign.notice import MailboxKind
from campaign.settings import DEFAULT_RULES
from ingest.inspect.documents import PASSWORD
from ingest.mail.links import NETDISK
from ingest.mail.ours import quotes_our_reply
from ingest.mail.quoted import SIGNATURE, above_quote
from ingest.rules import NOTHING, Finding, Problem
from ingest.rules.case import Case
from ingest.rules.collections import Review, review_collection
from ingest.rules.platforms import URL
from ingest.rules.views import FileView, Submission
from store.enums import AttachmentKind

MIN_DESCRIPTION_CHARS = 10
_BOILERPLATE = re.compile(rf"{SIGNATURE.pattern}|-{{2,}}\s*原始邮件\s*-{{2,}}", re.I)
_QUOTE = re.compile(r"^(>.*|在 .*写道：|On .* wrote:)$", re.M)
_TAGS = re.compile(r"<(script|style|head|title)\b.*?</\1>|<[^>]+>", re.S | re.I)
_COMMENTS = re.compile(r"<!--.*?-->", re.S)  # Outlook's conditional comments carry pages of XML
_SPACES = re.compile(r"[ \t\u3000]+")
_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


# the kinds of file that are the work itself in each collection: when one of them fails its own
# check the work is rejected; any other failing file is only noted when the work is complete
WORK_KINDS: dict[MailboxKind, frozenset[AttachmentKind]] = {
    MailboxKind.OFFLINE_ACTIVITY: frozenset(),
    MailboxKind.MICRO_VIDEO: frozenset({AttachmentKind.VIDEO}),
    MailboxKind.RECITATION: frozenset({AttachmentKind.VIDEO}),
    MailboxKind.PHOTOGRAPHY: frozenset({AttachmentKind.PHOTO}),
    MailboxKind.SERVICE_PLATFORM: frozenset(),
    MailboxKind.MICRO_FILM: frozenset({AttachmentKind.VIDEO}),
    MailboxKind.SONG: frozenset({AttachmentKind.AUDIO, AttachmentKind.VIDEO}),
    MailboxKind.MICRO_LESSON: frozenset({AttachmentKind.VIDEO}),
}


# The rules ask for one message's description several times (the report's needs, the collection's,
# its activity count): the last few answers are kept, keyed by the texts themselves.
@functools.lru_cache(maxsize=4)
def description_text(*, text: str, html: str) -> str:
    """The sender's own words: body text (or the HTML's text, decoded), without quotes and boilerplate.

    A body that quotes one of our replies (our closing line) counts only above the quote: our own
    words are never the sender's description."""
    if quotes_our_reply(text, html):
        text, html = above_quote(text, html), ""
    if not text.strip():
        text = htmllib.unescape(_TAGS.sub(" ", _COMMENTS.sub(" ", html)))
    text = _QUOTE.sub("", text.replace("\xa0", " "))
    return _SPACES.sub(" ", _BOILERPLATE.sub("", text)).strip()


def _own(*, text: str, html: str) -> str:
    """The description without the links and e-mail addresses in it: those are not the sender's words."""
    return _EMAIL.sub(" ", URL.sub(" ", description_text(text=text, html=html)))


@functools.lru_cache(maxsize=4)
def _meaningful_chars(*, text: str, html: str) -> int:
    """How many letters and characters the sender's own words have (links and addresses left out)."""
    return len(_MEANINGFUL.findall(_own(text=text, html=html)))


def enough_words(text: str) -> bool:
    """Whether words make a description: the minimum of letters and characters, links and e-mail
    addresses left out."""
    return len(_MEANINGFUL.findall(_EMAIL.sub(" ", URL.sub(" ", text)))) >= MIN_DESCRIPTION_CHARS


def describes(f: FileView) -> bool:
    """Whether a file is a description: a document whose text has the minimum of words (a Word or
    PDF file whose text could not be read, or a PDF without a text layer (a scan), counts by its
    type as before)."""
    if not f.valid:
        return False
    scan = f.mime == "application/pdf" and not f.document.text if f.document is not None else False
    if f.document is not None and f.document.text is not None and not scan:
        return enough_words(f.document.text)
    return f.is_description


def words_describe(*, text: str, html: str) -> bool:
    """Whether the sender's own words of a body are enough for a description."""
    return _meaningful_chars(text=text, html=html) >= MIN_DESCRIPTION_CHARS


def own_description(sub: Submission) -> bool:
    """Whether the mail itself describes: the sender's own words, or a description document."""
    return words_describe(text=sub.text, html=sub.html) or any(describes(f) for f in sub.files)


def has_description(sub: Submission) -> bool:
    """The mail's own description, or (a resubmission answering our reply) the earlier mail's."""
    return own_description(sub) or sub.earlier is not None


def earlier_description(sub: Submission) -> Finding:
    """When the description counts from the earlier mail: one line for the sender, a remark for the hosts."""
    if sub.earlier is None or own_description(sub):
        return NOTHING
    day = f"{sub.earlier.day.month}月{sub.earlier.day.day}日"
    return Finding(
        notes=(f"简要说明沿用此前来信（{day}）中的内容。",),
        remarks=(
            f"正文没有简要说明，按对本服务回复的补充报送处理，沿用同一单位第 {sub.earlier.message_id} 号邮件"
            f"（{day}）中的说明。",
        ),
    )


def documents_without_photos(files: Sequence[FileView]) -> list[str]:
    """Why each document that was read gave no photo, in the sender's words (the pictures that are
    no photos are listed on their own)."""
    found: list[str] = []
    for f in files:
        if f.document is None or f.problems or f.document.pictures:
            continue
        if f.document.unread:
            found.append(f"附件“{f.name}”中的图片未能读取出来（可另存为 .docx 或 PDF）")
        else:
            found.append(f"附件“{f.name}”中没有图片")
    return found


def unread_documents(files: Sequence[FileView]) -> list[str]:
    """For the hosts: documents whose text and pictures could not be read, to be looked at by hand."""
    return [
        f"“{f.name}”的文字和图片未能自动读取，已按文件类型登记，请人工查看。"
        for f in files
        if f.document is not None and f.document.unread
    ]


def document_notes(files: Sequence[FileView]) -> list[str]:
    """A document with more pictures than are looked at: the sender learns which were seen."""
    return [
        f"“{f.name}”中的图片超过 {f.document.pictures} 张，只查看了前 {f.document.pictures} 张"
        for f in files
        if f.document is not None and f.document.more_pictures
    ]


def _file_problem(f: FileView, text: str) -> Problem:
    if text == PASSWORD:
        return Problem(
            code="bad-file", text=text, fix=f"请取消“{f.name}”的打开密码（或另存为不加密的文件）后重新发送。"
        )
    if f.executable:
        return Problem(
            code="program", text=text, fix=f"请删除“{f.name}”后重新发送；作品和材料请用图片、视频或文档格式。"
        )
    return Problem(code="bad-file", text=text, fix=f"请检查文件“{f.name}”，换成完好、格式正确的文件后重新发送。")


def file_problems(sub: Submission, *, complete: bool = False) -> tuple[list[Problem], list[str]]:
    """What is wrong in the files themselves (wrong type, damaged, unsafe archive, a program), as
    problems; when the submission is complete without them, a failing extra file is only noted.
    A program always rejects, and so does a failing file of the kind that is the work."""
    problems: list[Problem] = []
    notes: list[str] = []
    work = WORK_KINDS[sub.kind]
    for f in sub.files:
        for text in f.problems:
            if f.executable or not complete or f.kind in work:
                problems.append(_file_problem(f, text))
            else:
                notes.append(f"“{f.name}”未计入：{text}")
    return problems, notes


def _photos(sub: Submission) -> list[FileView]:
    return [f for f in sub.files if f.kind is AttachmentKind.PHOTO and f.valid and not f.duplicate and not f.note]


def check_offline_report(sub: Submission) -> list[Problem]:
    """What a report needs: at least one real photo of the activity and a short description."""
    problems: list[Problem] = []
    if not _photos(sub):
        dupes = [f for f in sub.files if f.kind is AttachmentKind.PHOTO and f.valid and f.duplicate]
        small = [f for f in sub.files if f.kind is AttachmentKind.PHOTO and f.valid and f.note]
        if dupes:
            problems.append(
                Problem(
                    code="only-duplicates",
                    text="邮件中的照片此前都已收到过，没有新的活动照片",
                    fix="请附上本次线下活动的新照片后重新发送。",
                )
            )
        else:
            seen = "".join(f"“{f.name}”{f.note}；" for f in small)
            seen += "".join(f"{why}；" for why in documents_without_photos(sub.files))
            problems.append(
                Problem(
                    code="no-photo",
                    text="邮件中没有活动照片",
                    fix=f"{seen}请把线下活动的照片（JPG、PNG 等图片文件）作为附件添加到邮件中，"
                    "或放入 Word/PDF 汇总文档中，然后重新发送。",
                )
            )
    if not has_description(sub):
        problems.append(
            Problem(
                code="no-description",
                text=f"邮件中没有活动的简要说明（正文少于 {MIN_DESCRIPTION_CHARS} 个字，也没有说明文档）",
                fix="请在邮件正文中写明活动的时间、地点、参加人数和主要内容，"
                "或附上写有这些内容的 Word/PDF 文档或表格。",
            )
        )
    return problems


def review(sub: Submission) -> Review:
    """Problems (reject) and notes (remind) for one submission, by the rules of its mailbox kind.

    Pictures that are no photos (logos, icons, 1×1) are not looked at by the kind's rules. When the
    submission has what its kind requires without the files that fail their own check, those files
    are only noted (unless one is a program, or of the kind that is the work itself)."""
    rules = sub.rules if sub.rules is not None else DEFAULT_RULES[sub.kind]
    offline = sub.kind is MailboxKind.OFFLINE_ACTIVITY
    needs = check_offline_report(sub) if offline else []
    shown = dataclasses.replace(sub, files=tuple(f for f in sub.files if f.note is None))
    described = has_description(sub)
    sound = dataclasses.replace(shown, files=tuple(f for f in shown.files if not f.problems))
    probe = review_collection(sound, rules, described=described)
    if not needs and not probe.problems:
        problems, notes = file_problems(shown, complete=True)
        if not problems:
            return Review(problems=[], notes=[*probe.notes, *notes], remarks=probe.remarks, set_aside=probe.set_aside)
    found = review_collection(shown, rules, described=described)
    problems, _ = file_problems(shown)
    return Review(
        problems=[*problems, *needs, *found.problems],
        notes=found.notes,
        remarks=found.remarks,
        set_aside=found.set_aside,
    )


def content(case: Case) -> Finding:
    """The rule: what the mailbox kind requires is there and every file passes (not for unreadable mail)."""
    if case.unreadable:
        return NOTHING
    # in a mail that answers one of our replies, only the words above the quoted thread are the sender's
    text, html = (
        (above_quote(case.mail.text, case.mail.html), "") if case.answers_us else (case.mail.text, case.mail.html)
    )
    sub = Submission(
        kind=case.kind,
        text=text,
        html=html,
        subject=case.mail.subject or "",
        files=case.files,
        rules=case.rules,
        large_links=len(case.links),
        netdisk_links=sum(1 for link in case.links if link.kind == NETDISK),
        registered=case.registered is not None,
        earlier=case.earlier,
    )
    found = review(sub)
    earlier = earlier_description(sub) if not found.problems else NOTHING
    return Finding(
        problems=tuple(found.problems),
        notes=(*found.notes, *document_notes(case.files), *earlier.notes),
        remarks=(*found.remarks, *unread_documents(case.files), *earlier.remarks),
        set_aside=tuple(found.set_aside),
    )


def large_links(case: Case) -> Finding:
    """The rule: large-attachment links expire, so the hosts are reminded to download them in time;
    net-disk shares are named with their codes (the acknowledgement lists the links itself)."""
    large = [link for link in case.links if link.kind != NETDISK]
    shares = [link for link in case.links if link.kind == NETDISK]
    remarks: list[str] = []
    if large:
        remarks.append(f"邮件中有 {len(large)} 个超大附件链接，链接会过期，请及时下载。")
    if shares:
        named = "、".join(
            f"{link.provider}（{'提取码 ' + link.code if link.code else '未写提取码'}）" for link in shares[:5]
        )
        remarks.append(f"邮件中有 {len(shares)} 个网盘链接待下载：{named}。")
    return Finding(remarks=tuple(remarks)) if remarks else NOTHING
