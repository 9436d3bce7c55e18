"""The reply to one decided message: the typed template context, built from the decision and its files."""

from __future__ import annotations

import re
from collections.abc import Sequence

from campaign.notice import KIND_NAMES, MailboxKind, convention, datetime_text, local
from campaign.settings import ReplySettings
from ingest.chain import Decision
from ingest.inspect.detect import TNEF_LABEL
from ingest.mail.decode import without_reply_prefixes
from ingest.mail.links import NETDISK, LargeLink
from ingest.mail.ours import without_our_suffixes
from ingest.rules.subject import SUBJECT_CODES
from ingest.rules.views import FileView
from notify.contexts import Acknowledgement, FileRow, LinkRow, NotCounted, ProblemRow, Rejection, ReplyContext
from notify.quote import SHORT_QUOTE_CHARS, short_quote
from notify.safe import clean_text
from store.enums import AttachmentKind, MessageStatus
from store.models import Message

_QUOTED = re.compile(rf"“([^“”]{{{SHORT_QUOTE_CHARS + 1},}})”")


def _counted(f: FileView) -> bool:
    return f.valid and not f.duplicate and not f.note and f.kind is not AttachmentKind.ARCHIVE


def _why(f: FileView) -> str:
    if f.duplicate:
        return "与此前已收到的文件相同，不重复计入"
    if f.note:
        return f.note
    if f.label == TNEF_LABEL:
        return "Outlook 封装文件本身不计入，其中的文件已分别登记"
    if f.kind is AttachmentKind.ARCHIVE:
        return "压缩包本身不计入，其中的文件已分别登记"
    return "；".join(f.problems) or "不是可登记的文件"


def _from_documents(files: Sequence[FileView]) -> tuple[str, ...]:
    """How many photos were taken out of each document, for the acknowledgement."""
    lines = []
    for f in files:
        if f.document is None or not f.document.pictures:
            continue
        photos = sum(1 for p in files if p.container == f.name and p.kind is AttachmentKind.PHOTO and _counted(p))
        if photos:
            lines.append(f"附件“{f.name}”中有 {photos} 张活动照片，已计入。")
        else:
            lines.append(f"附件“{f.name}”中的图片都未计为活动照片（原因见下）。")
    return tuple(lines)


def _row(f: FileView) -> FileRow:
    problems = (*f.problems, f.note) if f.note else tuple(f.problems)
    return FileRow(name=f.name, label=f.label, size=f.size, container=f.container, problems=problems)


def _quoting(text: str, *, short: bool) -> str:
    """A reason or fix, cleaned; for a short quotation, every quotation in it (“…”: the subject as the
    rule read it, a file name) cut to its short form."""
    if short:
        text = _QUOTED.sub(lambda m: f"“{short_quote(m.group(1))}”", short_quote(text, max_chars=4000))
    return clean_text(text, max_chars=2000)


def reply_context(
    *,
    msg: Message,
    kind: MailboxKind,
    decision: Decision,
    files: Sequence[FileView],
    links: Sequence[LargeLink],
    replies: ReplySettings,
    first_contact: bool = False,
) -> ReplyContext:
    """The acknowledgement or the rejection for a decided message (never for an ignored one).

    A rejection to a first contact (a sender we do not know, see notify.quota) quotes at most a short,
    cleaned part of its subject, wherever the subject appears: whoever forged the sender chose it."""
    if decision.status not in (MessageStatus.ACCEPTED, MessageStatus.REJECTED):
        raise ValueError(f"no reply for a {decision.status.value} message")
    subject = msg.subject or ""
    short = first_contact and decision.status is MessageStatus.REJECTED
    quote_chars = SHORT_QUOTE_CHARS if short else 150
    common = {
        "addressee": clean_text(msg.unit or "", max_chars=100) or "贵单位",
        # as the sender wrote it, less the suffix of our own reply it answered (（未通过…） in an acknowledgement)
        "subject": short_quote(without_our_suffixes(subject), max_chars=quote_chars) or "（无标题）",
        # our own suffixes off, so that answering a reply of ours never stacks them: （未通过…）（已收到）
        "subject_line": short_quote(without_our_suffixes(without_reply_prefixes(subject)), max_chars=quote_chars)
        or "（无标题）",
        "collection": KIND_NAMES[kind],
        "received_at": datetime_text(local(msg.arrived_at)),  # when the provider received it
        "campaign": replies.campaign,
        "contact": replies.contact,
    }
    if decision.status is MessageStatus.ACCEPTED:
        aside = {s.index: s.why for s in decision.set_aside}
        return Acknowledgement(
            **common,
            unit=msg.unit or "",
            title=msg.title,
            counted=tuple(_row(f) for i, f in enumerate(files) if _counted(f) and i not in aside),
            not_counted=tuple(
                NotCounted(name=f.name, why=aside.get(i) or _why(f))
                for i, f in enumerate(files)
                if not _counted(f) or i in aside
            ),
            links=tuple(
                LinkRow(
                    filename=clean_text(x.filename, max_chars=120) if x.filename else None,
                    size=x.size,
                    expires=x.expires,
                    url=x.url,
                    provider=x.provider,
                    code=clean_text(x.code, max_chars=20) if x.code else None,
                    netdisk=x.kind == NETDISK,
                )
                for x in links
            ),
            notes=decision.notes,
            from_documents=_from_documents(files),
        )
    conv, example = convention(kind)
    return Rejection(
        **common,
        # a reason may quote the subject as typed: no controls or bidi in a reply
        problems=tuple(
            ProblemRow(text=_quoting(p.text, short=short), fix=_quoting(p.fix, short=short), resend=p.resend)
            for p in decision.problems
        ),
        files=tuple(_row(f) for f in files),
        convention=conv,
        example=example,
        resend=any(p.resend for p in decision.problems),
        subject_problem=any(p.code in SUBJECT_CODES for p in decision.problems),
    )
