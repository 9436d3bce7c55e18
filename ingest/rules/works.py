"""The works in one mail: files marked as parts (上/下, 1/2, part 1…) are one work, judged as a whole.

A work's length is the sum of its parts, compared as players show it; where a collection wants one
file, parts are one problem ("join them"), never one "too short" per part. Sound is judged per file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from campaign.notice import MailboxKind
from campaign.settings import KindRules
from ingest.rules import Problem
from ingest.rules.durations import duration_text, range_text, too_long, too_short
from ingest.rules.views import FileView

#: Collections whose work is one file: parts are to be joined before sending.
ONE_FILE = frozenset({MailboxKind.MICRO_VIDEO, MailboxKind.RECITATION, MailboxKind.MICRO_LESSON, MailboxKind.SONG})

_OPEN, _CLOSE = r"[(\[【〔]", r"[)\]】〕]"
_SEP = r"[\s_\-—·.]*"
_CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_UPPER_LOWER = {"上": 1, "中": 2, "下": 3}
_MARKERS = (
    # 上 / 下集 / （中）/ 上篇 / 下部分
    re.compile(rf"{_SEP}{_OPEN}?\s*([上中下])\s*(?:集|篇|部|半部|半部分|部分|段|半场)?\s*{_CLOSE}?$"),
    # 第一部分 / 第2集 / 第三段
    re.compile(
        rf"{_SEP}{_OPEN}?\s*第\s*([一二三四五六七八九十]|\d{{1,2}})\s*(?:部分|集|段|节|部|篇|章|讲)\s*{_CLOSE}?$"
    ),
    # part 1 / Part2 / pt.1 / P1
    re.compile(rf"{_SEP}{_OPEN}?\s*(?:part|pt\.?|p)\s*(\d{{1,2}})\s*{_CLOSE}?$", re.I),
    # 1/2, (1/2), 1of2
    re.compile(rf"{_SEP}{_OPEN}?\s*(\d{{1,2}})\s*(?:/|of)\s*\d{{1,2}}\s*{_CLOSE}?$", re.I),
    # (1) (2)
    re.compile(rf"{_SEP}{_OPEN}\s*(\d{{1,2}})\s*{_CLOSE}$"),
)


@dataclass(frozen=True, kw_only=True)
class Work:
    """One work: a single file, or the parts that make it, in order."""

    files: tuple[FileView, ...]

    @property
    def in_parts(self) -> bool:
        return len(self.files) > 1

    @property
    def seconds(self) -> float | None:
        """The total length, or None when any part's length could not be read."""
        lengths = [f.media.duration_seconds if f.media is not None else None for f in self.files]
        return None if any(x is None for x in lengths) else sum(x for x in lengths if x is not None)

    @property
    def names(self) -> str:
        return "".join(f"“{f.name}”" for f in self.files)


def part_marker(name: str) -> tuple[str, int] | None:
    """(the name without the marker, the part's number) when the file name marks it as a part."""
    stem = unicodedata.normalize("NFKC", name.rsplit(".", 1)[0] if "." in name else name).strip()
    for pattern in _MARKERS:
        found = pattern.search(stem)
        if found is None:
            continue
        token = found.group(1)
        number = _UPPER_LOWER.get(token) or _CN_NUMBERS.get(token) or int(token)
        base = stem[: found.start()].strip(" _-—·.").casefold()
        return base, number
    return None


def group_works(files: Sequence[FileView]) -> list[Work]:
    """Files whose names mark them as different parts of the same name become one work."""
    marked: dict[str, list[tuple[int, FileView]]] = {}
    for f in files:
        found = part_marker(f.name)
        if found is not None:
            marked.setdefault(found[0], []).append((found[1], f))
    grouped: dict[int, Work] = {}  # by the id of the work's first file
    in_group: set[int] = set()
    for parts in marked.values():
        numbers = {number for number, _ in parts}
        if len(parts) < 2 or len(numbers) != len(parts):  # one part alone, or two files both "上"
            continue
        ordered = tuple(f for _, f in sorted(parts, key=lambda p: p[0]))
        grouped[id(ordered[0])] = Work(files=ordered)
        in_group.update(id(f) for f in ordered)
    works: list[Work] = []
    for f in files:  # in the order the mail carries them
        if id(f) in grouped:
            works.append(grouped[id(f)])
        elif id(f) not in in_group:
            works.append(Work(files=(f,)))
    return works


def work_problems(
    works: Sequence[Work], kind: MailboxKind, rules: KindRules, noun: str, notes: list[str], remarks: list[str]
) -> list[Problem]:
    """Parts to join, and each work's length against the limits (the total for a work in parts)."""
    problems: list[Problem] = []
    one_file = kind in ONE_FILE
    for work in works:
        if work.in_parts and one_file:
            problems.append(
                Problem(
                    code="parts",
                    text=f"作品分成了 {len(work.files)} 个文件（{work.names}），要求为一个完整的{noun}文件",
                    fix=f"请把分段的{noun}合并为一个文件后重新发送。",
                )
            )
        elif work.in_parts:
            total = work.seconds
            length = f"，合计 {duration_text(total)}" if total is not None else ""
            remarks.append(f"作品分为 {len(work.files)} 段（{work.names}）{length}，已按一部作品登记。")
    problems.extend(_duration_problems(works, rules, noun, notes))
    return problems


def _duration_problems(works: Sequence[Work], rules: KindRules, noun: str, notes: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not (rules.min_seconds or rules.max_seconds):
        return problems
    many = len(works) > 1
    wanted = range_text(rules.min_seconds, rules.max_seconds)
    for work in works:
        seconds = work.seconds
        if seconds is None:
            notes.append(f"未能读出{noun}{work.names}的时长，工作人员将人工核对（{wanted}）。")
            continue
        short, long = too_short(seconds, rules), too_long(seconds, rules)
        if not (short or long):
            continue
        if work.in_parts:
            text = f"分段{noun}{work.names}合计时长 {duration_text(seconds)}，{wanted}"
            fix = f"请把{noun}剪辑到规定时长（{wanted.removeprefix('要求 ')}），合并为一个文件后重新发送。"
        else:
            who = f"{noun}“{work.files[0].name}”" if many else noun
            text = f"{who}时长 {duration_text(seconds)}，{wanted}"
            fix = f"请把{noun}剪辑到规定时长（{wanted.removeprefix('要求 ')}）后重新发送。"
        problems.append(Problem(code="too-short" if short else "too-long", text=text, fix=fix))
    return problems


def sound_problems(files: Sequence[FileView], rules: KindRules, noun: str, remarks: list[str]) -> list[Problem]:
    """A video work without a sound track is rejected; a track silent throughout is noted for the hosts."""
    problems: list[Problem] = []
    many = len(files) > 1
    for f in files:
        if f.media is None:
            continue
        if not f.media.has_audio:
            if rules.require_audio:
                problems.append(
                    Problem(
                        code="no-audio",
                        text=f"{noun}“{f.name}”没有声音（没有音频轨道）" if many else f"{noun}没有声音（没有音频轨道）",
                        fix="请在剪辑软件中保留同期声或配上解说、音乐，导出时勾选音频，"
                        "确认播放时能听到声音后重新发送。",
                    )
                )
            continue
        loudest = f.media.max_volume_db
        if rules.silence_db is not None and loudest is not None and loudest <= rules.silence_db:
            track = "有音频轨道，但" if f.media.has_video else ""
            remarks.append(f"{noun}“{f.name}”{track}全程几乎无声（最大音量 {loudest:.0f} dB），请核对声音。")
    return problems
