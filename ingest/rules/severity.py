"""Guidelines are not rules: a limit the configuration marks "remind" turns its problem into a note and a remark.

The collection rules measure every limit the same way and return a Problem for each one missed; this
module then weighs each problem by its limit's severity (`[rules.<kind>.severity]`). A rule rejects;
a guideline (the notice's 以…为宜) leaves the work accepted, tells the sender once under 请留意
(`视频时长 9分12秒，通知建议 3—8分钟，请知悉。`) and tells the hosts in a remark.
"""

from __future__ import annotations

from collections.abc import Sequence

from campaign.settings import Severities, Severity
from ingest.rules import Problem

#: The limit each measured problem belongs to (the names of `Severities`' fields).
LIMIT_OF = {
    "too-short": "duration",
    "too-long": "duration",
    "no-audio": "audio",
    "not-mp4": "format",
    "aspect": "aspect",
    "resolution": "resolution",
    "photo-too-small": "photo_size",
}
# the notice's own figures say 通知建议; the others are the configuration's reading of 画面清晰 and the like
_ADVICE = {"duration": "通知建议"}


def reminds(severities: Severities, limit: str) -> bool:
    """Whether a work outside this limit is accepted with a reminder rather than rejected."""
    return bool(getattr(severities, limit) is Severity.REMIND)


def reminder_note(problem: Problem, limit: str) -> str:
    """The sender's note: the measured value and the advice, `…，通知建议 3—8分钟，请知悉。`."""
    advice = _ADVICE.get(limit, "建议")
    return f"{problem.text.replace('要求', advice, 1)}，请知悉。"


def reminder_remark(problem: Problem, limit: str) -> str:
    """The hosts' remark: the same fact, and that it was only a reminder."""
    advice = _ADVICE.get(limit, "建议")
    return f"{problem.text.replace('要求', advice, 1)}（按配置仅提醒，已受理）。"


def weigh(problems: Sequence[Problem], severities: Severities, notes: list[str], remarks: list[str]) -> list[Problem]:
    """The problems that reject; those of a "remind" limit become a note and a remark instead."""
    kept: list[Problem] = []
    for problem in problems:
        limit = LIMIT_OF.get(problem.code)
        if limit is None or not reminds(severities, limit):
            kept.append(problem)
            continue
        notes.append(reminder_note(problem, limit))
        remarks.append(reminder_remark(problem, limit))
    return kept
