"""Decode mail header text, MIME parameters and body text as Chinese mail clients really send them.

The one import for callers; the work is done in `charsets`, `words` (headers) and `params`.

Everything here works from the raw header bytes (or the surrogate-escaped str that ``email`` keeps
for them) because the stdlib's ``policy.default`` and mail-parser silently garble GB-encoded text:

* every GB-family charset label (gb2312, gbk, cp936, ...) is decoded as ``gb18030``;
* adjacent RFC 2047 encoded-words of one charset are joined at the byte level before decoding;
* raw 8-bit text is tried as UTF-8, then GB18030, then latin-1 (recorded as a defect);
* RFC 2231 parameters (continuations, ``GBK''`` charsets) and RFC 2047 words inside parameter
  values are both understood.

No function here raises on malformed input, and all of them run in linear time. CR and LF never
survive into decoded header or parameter text (they become a space); every other character is
kept, so sanitising for display stays the caller's job.
"""

from __future__ import annotations

import re
import unicodedata

from ingest.mail.charsets import GB_FAMILY, codec_for, decode_text
from ingest.mail.params import attachment_filename, decode_param
from ingest.mail.words import Decoded, decode_header

__all__ = [
    "GB_FAMILY",
    "Decoded",
    "attachment_filename",
    "codec_for",
    "decode_header",
    "decode_param",
    "decode_text",
    "normalise_subject",
    "without_reply_prefixes",
]

_REPLY_PREFIX = re.compile(
    r"(?:(?:re|fwd|fw|回复|回覆|答复|转发|转) ?(?:\[[0-9]+\]|\([0-9]+\))? ?: ?)++",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")


def normalise_subject(text: str) -> str:
    """NFKC, collapse whitespace and strip leading reply/forward prefixes (``Re:``, ``回复：``...).

    Leading bracket tags such as ``[外部邮件]`` or ``【单位】`` are kept for the caller.
    """
    text = unicodedata.normalize("NFKC", text).replace("\u3000", " ")
    text = _WHITESPACE.sub(" ", text).strip()
    m = _REPLY_PREFIX.match(text)
    if m is not None:
        text = text[m.end() :].lstrip()
    return text


def without_reply_prefixes(text: str) -> str:
    """text without its leading reply/forward prefixes, in the sender's own characters: the prefixes
    are recognised after NFKC (`回复：`, `Ｒｅ:`), but what is kept is not normalised."""
    shown: list[str] = []  # NFKC of each original character, so that positions map back
    for ch in text:
        shown.append(unicodedata.normalize("NFKC", ch).replace("\u3000", " "))
    folded = "".join(shown)
    lead = len(folded) - len(folded.lstrip())
    m = _REPLY_PREFIX.match(folded, lead)
    end = m.end() if m is not None else lead
    consumed = 0
    for index, piece in enumerate(shown):
        if consumed >= end:
            return _WHITESPACE.sub(" ", text[index:]).strip()
        consumed += len(piece)
    return ""
