"""What the rules see of one message's files and body: the views the pipeline builds for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from campaign.notice import MailboxKind
from campaign.settings import KindRules
from ingest.inspect.facts import DocumentFacts, ImageFacts, MediaFacts
from store.enums import AttachmentKind


@dataclass(frozen=True, kw_only=True)
class FileView:
    """What the content rules see of one received file."""

    name: str
    kind: AttachmentKind
    label: str
    size: int
    valid: bool
    inline: bool = False
    duplicate: bool = False
    is_description: bool = False
    problems: tuple[str, ...] = ()
    container: str | None = None
    mime: str = ""
    media: MediaFacts | None = None
    image: ImageFacts | None = None
    executable: bool = False  # a program or script: never valid, always a reason to reject
    note: str | None = None  # why a picture is no photo (signature logo, icon, tracking pixel)
    document: DocumentFacts | None = None  # a report document that was read: its text and pictures

    @property
    def text(self) -> str:
        """The words of a document that was read (a report, a platform's introduction), else nothing."""
        return (self.document.text or "") if self.document is not None else ""


@dataclass(frozen=True, kw_only=True)
class EarlierDescription:
    """The earlier mail of the same unit, in the same mailbox, that our reply answered: it had a
    description, which a resubmission answering that reply may lean on."""

    message_id: int
    day: dt.date  # when it arrived (local day), for the sender


@dataclass(frozen=True, kw_only=True)
class Submission:
    kind: MailboxKind
    text: str
    html: str
    subject: str = ""  # a platform may be named there: 单位《“西宁职工之家”微信公众号》
    files: Sequence[FileView] = field(default_factory=tuple)
    rules: KindRules | None = None  # None: the defaults of the notice for this kind
    large_links: int = 0  # large-attachment and net-disk links found in the body (a work may come that way)
    netdisk_links: int = 0  # of which net-disk shares
    registered: bool = False  # the unit registered a work this mail is about (a resend is no fault)
    earlier: EarlierDescription | None = None  # it answers our reply to a described mail of the same unit
