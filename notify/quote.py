"""A short, cleaned quotation of sender text (a subject) for a reply to a sender we do not know."""

from __future__ import annotations

from notify.safe import clean_text

SHORT_QUOTE_CHARS = 30  # the ellipsis included


def short_quote(text: str, *, max_chars: int = SHORT_QUOTE_CHARS) -> str:
    """One line with no control, bidi or terminal escape (clean_text removes escapes whole), at most
    max_chars long (ending in … when cut)."""
    return clean_text(text, max_chars=max_chars)
