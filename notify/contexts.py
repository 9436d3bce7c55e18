"""The typed contexts of the reply templates: what an acknowledgement and a rejection can show.

The pipeline builds them (ingest.answer) and notify renders them; the template test builds them
through the same code, so a field the templates need cannot go missing unnoticed.

Every text in a context is cleaned when the context is made (`Cleaned`): whatever the sender wrote
(a subject, a work title, a file name, a note quoting either) reaches a reply without terminal escapes,
controls or bidi marks. Only the fields that come from our configuration are kept as written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from notify.safe import clean_text

TEXT_CHARS = 2000  # a cap on any one text; narrower caps are applied where the text is made


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value, max_chars=TEXT_CHARS)
    if isinstance(value, tuple):
        return tuple(_cleaned(v) for v in value)
    return value


@dataclass(frozen=True, kw_only=True)
class Cleaned:
    """A context or a row of one whose texts (and tuples of texts) are cleaned when it is made."""

    OURS: ClassVar[frozenset[str]] = frozenset()  # fields from our configuration, kept as written

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name not in self.OURS:
                object.__setattr__(self, f.name, _cleaned(getattr(self, f.name)))


@dataclass(frozen=True, kw_only=True)
class FileRow(Cleaned):
    """One received file as the sender reads it."""

    name: str
    label: str
    size: int
    container: str | None = None  # the archive it came out of
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class NotCounted(Cleaned):
    """A file that was received but not counted, and why."""

    name: str
    why: str


@dataclass(frozen=True, kw_only=True)
class LinkRow(Cleaned):
    """A download link found in the body: a large attachment, or a net-disk share with its code; without
    a file name written beside it, the row says so and names the link's host."""

    filename: str | None
    size: str | None
    expires: str | None
    url: str
    provider: str = ""
    code: str | None = None
    netdisk: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.filename and not self.netdisk:  # a share without a name is named by its provider
            host = urlsplit(self.url).hostname or "链接"
            object.__setattr__(self, "filename", f"文件名未知（{host} 的超大附件）")


@dataclass(frozen=True, kw_only=True)
class ProblemRow(Cleaned):
    """One reason for a rejection, and how to fix it."""

    text: str
    fix: str
    resend: bool = True  # sending again, corrected, fixes it (a late mail cannot be fixed that way)


@dataclass(frozen=True, kw_only=True)
class ReplyContext(Cleaned):
    """What both replies show: the message answered, the mailbox, who answers."""

    OURS = frozenset({"collection", "received_at", "campaign", "contact", "convention", "example"})

    addressee: str  # the unit's name, or 贵单位 when the subject names none
    subject: str  # as the sender wrote it, cleaned
    subject_line: str  # without reply prefixes, for the reply's own subject
    collection: str  # the mailbox kind's Chinese name
    received_at: str  # Beijing time, as people write it: 2020年8月20日 10:05
    campaign: str
    contact: str

    def context(self) -> dict[str, Any]:
        """The template variables: the fields, nested rows kept as objects."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, kw_only=True)
class Acknowledgement(ReplyContext):
    """The acknowledgement: what was registered, what was not counted and why, what to note."""

    unit: str
    title: str | None
    counted: tuple[FileRow, ...] = ()
    not_counted: tuple[NotCounted, ...] = ()
    links: tuple[LinkRow, ...] = ()
    notes: tuple[str, ...] = ()
    from_documents: tuple[str, ...] = ()  # how many photos were taken out of each report document


@dataclass(frozen=True, kw_only=True)
class Rejection(ReplyContext):
    """The rejection: every problem with its fix, the files received, the subject convention."""

    problems: tuple[ProblemRow, ...]
    files: tuple[FileRow, ...] = ()
    convention: str
    example: str
    resend: bool = True  # whether the reply asks for the mail to be sent again
    subject_problem: bool = False  # a reason is about the subject: the convention is shown at the end


@dataclass(frozen=True, kw_only=True)
class Correction(ReplyContext):
    """The corrected answer after a person changed the verdict: what was said, what stands now, why."""

    accepted: bool  # the verdict now
    previous: str  # what the earlier reply said: 已登记 / 未通过 (经复核…), "" when no reply went out
    reason: str  # the host's reason, as typed (cleaned)
    title: str | None = None
