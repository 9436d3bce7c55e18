"""Rules judge a submission: each returns problems (reasons), never sends or stores anything."""

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
