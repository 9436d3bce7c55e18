"""Enumerations in a report's text: 一是…二是…, 一、二、, （一）（二）, 1. 2., 第一场…第二场, 活动一：…活动二：.

An enumeration is a run of markers of one style numbered 1, 2, 3… in order (at least two). Each
item runs from its marker to the next one; the last ends with its sentence. Markers count only at
the start of a clause (after a line break, a space or a punctuation mark), so 统一是, 3.5 or a date
such as 6.10 are no markers. A 第一场…第二场 or 活动一：…活动二： list names one activity per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.numerals import CHINESE_DIGITS, number_of

_CN = f"[{CHINESE_DIGITS}]{{1,3}}"
_START = r"(?:^|(?<=[\s。;；:：,，、!！?？(（\"“”]))"
STYLES: dict[str, re.Pattern[str]] = {
    "一是": re.compile(rf"{_START}(?:其)?(?P<n>{_CN})是"),
    "一、": re.compile(rf"{_START}(?P<n>{_CN})[、.．]"),
    "（一）": re.compile(rf"[(（](?P<n>{_CN})[)）]"),
    # at a line's start “1.6月15日…” is an item; inside a line a figure after the dot is a decimal or a date
    "1.": re.compile(rf"(?:^\s*(?P<n>\d{{1,2}})[、.．]|{_START}(?<!\d)(?P<m>\d{{1,2}})(?:[、.．](?!\d)|[)）]))", re.M),
    "第一场": re.compile(rf"第(?P<n>{_CN}|\d{{1,2}})(?:场|次)(?:活动)?"),
    "活动一": re.compile(rf"{_START}活动(?P<n>{_CN}|\d{{1,2}})\s*[:：]"),
}
ONE_ACTIVITY_EACH = frozenset({"第一场", "活动一"})
_SENTENCE_END = re.compile(r"[。\n]")


@dataclass(frozen=True, kw_only=True)
class Item:
    """One item of an enumeration: its marker and where its text starts and ends."""

    marker: str
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Enumeration:
    """Items numbered 1, 2, 3… of one style."""

    style: str
    items: tuple[Item, ...]

    @property
    def start(self) -> int:
        return self.items[0].start

    @property
    def end(self) -> int:
        return self.items[-1].end


def _run(text: str, style: str, pattern: re.Pattern[str]) -> Enumeration | None:
    """The longest run 1, 2, 3… of this style's markers, in order of appearance."""
    best: list[re.Match[str]] = []
    current: list[re.Match[str]] = []
    for match in pattern.finditer(text):
        n = number_of(match.group("n") or match.group("m"))
        if n == 1:
            current = [match]
        elif current and n == len(current) + 1:
            current.append(match)
        else:
            continue
        if len(current) > len(best):
            best = list(current)
    if len(best) < 2:
        return None
    items: list[Item] = []
    for i, match in enumerate(best):
        if i + 1 < len(best):
            end = best[i + 1].start()
        else:
            stop = _SENTENCE_END.search(text, match.end())
            end = stop.start() if stop else len(text)
        items.append(Item(marker=match.group(0), start=match.start(), end=end))
    return Enumeration(style=style, items=tuple(items))


def enumerations(text: str) -> list[Enumeration]:
    """Every style's enumeration found in text (at most one a style), in order of where they start."""
    found = [e for style, pattern in STYLES.items() if (e := _run(text, style, pattern)) is not None]
    return sorted(found, key=lambda e: e.start)
