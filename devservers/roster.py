"""The roster of units that the tests, the demo's checks and the benchmark configure, as TOML tables."""

from __future__ import annotations

from typing import Final

UNITS: Final = ("西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会", "海东市总工会")

ROSTER_TOML: Final = """
[[units]]
name = "西宁市总工会"
aliases = ["西宁总工会"]
activity_quota = 10

[[units]]
name = "海南州总工会"
activity_quota = 5

[[units]]
name = "黄南州总工会"
activity_quota = 5

[[units]]
name = "青海省建设工会"
activity_quota = 5

[[units]]
name = "海东市总工会"
"""
