"""Durations as players show them: whole seconds, cut (not rounded), written 5分钟 or 5分20秒.

A player shows 300.52 s as 5:00, so it passes a 5-minute limit; it shows 179.52 s as 2:59, so it
misses a 3-minute minimum. Every limit is compared with that display, and every reason quotes it.
"""

from __future__ import annotations

from campaign.notice import duration_text, shown_seconds
from campaign.settings import KindRules

__all__ = ["duration_text", "range_text", "shown_seconds", "too_long", "too_short"]


def range_text(min_seconds: int | None, max_seconds: int | None) -> str:
    """要求 3—5分钟 / 要求 5分钟以内 / 要求至少 1分30秒."""
    if min_seconds and max_seconds:
        low, high = duration_text(min_seconds), duration_text(max_seconds)
        if min_seconds % 60 == 0 and max_seconds % 60 == 0:
            return f"要求 {min_seconds // 60}—{high}"
        return f"要求 {low}—{high}"
    if max_seconds:
        return f"要求 {duration_text(max_seconds)}以内"
    return f"要求至少 {duration_text(min_seconds or 0)}"


def too_short(seconds: float, rules: KindRules) -> bool:
    """Shorter than the minimum as shown, beyond the tolerance."""
    slack = rules.duration_tolerance_seconds
    return rules.min_seconds is not None and shown_seconds(seconds) + slack < rules.min_seconds


def too_long(seconds: float, rules: KindRules) -> bool:
    """Longer than the maximum as shown, beyond the tolerance."""
    slack = rules.duration_tolerance_seconds
    return rules.max_seconds is not None and shown_seconds(seconds) - slack > rules.max_seconds
