"""MIME parameters as clients write them: RFC 2045 quoting, RFC 2231 continuations and charsets, RFC 2047 in values."""

from __future__ import annotations

import email.message
import re
from collections.abc import Iterable

from ingest.mail.charsets import _decode_chain, _Defects, _label_repr, _to_bytes, _try_decode, codec_for
from ingest.mail.words import _UNFOLD, _decode_words, _no_newlines

# --------------------------------------------------------------------------------------------------
# MIME parameters (RFC 2045 / RFC 2231 / RFC 2047 in values)
# --------------------------------------------------------------------------------------------------

_PARAM_NAME = re.compile(rb"[^=;]*")
_SPACES = re.compile(rb"[ \t]*")
_TO_SEMICOLON = re.compile(rb"[^;]*")
# An unquoted value runs to the next ';' that is not inside an encoded-word.
_UNQUOTED_VALUE = re.compile(rb"(?:=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=|[^;])*+")
# A quoted string; the second form never lets a backslash that is the trail byte of a GBK
# character escape the next byte.
_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*+)("?)', re.DOTALL)
_QUOTED_GB = re.compile(rb'"((?:[\x81-\xfe][\x40-\x7e\x80-\xfe]|[^"\\]|\\.)*+)("?)', re.DOTALL)
_UNESCAPE = re.compile(rb'\\([\\"])')
_UNESCAPE_GB = re.compile(rb'([\x81-\xfe][\x40-\x7e\x80-\xfe])|\\([\\"])')
_SECTION = re.compile(r"\*([0-9]{1,4})(\*?)")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def _is_utf8(data: bytes) -> bool:
    return _try_decode(data, "utf-8") is not None


def _scan_quoted(data: bytes, pos: int) -> tuple[bytes, int]:
    """Unquote the quoted-string at ``data[pos] == '"'``; returns (value, position after it)."""
    m = _QUOTED.match(data, pos)
    assert m is not None  # the pattern matches any string starting with '"'
    body = m.group(1)
    if not body.isascii() and not _is_utf8(body):
        gb = _QUOTED_GB.match(data, pos)
        assert gb is not None
        value = _UNESCAPE_GB.sub(lambda g: g.group(1) or g.group(2), gb.group(1))
        return value, gb.end()
    return _UNESCAPE.sub(rb"\1", body), m.end()


def _parse_params(data: bytes) -> list[tuple[str, bytes, bool]]:
    """(lower-case name, value bytes, value was quoted) for each parameter, in order."""
    params: list[tuple[str, bytes, bool]] = []
    n = len(data)
    pos = _scan_value(data, 0)[1]  # skip the main value ("attachment", "text/plain")
    while pos < n:
        if data[pos] != 0x3B:  # ';' -- anything else after a value is junk up to the next ';'
            m = _TO_SEMICOLON.match(data, pos)
            pos = m.end() if m is not None and m.end() > pos else pos + 1
            continue
        pos += 1
        m = _PARAM_NAME.match(data, pos)
        assert m is not None
        name = m.group(0).strip(b" \t").decode("latin-1").lower()
        pos = m.end()
        if pos < n and data[pos] == 0x3D:  # '='
            value, pos, quoted = _scan_value_full(data, pos + 1)
            if name:
                params.append((name, value, quoted))
    return params


def _scan_value_full(data: bytes, pos: int) -> tuple[bytes, int, bool]:
    m = _SPACES.match(data, pos)
    assert m is not None
    pos = m.end()
    if pos < len(data) and data[pos] == 0x22:  # '"'
        value, end = _scan_quoted(data, pos)
        return value, end, True
    m = _UNQUOTED_VALUE.match(data, pos)
    assert m is not None
    return m.group(0).rstrip(b" \t"), m.end(), False


def _scan_value(data: bytes, pos: int) -> tuple[bytes, int]:
    value, end, _ = _scan_value_full(data, pos)
    return value, end


def _raw_header(msg: email.message.Message, header: str) -> bytes | None:
    """The first raw value of ``header`` (bytes, unfolded), without any policy decoding."""
    want = header.lower()
    items: Iterable[tuple[str, object]]
    try:
        items = msg.raw_items()
    except AttributeError:
        items = msg.items()
    for key, value in items:
        if isinstance(key, str) and key.lower() == want:
            return _UNFOLD.sub(b"", _to_bytes(value)).strip(b" \t\r\n")
    return None


def _percent_decode(data: bytes) -> bytes:
    return _PERCENT.sub(lambda m: bytes((int(m.group(1), 16),)), data)


def _split_charset(value: bytes) -> tuple[str | None, bytes]:
    """Split an RFC 2231 extended value ``charset'language'text``; a missing charset gives None."""
    parts = value.split(b"'", 2)
    if len(parts) < 3:
        return None, value
    label = parts[0].decode("latin-1").strip()
    return (label or None), parts[2]


def _decode_extended(single: bytes | None, sections: dict[int, tuple[bytes, bool]], defects: _Defects) -> str | None:
    """Assemble and decode an RFC 2231 value from ``name*`` or ``name*0``, ``name*1*``, ..."""
    if single is not None:
        single_label, text = _split_charset(single)
        return _decode_2231_bytes(_percent_decode(text), single_label, defects)
    if not sections:
        return None
    ordered = [sections[k] for k in sorted(sections)]
    if not any(extended for _, extended in ordered):
        # plain continuations: the joined value is an ordinary (maybe RFC 2047 or 8-bit) value
        return _decode_words(b"".join(value for value, _ in ordered), defects)
    label: str | None = None
    joined = bytearray()
    first = min(sections)
    for number, (value, extended) in zip(sorted(sections), ordered, strict=True):
        if extended:
            if number == first:
                label, value = _split_charset(value)
            joined += _percent_decode(value)
        else:
            joined += value
    return _decode_2231_bytes(bytes(joined), label, defects)


def _decode_2231_bytes(data: bytes, label: str | None, defects: _Defects) -> str:
    codec = codec_for(label)
    if label is not None and codec is None:
        defects.add(f"unknown charset {_label_repr(label)} in parameter")
    text, note = _decode_chain(data, codec)
    if note is not None:
        defects.add(f"parameter text {note}")
    return text


def decode_param(msg: email.message.Message, name: str, header: str = "content-disposition") -> str | None:
    """The decoded value of parameter ``name`` of ``header``, or None if it is absent.

    Reads the raw header text itself: RFC 2231 (``name*=``, continuations, ``GBK''`` charsets,
    missing charsets) is preferred over a plain ``name=``, whose value may be quoted or unquoted
    RFC 2047 words or raw 8-bit text (UTF-8, else GB18030). The first of duplicate parameters wins.
    CR and LF in the result become spaces. Never raises.
    """
    try:
        data = _raw_header(msg, header)
        if data is None:
            return None
        want = name.strip().lower()
        plain: bytes | None = None
        single: bytes | None = None
        sections: dict[int, tuple[bytes, bool]] = {}
        for key, value, _quoted in _parse_params(data):
            if key == want:
                if plain is None:
                    plain = value
            elif key == want + "*":
                if single is None:
                    single = value
            elif key.startswith(want):
                m = _SECTION.fullmatch(key, len(want))
                if m is not None:
                    sections.setdefault(int(m.group(1)), (value, m.group(2) == "*"))
        defects = _Defects()  # parameters report no defects; decoding still needs a sink
        result = _decode_extended(single, sections, defects)
        if result is None and plain is not None:
            result = _decode_words(plain, defects)
        return None if result is None else _no_newlines(result)
    except Exception:  # a last guard: a parameter must never break intake
        return None


def attachment_filename(msg: email.message.Message) -> str | None:
    """The attachment's file name: Content-Disposition ``filename``, else Content-Type ``name``."""
    filename = decode_param(msg, "filename", "content-disposition")
    if filename:
        return filename
    name = decode_param(msg, "name", "content-type")
    return name if name is not None else filename
