"""Header text as clients write it: RFC 2047 encoded-words (adjacent words of one charset joined at the
byte level before decoding) and raw 8-bit headers; CR and LF never survive into decoded text."""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.mail.charsets import _GB_CODEC, _decode_chain, _Defects, _label_repr, _to_bytes, _try_decode, codec_for

# --------------------------------------------------------------------------------------------------
# RFC 2047 encoded-words and raw 8-bit text
# --------------------------------------------------------------------------------------------------

# One encoded-word. No part may contain '?' or whitespace, so every attempt stops at the next '?'
# and the scan stays linear. The charset may carry an RFC 2231 "*language" suffix.
_ENCODED_WORD = re.compile(rb"=\?([^?\s*]*)(\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_WSP_ONLY = re.compile(rb"[ \t]*")
_Q_TOKEN = re.compile(rb"=([0-9A-Fa-f]{2})|=|_")
_B64_NOT_ALPHABET = re.compile(rb"[^A-Za-z0-9+/=]+")
_B64_WELL_FORMED = re.compile(rb"(?:[A-Za-z0-9+/]{4})*+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_B64_PADDING = re.compile(rb"=+")
_UNFOLD = re.compile(rb"\r\n(?=[ \t])|\n(?=[ \t])|\r(?=[ \t])")
_NEWLINE_TEXT = re.compile("\r\n|[\r\n]")


def _q_decode(data: bytes, defects: _Defects) -> bytes:
    stray = False

    def repl(m: re.Match[bytes]) -> bytes:
        nonlocal stray
        if m.group(1) is not None:
            return bytes((int(m.group(1), 16),))
        if m.group(0) == b"_":
            return b" "
        stray = True
        return b"="

    out = _Q_TOKEN.sub(repl, data)
    if stray:
        defects.add("invalid Q-encoding ('=' not followed by two hex digits)")
    return out


def _b64_decode(data: bytes, defects: _Defects) -> bytes:
    cleaned = _B64_NOT_ALPHABET.sub(b"", data)
    if cleaned != data:
        defects.add("invalid characters in base64 encoded-word ignored")
    if _B64_WELL_FORMED.fullmatch(cleaned):
        try:
            return binascii.a2b_base64(cleaned)
        except (binascii.Error, ValueError):
            pass
    defects.add("invalid base64 in encoded-word; decoded what could be decoded")
    out = bytearray()
    # Decode each run between padding separately: this also handles several padded words glued
    # together. A run of 4n+1 characters has one character that cannot carry a byte: drop it.
    for chunk in _B64_PADDING.split(cleaned):
        usable = len(chunk) - (len(chunk) % 4 == 1)
        piece = chunk[:usable]
        if not piece:
            continue
        piece += b"=" * (-len(piece) % 4)
        try:
            out += binascii.a2b_base64(piece)
        except (binascii.Error, ValueError):
            continue
    return bytes(out)


def _decode_literals(runs: Sequence[bytes], defects: _Defects) -> list[str]:
    """Decode the text between encoded-words: ASCII as is, 8-bit as UTF-8, GB18030 or latin-1.

    One codec is chosen for the whole header when it decodes every 8-bit run; only if none does
    are the runs decoded one by one.
    """
    eight_bit = [run for run in runs if not run.isascii()]
    if not eight_bit:
        return [run.decode("ascii") for run in runs]
    for codec in ("utf-8", _GB_CODEC):
        decoded = [_try_decode(run, codec) for run in runs]
        if all(text is not None for text in decoded):
            return [text for text in decoded if text is not None]
    out: list[str] = []
    for run in runs:
        text, note = _decode_chain(run, None)
        if note is not None:
            defects.add(f"8-bit text is neither UTF-8 nor GB18030; {note}")
        out.append(text)
    return out


def _charset_key(label: bytes) -> tuple[str | None, str]:
    """(codec or None, grouping key) for an encoded-word's charset label."""
    text = label.decode("latin-1")
    codec = codec_for(text)
    return codec, (codec if codec is not None else "?" + text.lower())


def _decode_words(data: bytes, defects: _Defects) -> str:
    """Decode a header value (already unfolded) that may mix encoded-words and raw text."""
    # The value as a sequence of pieces: literal runs (decoded together below) and encoded-words.
    literal_runs: list[bytes] = []
    pieces: list[tuple[str, int]] = []  # ("lit", index into literal_runs) or ("ew", index into words)
    words: list[tuple[str | None, str, bytes, bytes]] = []  # codec, key, label, payload bytes
    pos = 0
    for m in _ENCODED_WORD.finditer(data):
        between = data[pos : m.start()]
        # whitespace between two adjacent encoded-words is dropped
        if between and not (pieces and pieces[-1][0] == "ew" and _WSP_ONLY.fullmatch(between)):
            pieces.append(("lit", len(literal_runs)))
            literal_runs.append(between)
        label, _language, kind, payload = m.group(1), m.group(2), m.group(3), m.group(4)
        raw = _b64_decode(payload, defects) if kind in b"bB" else _q_decode(payload, defects)
        codec, key = _charset_key(label)
        pieces.append(("ew", len(words)))
        words.append((codec, key, label, raw))
        pos = m.end()
    if pos < len(data):
        pieces.append(("lit", len(literal_runs)))
        literal_runs.append(data[pos:])

    literal_text = _decode_literals(literal_runs, defects)
    out: list[str] = []
    i = 0
    while i < len(pieces):
        kind_, index = pieces[i]
        if kind_ == "lit":
            out.append(literal_text[index])
            i += 1
            continue
        codec, key, label, _ = words[index]
        # join adjacent words of the same charset at the byte level (split multibyte characters)
        joined = bytearray()
        while i < len(pieces) and pieces[i][0] == "ew" and words[pieces[i][1]][1] == key:
            joined += words[pieces[i][1]][3]
            i += 1
        if codec is None:
            defects.add(f"unknown charset {_label_repr(label)} in encoded-word")
        text, note = _decode_chain(bytes(joined), codec)
        if note is not None:
            declared = codec if codec is not None else "unknown charset"
            defects.add(f"encoded-word text is not valid {declared}; {note}")
        out.append(text)
    return "".join(out)


@dataclass(frozen=True)
class Decoded:
    """A decoded header value and what was wrong with it (empty when nothing was)."""

    text: str
    defects: tuple[str, ...]


def _no_newlines(text: str) -> str:
    """Replace each CRLF, CR or LF with one space (a decoded value must never break a header)."""
    if "\r" not in text and "\n" not in text:
        return text
    return _NEWLINE_TEXT.sub(" ", text)


def decode_header(raw: str | bytes) -> Decoded:
    """Decode a raw header value: unfold, RFC 2047 words (GB as gb18030) and raw 8-bit text.

    ``raw`` is the value as found in the message: bytes, or the str that ``email`` keeps for it
    (8-bit bytes as surrogate escapes). Never raises; the text has no CR or LF.
    """
    defects = _Defects()
    try:
        data = _to_bytes(raw, defects)
        data = _UNFOLD.sub(b"", data).strip(b" \t\r\n")
        text = _decode_words(data, defects)
    except Exception as exc:  # a last guard: a header must never break intake
        defects.add(f"internal error while decoding: {type(exc).__name__}")
        text = _to_bytes(raw).decode("utf-8", "replace")
    return Decoded(_no_newlines(text), defects.as_tuple())
