"""Rules judge a submission: each takes the case and returns a Finding, never sends or stores anything."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with a submission: what was found, and how the sender fixes it."""

    code: str
    text: str  # plain Chinese, with the measured value next to the rule
    fix: str  # what to do about it

    def as_reason(self) -> str:
        return self.text


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What one rule found: problems reject, notes remind, a hold withholds the reply."""

    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    hold: str | None = None  # why no automatic reply may go out (for the hosts)


NOTHING = Finding()
