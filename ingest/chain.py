"""The chain: run every rule over a case, in order, and make the one decision.

Screens come first and see only the parsed mail: machine mail (auto-replies, bounces, list mail,
our own replies) is IGNORED and never reaches the rules. Every rule then returns a Finding;
the chain collects all of them (every problem is told at once) and decides once: any problem
rejects, notes and remarks are kept, the first hold withholds the reply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.mail.parse import ParsedMail
from ingest.rules import Finding, Problem, SetAside
from ingest.rules.autoreply import ignore_reason
from ingest.rules.caps import reply_caps
from ingest.rules.case import Case
from ingest.rules.content import content, large_links
from ingest.rules.deadline import deadline
from ingest.rules.limits import unreadable
from ingest.rules.registration import registration
from ingest.rules.subject import subject_convention
from ingest.rules.trust import sender_trust
from store.enums import MessageStatus

Screen = Callable[[ParsedMail], str | None]
Rule = Callable[[Case], Finding]

SCREENS: tuple[Screen, ...] = (ignore_reason,)
RULES: tuple[Rule, ...] = (
    subject_convention,
    unreadable,
    content,
    registration,
    deadline,
    large_links,
    sender_trust,
    reply_caps,
)


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The verdict on one message, made once."""

    status: MessageStatus
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()  # for the hosts only, never in the reply
    set_aside: tuple[SetAside, ...] = ()  # files received but not registered (the mail is still accepted)
    hold: str | None = None  # the reply is written but not sent, for this reason
    ignored: str | None = None  # why the message got no verdict

    @property
    def reasons(self) -> list[str]:
        """What the store keeps as the reasons: the ignore reason, or each problem's text."""
        return [self.ignored] if self.ignored else [p.as_reason() for p in self.problems]


def screen(mail: ParsedMail, screens: Sequence[Screen] = SCREENS) -> Decision | None:
    """IGNORED with the reason when the mail is no submission; None when the rules should judge it."""
    for check in screens:
        reason = check(mail)
        if reason is not None:
            return Decision(status=MessageStatus.IGNORED, ignored=reason)
    return None


def decide(case: Case, rules: Sequence[Rule] = RULES) -> Decision:
    """Run every rule and decide: rejected when any found a problem, else accepted."""
    findings = [rule(case) for rule in rules]
    problems = tuple(p for f in findings for p in f.problems)
    return Decision(
        status=MessageStatus.REJECTED if problems else MessageStatus.ACCEPTED,
        problems=problems,
        notes=tuple(n for f in findings for n in f.notes),
        remarks=tuple(r for f in findings for r in f.remarks),
        set_aside=tuple(s for f in findings for s in f.set_aside),
        hold=next((f.hold for f in findings if f.hold is not None), None),
    )
