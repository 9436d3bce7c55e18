"""Rules judge a submission: each takes the case and returns a Finding, never sends or stores anything."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with a submission: what was found, and how the sender fixes it."""

    code: str
    text: str  # plain Chinese, with the measured value next to the rule
    fix: str  # what to do about it
    resend: bool = True  # whether sending the mail again, corrected, can fix it (not for late mail)

    def as_reason(self) -> str:
        return self.text


@dataclass(frozen=True, kw_only=True)
class SetAside:
    """A received file that passes as a file but is not registered as a work, and why (for the reply)."""

    index: int  # its position among the case's files
    why: str


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What one rule found: problems reject, notes remind the sender, remarks are for the hosts only,
    set-aside files are not registered, a hold withholds the reply."""

    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()  # for the hosts (shown by `intake show` and the digest), never in a reply
    set_aside: tuple[SetAside, ...] = ()
    hold: str | None = None  # why no automatic reply may go out (for the hosts)


NOTHING = Finding()
