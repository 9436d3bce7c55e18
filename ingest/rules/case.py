"""The case: everything the rules look at for one message, gathered by the pipeline before deciding,
and the two readings made before the rules run (the subject's verdict, the work registered before)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from campaign.notice import LOCAL_TZ, MailboxKind
from campaign.settings import KindRules, SafetySettings, Unit
from ingest.mail.links import LargeLink
from ingest.mail.parse import ParsedMail, ParseLimitExceeded
from ingest.rules import Problem
from ingest.rules.views import EarlierDescription, FileView


@dataclass(frozen=True, kw_only=True)
class SubjectVerdict:
    unit: str | None
    title: str | None
    problems: tuple[Problem, ...]
    suggestions: tuple[str, ...]
    notes: tuple[str, ...] = ()  # how the unit was read, when not by its roster name or an alias
    remarks: tuple[str, ...] = ()  # for the hosts: a unit recognised by likeness, to be checked


@dataclass(frozen=True, kw_only=True)
class Registered:
    """A work the same unit registered before in a mailbox of the same kind."""

    message_id: int  # the work's first message
    title: str | None
    arrived_at: dt.datetime  # UTC, naive: when its first message arrived


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
    answers_us: bool = False  # it answers one of our replies: only the words above the quote are the sender's
    earlier: EarlierDescription | None = None  # the described mail of the same unit our reply answered

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
