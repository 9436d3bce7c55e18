"""The subject conventions: `单位+线下活动汇总` for reports, `单位《作品名》` for the collections."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from campaign.notice import REPORT_SUFFIX, MailboxKind, convention
from ingest.mail.decode import normalise_subject
from ingest.roster import Roster
from ingest.rules import Finding, Problem

if TYPE_CHECKING:  # the case module imports this one
    from ingest.rules.case import Case

_BRACKETS = re.compile(r"[【】\[\]「」『』〔〕]")
LIKENESS = 0.4  # below this a roster name is not offered as "closest"
_JOINERS = " \t+＋-—_、,，:：|/"


@dataclass(frozen=True, kw_only=True)
class SubjectVerdict:
    unit: str | None
    title: str | None
    problems: tuple[Problem, ...]
    suggestions: tuple[str, ...]


def _clean(subject: str) -> str:
    text = normalise_subject(subject)
    text = _BRACKETS.sub(" ", text)
    return unicodedata.normalize("NFKC", text).strip()


def _unknown_unit(typed: str, roster: Roster, kind: MailboxKind) -> SubjectVerdict:
    closest = roster.closest(typed)
    conv, example = convention(kind)
    shown = typed or "（空）"
    return SubjectVerdict(
        unit=None,
        title=None,
        suggestions=tuple(closest),
        problems=(
            Problem(
                code="unknown-unit",
                text=f"标题中的单位“{shown}”不在活动单位名单中",
                fix=f"请使用名单中的单位全称，最接近的是：{'、'.join(closest)}。标题格式为“{conv}”，例如“{example}”。",
            ),
        ),
    )


def _wrong_format(subject: str, roster: Roster, kind: MailboxKind) -> SubjectVerdict:
    conv, example = convention(kind)
    found = roster.find_inside(subject)
    if found is not None and kind is MailboxKind.OFFLINE_ACTIVITY:
        suggestion = f"{found.name}{REPORT_SUFFIX}"
        fix = f"请把标题改为“{suggestion}”后重新发送。标题格式为“{conv}”，例如“{example}”。"
        suggestions: tuple[str, ...] = (found.name,)
    else:
        scored = roster.scored(subject)[:3]
        suggestions = tuple(name for name, _ in scored)
        if scored and scored[0][1] >= LIKENESS:
            fix = (
                f"标题格式为“{conv}”，例如“{example}”。单位须用名单中的全称，"
                f"与标题最接近的是：{'、'.join(suggestions)}。"
            )
        else:
            fix = f"标题格式为“{conv}”，例如“{example}”。标题中没有找到活动单位名单中的单位，请写明本单位的全称。"
    shown = subject.strip() or "（空）"
    return SubjectVerdict(
        unit=found.name if found else None,
        title=None,
        suggestions=suggestions,
        problems=(Problem(code="subject-format", text=f"邮件标题“{shown}”不符合格式“{conv}”", fix=fix),),
    )


def check_subject(subject: str, *, kind: MailboxKind, roster: Roster) -> SubjectVerdict:
    """Read the unit (and, for collections, the title) from a subject, tolerantly."""
    text = _clean(subject)
    if kind is MailboxKind.OFFLINE_ACTIVITY:
        pos = text.find(REPORT_SUFFIX)
        if pos < 0:
            return _wrong_format(text, roster, kind)
        typed = text[:pos].strip(_JOINERS)
        unit = roster.match(typed)
        if unit is None:
            return _unknown_unit(typed, roster, kind)
        return SubjectVerdict(unit=unit.name, title=None, problems=(), suggestions=())
    hit = roster.prefix(text)
    if hit is None:
        return _wrong_format(text, roster, kind)
    unit, rest = hit
    title = rest.strip(_JOINERS).strip()
    if title.startswith("《") and "》" in title:
        title = title[1 : title.index("》")].strip()
    else:
        title = title.replace("《", "").replace("》", "").strip()
    if not title:
        conv, example = convention(kind)
        return SubjectVerdict(
            unit=unit.name,
            title=None,
            suggestions=(),
            problems=(
                Problem(
                    code="missing-title", text="邮件标题中没有作品名称", fix=f"标题格式为“{conv}”，例如“{example}”。"
                ),
            ),
        )
    return SubjectVerdict(unit=unit.name, title=title, problems=(), suggestions=())


def subject_convention(case: Case) -> Finding:
    """The rule: the subject follows its mailbox's convention and names a roster unit."""
    return Finding(problems=case.subject.problems)
