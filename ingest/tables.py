"""Activity tables in a report's text: a header naming 时间 with 地点 or 内容, then one row per activity.

Units often list their activities as a table (in the body, as Outlook or WPS pastes it, or in an
attached Word or Excel file): a header row `时间 地点 参加人数 活动内容`, then a row per activity that
starts with its date. As text a table is either one row a line (cells split by tabs or spaces) or
one cell a line (how Word and Excel files are read); either way every row starts a line with its
date (`6月12日`, `2020年6月12日`, `6.12`, `6/12`). The rows are counted after the first header line,
each dated row once; a table is only read when the header is there, so dates in running text never count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# the header: 时间 (or 日期) and, within the next few cells, 地点 or 内容 (活动内容, 活动名称 …)
_HEADER = re.compile(r"(?:时间|日期)[^。；;]{0,40}?(?:地点|内容|名称|主题)")
_ROW_DATE = re.compile(
    r"^[ \t\u3000]*(?:\d{1,2}[.、]?[ \t]*)?(?P<date>(?:20\d\d\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}[./]\d{1,2})"
    r"(?=[ \t\u3000]|$|[（(—~\-上下全至到])",
    re.M,
)
MIN_ROWS = 2


@dataclass(frozen=True, kw_only=True)
class Table:
    """The rows of an activity table: their dates as written, and where the table starts."""

    dates: tuple[str, ...]
    start: int


def activity_table(text: str) -> Table | None:
    """The activity table in text (at least two dated rows after a header), or None."""
    header = _HEADER.search(text)
    if header is None:
        return None
    dates = [re.sub(r"\s+", "", m.group("date")) for m in _ROW_DATE.finditer(text, header.end())]
    if len(dates) < MIN_ROWS:
        return None
    return Table(dates=tuple(dates), start=header.start())
