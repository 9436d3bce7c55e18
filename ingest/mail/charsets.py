"""Charset labels as senders write them, and text decoded by them: every GB-family label as gb18030.

Raw 8-bit text is tried as UTF-8, then GB18030, then latin-1 (recorded as a defect). Nothing here
raises on malformed input.
"""

from __future__ import annotations

import codecs
import encodings
import encodings.aliases
import pkgutil
import re

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
