"""Make sender-controlled text harmless in headers, file names and terminals."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates and marks,
# zero-width characters and the BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
# Terminal escape sequences, removed whole (not only their ESC): CSI (`ESC [ … m`, also as the 8-bit
# CSI), OSC (`ESC ] … BEL` or `… ESC \\`), and any other two-character escape.
_ESCAPES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_PATHY = re.compile(r"[\\/:*?\"<>|]")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


def without_controls(value: str) -> str:
    """value with its terminal escape sequences removed and every other control or bidi character a space."""
    return _UNSAFE.sub(" ", _ESCAPES.sub("", value))


def clean_text(value: str, *, max_chars: int = 200) -> str:
    """One line of text: terminal escape sequences removed, every other control and bidi character
    becomes a space, runs collapse, capped."""
    text = without_controls(value)
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


def clean_header(value: str, *, max_chars: int = 200) -> str:
    """A header value that can carry no CR, LF or control character, whatever the sender sent."""
    text = clean_text(value, max_chars=max_chars)
    assert "\r" not in text and "\n" not in text
    return text


def display_name(filename: str | None, *, fallback: str) -> str:
    """A file name safe to show anywhere (never used as a path): no controls, no separators."""
    if not filename:
        return fallback
    text = clean_text(filename, max_chars=120)
    text = _PATHY.sub("_", text).strip(" .")
    if not text or _RESERVED.match(text):
        return f"{fallback}（{text or '无名'}）" if text else fallback
    return text
