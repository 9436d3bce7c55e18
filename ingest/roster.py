"""The roster of units: exact matching of what a sender typed, recognition as a host would, the closest names."""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from campaign.notice import NAME_NOISE
from campaign.settings import Unit
from ingest.unitname import Recognition, labels, recognise
from ingest.unitname import fold as key


@dataclass(frozen=True, kw_only=True)
class Roster:
    units: tuple[Unit, ...]

    @cached_property
    def _labels(self) -> tuple[tuple[str, Unit], ...]:
        """Every name, alias, former and registered name by its key, in roster order (computed once)."""
        return tuple((key(label), unit) for unit in self.units for label in labels(unit))

    @cached_property
    def _longest_first(self) -> tuple[tuple[str, Unit], ...]:
        return tuple(lu for lu in sorted(self._labels, key=lambda lu: -len(lu[0])) if lu[0])

    @cached_property
    def _exact(self) -> dict[str, Unit]:
        exact: dict[str, Unit] = {}
        for label, unit in self._labels:
            exact.setdefault(label, unit)  # the first in roster order wins, as a scan would find it
        return exact

    @cached_property
    def _positions(self) -> dict[str, int]:
        positions: dict[str, int] = {}
        for i, unit in enumerate(self.units):
            positions.setdefault(unit.name, i)
        return positions

    def match(self, text: str) -> Unit | None:
        """The unit whose name or alias is exactly text (compared by key), else None."""
        return self._exact.get(key(text))

    def prefix(self, text: str) -> tuple[Unit, str] | None:
        """The unit whose name or alias starts text (longest wins) and the rest of text."""
        best: tuple[int, Unit] | None = None
        norm = unicodedata.normalize("NFKC", text)
        squeezed = NAME_NOISE.sub("", norm).lower()
        for label, unit in self._labels:
            if label and squeezed.startswith(label) and (best is None or len(label) > best[0]):
                best = (len(label), unit)
        if best is None:
            return None
        # find where the label ends in the original (un-squeezed) text
        consumed = 0
        for i, ch in enumerate(norm):
            if not NAME_NOISE.fullmatch(ch):
                consumed += 1
            if consumed == best[0]:
                return best[1], norm[i + 1 :]
        return best[1], ""

    def find_inside(self, text: str) -> Unit | None:
        """A unit named anywhere in text (longest label wins), for suggestions."""
        k = key(text)
        hits = [(len(label), unit) for label, unit in self._labels if label and label in k]
        return max(hits, key=lambda h: h[0])[1] if hits else None

    def find_all(self, text: str) -> list[Unit]:
        """Every unit named in text, in order of appearance: the longest names win and matches do not
        overlap, so `青海省建设工会` is one unit (not also `省建设工会`), and an alias counts as its unit."""
        k = key(text)
        spans: list[tuple[int, int, Unit]] = []
        for label, unit in self._longest_first:
            start = k.find(label)
            while start >= 0:
                end = start + len(label)
                if all(end <= a or start >= b for a, b, _ in spans):
                    spans.append((start, end, unit))
                start = k.find(label, start + 1)
        found: list[Unit] = []
        for _, _, unit in sorted(spans, key=lambda s: s[0]):
            if unit not in found:
                found.append(unit)
        return found

    def scored(self, text: str) -> list[tuple[str, float]]:
        """Every roster name with its likeness to text (0 to 1), best first, Annex 1 order on ties."""
        k = key(text)
        scores: dict[str, float] = {}
        for label, unit in self._labels:
            ratio = difflib.SequenceMatcher(None, k, label).ratio()
            if label and k and (label in k or k in label):
                ratio = max(ratio, 0.8)
            scores[unit.name] = max(scores.get(unit.name, 0.0), ratio)
        return sorted(scores.items(), key=lambda kv: (-kv[1], self.order(kv[0])))

    def recognise(self, typed: str) -> Recognition:
        """The unit a name that is none of the roster's labels means, as a host would read it."""
        return recognise(typed, self.units)

    def other_name(self, unit: Unit, text: str) -> str | None:
        """The former or registered name of unit that text uses, when it uses neither its name nor an alias."""
        k = key(text)
        if any(key(label) in k for label in (unit.name, *unit.aliases)):
            return None
        others = (*unit.former, *((unit.registered,) if unit.registered else ()))
        return next((label for label in sorted(others, key=len, reverse=True) if key(label) in k), None)

    def closest(self, text: str, *, limit: int = 3) -> list[str]:
        """Roster names closest to text, best first; never empty when the roster is not."""
        return [name for name, _ in self.scored(text)[:limit]]

    def order(self, name: str) -> int:
        return self._positions.get(name, len(self.units))
