"""The typed contexts of the reply templates: what an acknowledgement and a rejection can show.

The pipeline builds them (ingest.answer) and notify renders them; the template test builds them
through the same code, so a field the templates need cannot go missing unnoticed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class FileRow:
    """One received file as the sender reads it."""

    name: str
    label: str
    size: int
    container: str | None = None  # the archive it came out of
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class NotCounted:
    """A file that was received but not counted, and why."""

    name: str
    why: str


@dataclass(frozen=True, kw_only=True)
class LinkRow:
    """A large-attachment link found in the body."""

    filename: str | None
    size: str | None
    expires: str | None
    url: str


@dataclass(frozen=True, kw_only=True)
class ProblemRow:
    """One reason for a rejection, and how to fix it."""

    text: str
    fix: str
    resend: bool = True  # sending again, corrected, fixes it (a late mail cannot be fixed that way)


@dataclass(frozen=True, kw_only=True)
class ReplyContext:
    """What both replies show: the message answered, the mailbox, who answers."""

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


@dataclass(frozen=True, kw_only=True)
class Rejection(ReplyContext):
    """The rejection: every problem with its fix, the files received, the subject convention."""

    problems: tuple[ProblemRow, ...]
    files: tuple[FileRow, ...] = ()
    convention: str
    example: str
    resend: bool = True  # whether the reply asks for the mail to be sent again


@dataclass(frozen=True, kw_only=True)
class Correction(ReplyContext):
    """The corrected answer after a person changed the verdict: what was said, what stands now, why."""

    accepted: bool  # the verdict now
    previous: str  # what the earlier reply said: 已登记 / 未通过
    reason: str  # the host's reason, as typed (cleaned)
    title: str | None = None
