"""The case: everything the rules look at for one message, gathered by the pipeline before deciding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from campaign.notice import LOCAL_TZ, MailboxKind
from campaign.settings import KindRules, SafetySettings, Unit
from ingest.mail.links import LargeLink
from ingest.mail.parse import ParsedMail, ParseLimitExceeded
from ingest.rules.content import FileView
from ingest.rules.registration import Registered
from ingest.rules.subject import SubjectVerdict


@dataclass(frozen=True, kw_only=True)
class Case:
    """One message as the rules see it: the parsed mail, what its subject says, its files, its mailbox."""

    kind: MailboxKind
    rules: KindRules
    mail: ParsedMail
    subject: SubjectVerdict
    files: tuple[FileView, ...] = ()
    links: tuple[LargeLink, ...] = ()
    units: tuple[Unit, ...] = ()
    authserv_id: str | None = None
    deadline: dt.date | None = None
    arrived: dt.datetime  # aware; when the message reached the mailbox
    raw_size: int = 0
    max_message_bytes: int = 0
    oversize: bool = False  # only the header was fetched
    parse_error: ParseLimitExceeded | None = None  # the parse was refused; headers only
    safety: SafetySettings = SafetySettings()
    reply_hold: Callable[[SafetySettings], str | None] | None = None  # caps and loops, from the store
    registered: Registered | None = None  # the unit's work this mail may be about, from the store

    @property
    def unreadable(self) -> bool:
        """Whether the body and files could not be read (too large, or refused by the parse limits)."""
        return self.oversize or self.parse_error is not None

    @property
    def arrived_day(self) -> dt.date:
        return self.arrived.astimezone(LOCAL_TZ).date()

    @property
    def late(self) -> bool:
        return self.deadline is not None and self.arrived_day > self.deadline
