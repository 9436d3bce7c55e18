"""Decode mail header text, MIME parameters and body text as Chinese mail clients really send them.

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

import binascii
import codecs
import email.message
import encodings
import encodings.aliases
import pkgutil
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "GB_FAMILY",
    "Decoded",
    "attachment_filename",
    "codec_for",
    "decode_header",
    "decode_param",
    "decode_text",
    "normalise_subject",
]

# --------------------------------------------------------------------------------------------------
# Charset labels
# --------------------------------------------------------------------------------------------------

#: Charset labels (lower case) that all mean "some GB encoding"; every one is decoded as gb18030,
#: the superset, because senders label GBK/GB18030 text as gb2312 all the time.
GB_FAMILY: frozenset[str] = frozenset(
    {
        "gb2312",
        "gb_2312",
        "gb-2312",
        "gb2312-80",
        "gb_2312-80",
        "gb2312-1980",
        "csgb2312",
        "iso-ir-58",
        "csiso58gb231280",
        "chinese",
        "euc-cn",
        "euccn",
        "x-euc-cn",
        "cn-gb",
        "gbk",
        "x-gbk",
        "csgbk",
        "cp936",
        "x-cp936",
        "ms936",
        "windows-936",
        "936",
        "gb18030",
        "x-gb18030",
        "csgb18030",
        "gb18030-2000",
        "gb18030-2005",
        "gb18030-2022",
    }
)

_GB_CODEC = "gb18030"
_MAX_LABEL = 64


def _squash(label: str) -> str:
    """Lower-case and drop everything but ASCII letters and digits: ``GB_2312-80`` -> ``gb231280``."""
    return re.sub(r"[^a-z0-9]+", "", label.lower())


_GB_KEYS: frozenset[str] = frozenset(_squash(label) for label in GB_FAMILY)

# Labels whose meaning differs from (or is missing in) Python's own alias table. Keys are squashed.
_OVERRIDES: dict[str, str | None] = {
    # Unicode
    "utf8": "utf_8",
    "unicode11utf8": "utf_8",
    "unicode20utf8": "utf_8",
    "xunicode20utf8": "utf_8",
    "csutf8": "utf_8",
    "utf7": "utf_7",
    "unicode11utf7": "utf_7",
    "csunicode11utf7": "utf_7",
    "xunicode20utf7": "utf_7",
    # Western
    "usascii": "ascii",
    "ascii": "ascii",
    "latin1": "latin_1",
    "iso88591": "latin_1",
    "l1": "latin_1",
    "tis620": "cp874",
    "windows874": "cp874",
    "iso88598i": "iso8859_8",
    "iso88596i": "iso8859_6",
    # Korean: what Outlook calls ks_c_5601-1987 is really Windows code page 949
    "ksc56011987": "cp949",
    "ksc56011989": "cp949",
    "ksc5601": "cp949",
    "ksx1001": "cp949",
    "csksc56011987": "cp949",
    "isoir149": "cp949",
    "korean": "cp949",
    "euckr": "cp949",
    "xeuckr": "cp949",
    "cseuckr": "cp949",
    "windows949": "cp949",
    "uhc": "cp949",
    # Japanese: Shift_JIS in mail is Windows-31J (cp932) in practice
    "shiftjis": "cp932",
    "sjis": "cp932",
    "xsjis": "cp932",
    "mskanji": "cp932",
    "csshiftjis": "cp932",
    "windows31j": "cp932",
    "cswindows31j": "cp932",
    "iso2022jp": "iso2022_jp",
    "csiso2022jp": "iso2022_jp",
    # Traditional Chinese
    "big5": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "cnbig5": "big5hkscs",
    "xxbig5": "big5hkscs",
    "csbig5": "big5hkscs",
    "hzgb2312": "hz",
    # Labels that name no charset at all
    "unknown": None,
    "xunknown": None,
    "unknown8bit": None,
    "xuserdefined": None,
    "default": None,
    "8bit": None,
    "7bit": None,
    "binary": None,
    "none": None,
}
for _n in range(1250, 1259):
    for _prefix in ("windows", "cp", "xcp", "mscp"):
        _OVERRIDES[f"{_prefix}{_n}"] = f"cp{_n}"

# Python codecs that are not character sets (or not safe to apply to mail text).
_NOT_CHARSETS: frozenset[str] = frozenset(
    {
        "aliases",
        "base64_codec",
        "bz2_codec",
        "charmap",
        "hex_codec",
        "idna",
        "mbcs",
        "oem",
        "punycode",
        "quopri_codec",
        "raw_unicode_escape",
        "rot_13",
        "undefined",
        "unicode_escape",
        "uu_codec",
        "zlib_codec",
    }
)
_PY_MODULES: frozenset[str] = (
    frozenset(info.name for info in pkgutil.iter_modules(list(encodings.__path__))) - _NOT_CHARSETS
)
_PY_ALIASES: dict[str, str] = dict(encodings.aliases.aliases)
_codec_cache: dict[str, str | None] = {}


def _python_codec(module: str | None) -> str | None:
    """The canonical name of an encodings module, or None if it is not a usable text charset."""
    if module is None or module not in _PY_MODULES:
        return None
    try:
        info = codecs.lookup(module)
    except (LookupError, ValueError, ImportError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _lookup_label(label: str) -> str | None:
    key = _squash(label)
    if key in _GB_KEYS:
        return _GB_CODEC
    if key in _OVERRIDES:
        return _python_codec(_OVERRIDES[key])
    # Python's own aliases, normalised the way ``encodings.normalize_encoding`` does it. Only names
    # known in advance are looked up, so a bogus label never makes Python try to import a module.
    norm = re.sub(r"[^a-z0-9.]+", "_", label.lower()).strip("_")
    for candidate in (norm, norm.replace(".", "_")):
        module = _PY_ALIASES.get(candidate, candidate)
        if module in _PY_MODULES:
            return _python_codec(module)
    return None


def codec_for(label: str | None) -> str | None:
    """Map a MIME charset label to a Python codec name; GB-family labels give ``"gb18030"``.

    Returns None for a missing, unknown or bogus label (callers then fall back to guessing). A
    ``*language`` suffix (RFC 2231 / RFC 2047) and surrounding quotes are ignored. Never raises.
    """
    if not isinstance(label, str):
        return None
    label = label.strip().strip("\"'").strip()
    label = label.split("*", 1)[0].strip()
    if not label or len(label) > _MAX_LABEL or not label.isascii() or not label.isprintable():
        return None
    key = label.lower()
    try:
        return _codec_cache[key]
    except KeyError:
        pass
    result = _lookup_label(key)
    if len(_codec_cache) < 4096:
        _codec_cache[key] = result
    return result


# --------------------------------------------------------------------------------------------------
# Byte-level helpers
# --------------------------------------------------------------------------------------------------

_MAX_DEFECTS = 20


class _Defects:
    """An ordered, de-duplicated, bounded list of defect descriptions."""

    def __init__(self) -> None:
        self._items: dict[str, None] = {}
        self._overflow = False

    def add(self, text: str) -> None:
        if text in self._items:
            return
        if len(self._items) >= _MAX_DEFECTS:
            self._overflow = True
            return
        self._items[text] = None

    def as_tuple(self) -> tuple[str, ...]:
        items = tuple(self._items)
        return (*items, "more defects not listed") if self._overflow else items


_BAD_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _label_repr(label: bytes | str) -> str:
    """A short printable rendering of a (possibly hostile) charset label for a defect message."""
    text = label.decode("latin-1") if isinstance(label, bytes) else label
    return repr(text[:40] + ("..." if len(text) > 40 else ""))


def _to_bytes(raw: object, defects: _Defects | None = None) -> bytes:
    """Raw header bytes from bytes, a (surrogate-escaped) str, an ``email.header.Header`` or else."""
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        text = raw
    else:
        # compat32 hands out an email.header.Header for 8-bit headers; its chunks keep the bytes as
        # surrogate escapes, whereas str() of it has already replaced them.
        chunks = getattr(raw, "_chunks", None)
        if isinstance(chunks, list) and all(
            isinstance(c, tuple) and len(c) == 2 and isinstance(c[0], str) for c in chunks
        ):
            text = "".join(c[0] for c in chunks)
        else:
            try:
                text = str(raw)
            except Exception:  # any object: never raise
                return b""
    if _BAD_SURROGATE.search(text):
        text = _BAD_SURROGATE.sub("?", text)
        if defects is not None:
            defects.add("lone surrogate in header text replaced with '?'")
    return text.encode("utf-8", "surrogateescape")


_DECODE_ERRORS = (UnicodeError, LookupError, ValueError, TypeError)
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except _DECODE_ERRORS:
        return None


def _decode_chain(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode ``data`` with the declared codec, else UTF-8, else GB18030, else a lossy choice.

    Returns the text and None if a strict decode worked, or the text and a short note on how it was
    decoded otherwise. A lossy decode (U+FFFD for bad bytes) is used for truncated or slightly
    damaged text: with the declared codec while at most half the 8-bit bytes are damaged, with UTF-8
    or GB18030 while at most one in eight is. Anything worse is decoded as latin-1.
    """
    candidates: list[str] = []
    for codec in (declared, "utf-8", _GB_CODEC):
        if codec is not None and codec not in candidates:
            candidates.append(codec)
    for codec in candidates:
        text = _try_decode(data, codec)
        if text is not None:
            return text, (None if codec == declared or declared is None else f"decoded as {codec}")
    high = sum(1 for b in data if b >= 0x80)
    best: tuple[int, str, str] | None = None
    for codec in candidates:
        try:
            text = data.decode(codec, "replace")
        except _DECODE_ERRORS:
            continue
        # private-use characters are what GB18030 makes of garbage: count them as damage too
        bad = text.count("\ufffd") + len(_PRIVATE_USE.findall(text))
        # the declared charset may be half damaged (truncated text); a guessed one only slightly
        limit = high // 2 if codec == declared else high // 8
        if bad <= limit and (best is None or bad < best[0]):
            best = (bad, codec, text)
    if best is not None:
        return best[2], f"decoded as {best[1]} with {best[0]} damaged character(s)"
    return data.decode("latin-1"), "decoded as latin-1"


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


# --------------------------------------------------------------------------------------------------
# Body text and subjects
# --------------------------------------------------------------------------------------------------


def decode_text(payload: bytes, charset: str | None) -> str:
    """Decode body text: the declared charset (GB as gb18030), else UTF-8, GB18030, latin-1.

    When nothing decodes strictly, a decode with a few U+FFFD (declared charset, UTF-8 or GB18030)
    is preferred to latin-1, so one damaged byte does not turn a Chinese body into mojibake.
    Never raises.
    """
    try:
        return _decode_chain(bytes(payload), codec_for(charset))[0]
    except Exception:  # a last guard
        return bytes(payload).decode("latin-1")


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
