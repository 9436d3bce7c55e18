"""The subject conventions: `单位+线下活动汇总` for reports, `单位《作品名》` for the collections."""

from __future__ import annotations

import re
import unicodedata

from campaign.notice import REPORT_SUFFIX, MailboxKind, convention, name_key
from campaign.settings import Unit
from ingest.mail.decode import normalise_subject
from ingest.mail.ours import without_our_suffixes
from ingest.roster import Roster
from ingest.rules import Finding, Problem
from ingest.rules.case import Case, SubjectVerdict
from ingest.rules.unitpart import as_report, report_unit_part, unit_segment
from ingest.unitname import Recognition, labels, simplified
from notify.safe import without_controls

_BRACKETS = re.compile(r"[【】\[\]「」『』〔〕]")
# the problems this module finds: a rejection for one of them repeats the subject convention at its end
SUBJECT_CODES = frozenset({"ambiguous-unit", "unknown-unit", "several-units", "subject-format", "missing-title"})
LIKENESS = 0.4  # below this a roster name is not offered as "closest"
_JOINERS = " \t+＋-—_、,，:：|/"


def _clean(subject: str) -> str:
    """The subject to read: reply prefixes and our own reply suffixes off, simplified characters, NFKC."""
    text = without_our_suffixes(normalise_subject(subject))
    text = _BRACKETS.sub(" ", simplified(text))
    return unicodedata.normalize("NFKC", text).strip()


def _known(unit: Unit, text: str, roster: Roster, *, title: str | None = None) -> SubjectVerdict:
    """A unit named by one of its labels; a former or registered name is told back with the roster name."""
    other = roster.other_name(unit, text)
    notes = (f"标题中的单位“{other}”已按“{unit.name}”登记。",) if other else ()
    return SubjectVerdict(unit=unit.name, title=title, problems=(), suggestions=(), notes=notes)


def _recognised(found: Recognition, *, title: str | None = None) -> SubjectVerdict:
    assert found.unit is not None
    return SubjectVerdict(
        unit=found.unit.name,
        title=title,
        problems=(),
        suggestions=(),
        notes=(f"标题中的单位“{found.typed}”已按“{found.unit.name}”登记。",),
        remarks=(found.remark(),),
    )


def _ambiguous(found: Recognition, kind: MailboxKind) -> SubjectVerdict:
    names = [u.name for u in found.ambiguous[:3]]
    conv, example = convention(kind)
    shown = "“" + "”还是“".join(names) + "”"
    return SubjectVerdict(
        unit=None,
        title=None,
        suggestions=tuple(names),
        problems=(
            Problem(
                code="ambiguous-unit",
                text=f"标题中的单位“{found.typed}”无法确定是{shown}",
                fix=f"请在标题中写明本单位在活动单位名单中的全称。标题格式为“{conv}”，例如“{example}”。",
            ),
        ),
    )


# what a sender plausibly typed as a unit: a name ending like an organisation's
_UNIT_LIKE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,40}(?:工会委员会|总工会|工会|工委|委员会|联合会|集团|公司)")
_LEADING_WORDS = re.compile(r"^(?:关于|报送|上报|提交|呈报|转发|转)+")
_NOT_A_NAME = re.compile(r"关于|的|报告|汇报|材料|照片|图片|活动|通知|附件")
_NOTES = re.compile(r"\([^()]*\)|\d{1,2}\s*月(?:份)?|第?[一二三四五六七八九十\d]+\s*(?:批|期)")
_TITLE = re.compile(r"《([^《》]*)》")
# what senders write around a work's title that is not the title: the collection's name, 作品, 参赛…
_CATEGORY = re.compile(
    r"(?:网络正能量)?(?:微视频|诵读|朗诵|摄影|微电影|歌曲|原创歌曲|微课|普惠服务|服务平台|平台)?"
    r"(?:作品|征集|参赛作品|报送作品|参赛|报送)+"
    r"|^(?:微视频|诵读|朗诵|摄影|微电影|歌曲|微课)(?=[-—:：_ ])"
)


def _typed_unit(text: str) -> str | None:
    """What the sender wrote where the unit belongs, when it plausibly names one; else None."""
    rest = _NOTES.sub(" ", text.replace(REPORT_SUFFIX, " "))
    for segment in re.findall(r"[\u4e00-\u9fffA-Za-z0-9]+", rest):
        found = _UNIT_LIKE.search(_LEADING_WORDS.sub("", segment))
        if found is not None and len(found.group(0)) >= 3:
            return _LEADING_WORDS.sub("", found.group(0))
    words: list[str] = re.findall(r"[\u4e00-\u9fffA-Za-z0-9]+", rest)
    if len(words) == 1 and 2 <= len(words[0]) <= 12 and not _NOT_A_NAME.search(words[0]):
        return words[0]
    return None


def _unknown_unit(text: str, roster: Roster, kind: MailboxKind, *, found: Recognition | None = None) -> SubjectVerdict:
    typed = found.typed if found is not None else _typed_unit(text)
    alike = [u.name for u in found.closest[:3]] if found is not None else []
    closest = alike or roster.closest(typed or text)
    conv, example = convention(kind)
    what = f"标题中的单位“{typed}”不在活动单位名单中" if typed else "标题中没有写明活动单位名单中的单位"
    return SubjectVerdict(
        unit=None,
        title=None,
        suggestions=tuple(closest),
        problems=(
            Problem(
                code="unknown-unit",
                text=what,
                fix=f"请使用名单中的单位全称，最接近的是：{'、'.join(closest)}。标题格式为“{conv}”，例如“{example}”。",
            ),
        ),
    )


def _several_units(units: list[Unit], kind: MailboxKind) -> SubjectVerdict:
    names = "、".join(u.name for u in units)
    conv, _ = convention(kind)
    if kind is MailboxKind.OFFLINE_ACTIVITY:
        text = f"标题中有 {len(units)} 个单位（{names}），一封邮件只能报送一个单位的线下活动汇总"
        fix = f"请每个单位分别发送一封邮件，标题为“{conv}”，例如“{units[0].name}{REPORT_SUFFIX}”。"
    else:
        text = f"标题中有 {len(units)} 个单位（{names}），一封邮件只能报送一个单位的作品"
        fix = f"请每个单位分别发送，标题为“{conv}”，例如“{units[0].name}《作品名称》”。"
    return SubjectVerdict(
        unit=None,
        title=None,
        suggestions=tuple(u.name for u in units),
        problems=(Problem(code="several-units", text=text, fix=fix),),
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


def _report(text: str, roster: Roster) -> SubjectVerdict:
    """`单位+线下活动汇总`, as people write it: the unit anywhere (after 关于, 青海省, in brackets, after
    the words), with month or batch notes and quotes around; the longest roster name wins. 线下活动
    开展情况汇总, 开展情况汇总, 情况汇总 are read as 线下活动汇总; a unit on no label is recognised by likeness."""
    kind = MailboxKind.OFFLINE_ACTIVITY
    text = as_report(text)
    if REPORT_SUFFIX not in name_key(text):
        return _wrong_format(text, roster, kind)
    units = roster.find_all(text)
    if len(units) > 1:
        return _several_units(units, kind)
    if units:
        return _known(units[0], text, roster)
    typed = report_unit_part(text)
    if typed is None:
        return _unknown_unit(text, roster, kind)
    found = roster.recognise(typed)
    return _by_likeness(found, kind) or _unknown_unit(text, roster, kind, found=found)


def _by_likeness(found: Recognition, kind: MailboxKind, *, title: str | None = None) -> SubjectVerdict | None:
    """The verdict on a unit typed in no roster label: taken, ambiguous, or None when no unit is likely."""
    if found.unit is not None:
        return _recognised(found, title=title)
    if found.ambiguous:
        return _ambiguous(found, kind)
    return None


def _title(rest: str) -> str:
    """The work's title: what stands in 《》, else what is left without the category words."""
    titled = _TITLE.search(rest)
    if titled is not None and titled.group(1).strip():
        return titled.group(1).strip()
    title = _CATEGORY.sub(" ", rest.replace("《", " ").replace("》", " "))
    return title.strip(_JOINERS).strip()


def _as_sent(title: str, subject: str) -> str:
    """The title in the sender's own characters (full-width punctuation kept): found in the subject
    as received, where it reads the same once normalised; else as read."""
    for candidate in map(str, _TITLE.findall(subject)):
        if simplified(candidate).strip() == title:
            return candidate.strip()
    return title


def _unit_elsewhere(text: str, roster: Roster) -> tuple[list[Unit], str] | None:
    """A unit written after 青海省 or 关于…, or after the title: (units named outside 《》, the title)."""
    units = roster.find_all(_TITLE.sub(" ", text))
    if not units:
        return None
    titled = _TITLE.search(text)
    if titled is not None:
        return units, titled.group(1).strip()
    segment = unit_segment(text)
    if segment is not None and roster.find_all(segment[0]) == units[:1]:
        return units, _LEADING_WORDS.sub("", segment[1].strip(_JOINERS)).strip(_JOINERS)  # the whole name off
    rest = text
    for label in sorted(labels(units[0]), key=len, reverse=True):
        if label in rest:
            rest = rest.replace(label, " ", 1)
            break
    return units, _LEADING_WORDS.sub("", re.sub(r"^(?:青海省|青海)", "", rest.strip(_JOINERS).strip())).strip(_JOINERS)


def check_subject(subject: str, *, kind: MailboxKind, roster: Roster) -> SubjectVerdict:
    """Read the unit (and, for collections, the title) from a subject, tolerantly."""
    subject = without_controls(subject)  # a terminal escape or a bidi mark is no part of a unit or a title
    text = _clean(subject)
    if kind is MailboxKind.OFFLINE_ACTIVITY:
        return _report(text, roster)
    hit = roster.prefix(_CATEGORY.sub("", text, count=1).lstrip(_JOINERS) if _CATEGORY.match(text) else text)
    if hit is not None:
        unit, rest = hit
        title = _title(rest)
    else:
        elsewhere = _unit_elsewhere(text, roster)
        if elsewhere is None:
            return _work_by_likeness(text, subject, roster, kind)
        units, title = elsewhere
        if len(units) > 1:
            return _several_units(units, kind)
        unit = units[0]
    if not title:
        return _missing_title(unit.name, kind)
    return _known(unit, text, roster, title=_as_sent(title, subject))


def _missing_title(unit: str, kind: MailboxKind) -> SubjectVerdict:
    conv, example = convention(kind)
    return SubjectVerdict(
        unit=unit,
        title=None,
        suggestions=(),
        problems=(
            Problem(code="missing-title", text="邮件标题中没有作品名称", fix=f"标题格式为“{conv}”，例如“{example}”。"),
        ),
    )


def _work_by_likeness(text: str, subject: str, roster: Roster, kind: MailboxKind) -> SubjectVerdict:
    """A work's subject whose unit is on no roster label: the unit typed outside the title, read by
    likeness; the title in 《》, else what is left beside the unit."""
    outside = _CATEGORY.sub(" ", _TITLE.sub(" ", text))
    segment = unit_segment(outside)
    if segment is None:
        if _typed_unit(outside) is not None:  # a unit, but not one on the roster
            return _unknown_unit(outside, roster, kind)
        return _wrong_format(text, roster, kind)
    typed, rest = segment
    titled = _TITLE.search(text)
    title = titled.group(1).strip() if titled is not None and titled.group(1).strip() else _title(rest)
    found = roster.recognise(typed)
    verdict = _by_likeness(found, kind, title=_as_sent(title, subject) if title else None)
    if verdict is None:
        return _unknown_unit(outside, roster, kind, found=found)
    if verdict.unit is not None and not title:
        return _missing_title(verdict.unit, kind)
    return verdict


def subject_convention(case: Case) -> Finding:
    """The rule: the subject follows its mailbox's convention and names a roster unit."""
    return Finding(problems=case.subject.problems, notes=case.subject.notes, remarks=case.subject.remarks)
