"""Recognise a unit's name as a host reads it: the distinctive part of a name weighs, the generic part hardly.

A name is folded (traditional characters to simplified with OpenCC, NFKC, case, no spaces or
punctuation) and cut into parts: the generic words every union's name is made of (中国, 青海省,
有限公司, 分公司, 集团, 工会, 委员会, 市, 州…) are one light part each, every other character is a
distinctive part of full weight. A roster label is as likely as the share of its distinctive weight
found in what the sender typed (recall), tempered by how much else the sender typed (precision):
the typed `中国石油天然气股份有限公司青海油田分公司工会` holds all of `青海油田工会`, and `青藏铁路工会`
all but the generic parts of `中国铁路青藏集团有限公司工会`, in any order.

A best label is taken only when it is likely enough and clearly ahead of the next unit's; two
units about as likely are both offered back to the sender.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import opencc

from campaign.notice import name_key
from campaign.settings import Unit

# the words union names are built from, longest first; each is one light part
_GENERIC = sorted(
    (
        "中华全国",
        "中国",
        "全国",
        "青海省",
        "青海",
        "省",
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "股份",
        "有限",
        "集团",
        "分公司",
        "公司",
        "工会委员会",
        "委员会",
        "总工会",
        "工会",
        "工委",
        "联合会",
        "分会",
        "蒙古族藏族自治州",
        "藏族自治州",
        "自治州",
        "自治县",
        "市",
        "州",
        "县",
        "区",
        "国网",
        "国家电网",
        "工程局",
        "局",
    ),
    key=len,
    reverse=True,
)
_PARTS = re.compile("|".join(map(re.escape, _GENERIC)) + r"|.", re.S)
_SAME = {"青海省": "青海", "省": "青海", "总工会": "工会", "工会委员会": "工会", "国家电网": "国网", "工程局": "局"}
GENERIC_WEIGHT = 0.2
ACCEPT = 0.6  # a best label below this is not taken
PLAUSIBLE = 0.5  # a runner-up at or above this, and within MARGIN of the best, makes the name ambiguous
MARGIN = 0.15
MIN_DISTINCT = 1  # at least one distinctive character in common
BETA2 = 4.0  # recall weighs four times precision (F-beta with beta 2)


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """text in simplified characters (NFKC first); every other character as it was."""
    return str(_converter().convert(unicodedata.normalize("NFKC", text)))


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """The form names are compared in: simplified, NFKC, case folded, no spaces, brackets or joiners."""
    return name_key(simplified(text))


@functools.lru_cache(maxsize=1024)
def _pieces(folded: str) -> tuple[tuple[str, float], ...]:
    """A folded name as its parts in order, each with its weight: generic words light, other characters heavy."""
    return tuple((_SAME.get(p, p), GENERIC_WEIGHT) if p in _GENERIC else (p, 1.0) for p in _PARTS.findall(folded))


def parts(folded: str) -> Counter[tuple[str, float]]:
    """A folded name as a bag of (part, weight)."""
    return Counter(_pieces(folded))


def _trailing(typed: str, label: str) -> int:
    """Distinctive characters the sender typed after the last one the label shares: a part below the
    unit (`西宁市城东区总工会` is not 西宁市总工会), where a group's name before it is only its parent.
    Each of the label's characters is shared once, in the order the sender typed them."""
    left = Counter(p for p, w in _pieces(label) if w == 1.0)
    tail = 0
    for piece, weight in _pieces(typed):
        if weight != 1.0:
            continue
        if left[piece] > 0:
            left[piece] -= 1
            tail = 0
        else:
            tail += 1
    return tail


def _weight(bag: Counter[tuple[str, float]]) -> float:
    return sum(w * n for (_, w), n in bag.items())


def likeness(typed: str, label: str) -> float:
    """How much the folded typed name reads like the folded label, 0 to 1 (for ranking)."""
    a, b = parts(typed), parts(label)
    common = a & b
    shared = _weight(common)
    distinct = sum(n for (_, w), n in common.items() if w == 1.0)
    if shared == 0 or distinct < MIN_DISTINCT:
        return 0.0
    recall, precision = shared / _weight(b), shared / _weight(a)
    return (1 + BETA2) * precision * recall / (BETA2 * precision + recall)


def _usable(typed: str, label: str, score: float) -> float:
    """The likeness a decision may rest on: halved when the sender named a part below the unit."""
    return score / 2 if _trailing(typed, label) >= 2 else score


@dataclass(frozen=True, kw_only=True)
class Recognition:
    """What a typed name was read as: a unit, two (or more) units about as likely, or nothing."""

    typed: str  # as the sender wrote it (cleaned), for quoting
    unit: Unit | None = None  # the one unit taken
    label: str = ""  # the label of that unit it was closest to
    ranked: tuple[tuple[Unit, float], ...] = ()  # every unit with a likeness to decide by, best first
    closest: tuple[Unit, ...] = ()  # every unit that reads somewhat alike, the most alike first

    @property
    def ambiguous(self) -> tuple[Unit, ...]:
        """The units too close to tell apart (two or more), when no unit was taken."""
        if self.unit is not None or not self.ranked or self.ranked[0][1] < ACCEPT:
            return ()
        best = self.ranked[0][1]
        close = tuple(u for u, s in self.ranked if s >= PLAUSIBLE and best - s < MARGIN)
        return close if len(close) > 1 else ()

    def remark(self) -> str:
        """For the hosts: how the unit was read, and the runner-up."""
        best = self.ranked[0][1] if self.ranked else 0.0
        text = f"标题中的单位“{self.typed}”按名称相似认定为“{self.unit.name if self.unit else ''}”（相似度 {best:.2f}"
        if len(self.ranked) > 1:
            second, score = self.ranked[1]
            text += f"，其次为“{second.name}” {score:.2f}"
        return text + "），请核实"


def labels(unit: Unit) -> tuple[str, ...]:
    """Every name a unit is known by: its roster name, aliases, former names and registered name."""
    return (unit.name, *unit.aliases, *unit.former, *((unit.registered,) if unit.registered else ()))


def recognise(typed: str, units: Iterable[Unit]) -> Recognition:
    """The unit typed means, when one is likely and clearly ahead of the others."""
    key = fold(typed)
    best: dict[str, tuple[Unit, float, str]] = {}
    alike: dict[str, tuple[Unit, float]] = {}
    for unit in units:
        for label in labels(unit):
            raw = likeness(key, fold(label))
            if raw <= 0:
                continue
            score = _usable(key, fold(label), raw)
            if score > best.get(unit.name, (unit, 0.0, ""))[1]:
                best[unit.name] = (unit, score, label)
            if raw > alike.get(unit.name, (unit, 0.0))[1]:
                alike[unit.name] = (unit, raw)
    ordered = sorted(best.values(), key=lambda b: -b[1])  # stable: roster order on ties
    ranked = tuple((u, s) for u, s, _ in ordered)
    closest = tuple(u for u, _ in sorted(alike.values(), key=lambda a: -a[1]))
    found = Recognition(typed=typed, ranked=ranked, closest=closest)
    if not ordered or ordered[0][1] < ACCEPT:
        return found
    runner_up = ordered[1][1] if len(ordered) > 1 else 0.0
    if runner_up >= PLAUSIBLE and ordered[0][1] - runner_up < MARGIN:
        return found
    return Recognition(typed=typed, unit=ordered[0][0], label=ordered[0][2], ranked=ranked, closest=closest)
