"""Where a subject names its unit: the part a sender typed as the unit, whole, without the words around it.

A report's subject is `单位+线下活动汇总`, also written `…线下活动开展情况汇总`, `…开展情况汇总`,
`…活动情况汇总`, `…情况汇总`, `…线下活动开展情况` (the notice's own heading) or `…线下活动总结`; the unit stands before
it (or after it, `线下活动汇总（西宁市总工会）`), among dates, batch numbers, the campaign's name in
quotation marks and words such as 关于 or 报送. A work's subject has the unit outside the `《》`.
What is found is quoted back to the sender whole (never cut inside a name), only capped in length.
"""

from __future__ import annotations

import re

from campaign.notice import REPORT_SUFFIX

MAX_QUOTED = 50  # characters of a typed unit quoted back; longer is cut at the end with "…"

#: the ways a report's subject ends, read as 线下活动汇总
REPORT_VARIANTS = re.compile(
    r"(?:线下)?(?:活动)?(?:开展)?(?:活动)?情况(?:的)?汇总(?:表)?|线下活动汇总|线下活动(?:开展)?情况(?:报告)?"
    r"|线下活动(?:开展)?(?:情况)?(?:总结|小结)"
)
_QUOTED = re.compile(r"“[^”]{0,40}”|\"[^\"]{0,40}\"|《[^》]{0,60}》|‘[^’]{0,40}’")
_NOT_NAME = re.compile(
    r"20\d\d\s*年度?|\d{1,2}\s*(?:[-—~至到]\s*\d{1,2}\s*)?月份?|第?[一二三四五六七八九十\d]+\s*(?:批|期|次)"
    r"|^(?:关于|报送|上报|提交|呈报|转发|转|请查收)+|(?:的|报告|材料|请查收|的报告)+$"
)
_WORDS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9·]+")
_UNIT_END = re.compile(r"(?:工会委员会|总工会|工会|工委|委员会|联合会|集团|公司)$")


def as_report(text: str) -> str:
    """text with every way of writing 线下活动汇总 written as 线下活动汇总."""
    return REPORT_VARIANTS.sub(REPORT_SUFFIX, text)


def capped(name: str) -> str:
    return name if len(name) <= MAX_QUOTED else name[: MAX_QUOTED - 1] + "…"


def name_part(piece: str) -> str:
    """What is left of piece as a name: no quoted words, dates, batches or leading and trailing words."""
    text = _QUOTED.sub(" ", piece)
    words = [w for w in (_NOT_NAME.sub("", w) for w in _WORDS.findall(text)) if w]
    return "".join(words)


def report_unit_part(text: str) -> str | None:
    """The unit as typed in a report's subject (text has 线下活动汇总 in it), or None."""
    before, _, after = as_report(text).partition(REPORT_SUFFIX)
    for piece in (before, after):
        name = name_part(piece)
        if len(name) >= 2:
            return capped(name)
    return None


def unit_segment(outside: str) -> tuple[str, str] | None:
    """(the unit as typed, the rest as typed) in what a work's subject has outside its title: the whole
    segment that ends like an organisation (…工会, …公司), from its start; None when none does."""
    segments = [s for s in re.split(r"[\s+＋\-—_、,，:：|/]+", outside) if s]
    for i, segment in enumerate(segments):
        name = name_part(segment)
        if len(name) >= 3 and _UNIT_END.search(name):
            return capped(name), " ".join(s for j, s in enumerate(segments) if j != i)
    return None
