"""A short, cleaned quotation of sender text (a subject) for a reply to a sender we do not know."""

from __future__ import annotations

import re

from notify.safe import clean_text

SHORT_QUOTE_CHARS = 30  # the ellipsis included
# terminal escapes, whole: CSI (ESC [ or the C1 byte) with its parameters, OSC up to its terminator,
# and the two-character escapes; clean_text alone would leave "[31m" behind
_ANSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")


def short_quote(text: str, *, max_chars: int = SHORT_QUOTE_CHARS) -> str:
    """One line with no control, bidi or terminal escape, at most max_chars long (ending in … when cut)."""
    return clean_text(_ANSI.sub("", text), max_chars=max_chars)
