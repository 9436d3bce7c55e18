"""Our own replies as they come back inside a sender's mail: the suffixes of their subjects, their closing line.

Our acknowledgement is titled `回复：<subject>（已收到）` and our rejection `回复：<subject>（未通过，请修改
后重新发送）` (notify/templates). A unit that answers one keeps that subject behind its own `回复：`,
so the suffixes are taken off before the subject is read and before our next reply is titled, and
they (or our closing line quoted in the body) tell that the mail answers us.
"""

from __future__ import annotations

import re
import unicodedata

# one or more of our suffixes at the end, as typed or after NFKC (full- or half-width brackets and comma)
_SUFFIXES = re.compile(r"(?:\s*[（(]\s*(?:已收到|未通过(?:\s*[，,]\s*请修改后重新发送)?)\s*[)）])+\s*$")
#: the closing line every reply of ours carries: 此邮件由“…”活动收件系统自动发送，请勿直接回复。
CLOSING_MARK = "活动收件系统自动发送"


def without_our_suffixes(subject: str) -> str:
    """subject without the `（已收到）` / `（未通过…）` our replies put at its end (all of them, stacked)."""
    return _SUFFIXES.sub("", subject).rstrip()


def has_our_suffix(subject: str) -> bool:
    return _SUFFIXES.search(unicodedata.normalize("NFKC", subject)) is not None


def quotes_our_reply(text: str, html: str) -> bool:
    """Whether the body quotes one of our replies (its closing line, in the text or the HTML)."""
    return CLOSING_MARK in text or CLOSING_MARK in html
