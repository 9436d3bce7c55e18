"""The limits a message must keep before it is parsed, checked on its raw bytes cheaply and without recursion."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_FIX_STRUCTURE = "请不要嵌套转发，把作品文件直接作为附件，用常用的邮件程序重新发送一封新邮件。"
_FIX_HEADER = "请用常用的邮件程序重新发送一封新邮件，标题只写“单位+线下活动汇总”这样的简短内容。"


class ParseLimitExceeded(ValueError):
    """The message breaks one of the parsing limits; `str()` says which in Chinese, `fix` what to do."""

    def __init__(self, text: str, *, fix: str = _FIX_STRUCTURE) -> None:
        super().__init__(text)
        self.fix = fix


@dataclass(frozen=True, kw_only=True)
class ParseLimits:
    """How much structure one message may have before it is refused instead of parsed."""

    max_header_bytes: int = 100 * 1024  # the message's header block (Postfix's header_size_limit)
    max_parts: int = 500  # MIME parts, containers included
    max_depth: int = 20  # containers inside containers
    max_params: int = 100  # `;`-separated parameters in one Content-Type or Content-Disposition
    max_seconds: float = 30.0  # wall-clock budget for parsing and walking one message


# A header line as the stdlib's feedparser sees one: a field name and a colon, or a continuation.
_HEADER_LINE = re.compile(rb"(?:From |[\041-\071\073-\176]*:|[\t ])")  # feedparser's headerRE
# Written out in both cases and anchored on "\n" (the start is matched separately): much faster
# than re.I with a multi-line "^" on a 60 MB message.
_MIME_FIELD_BODY = (
    rb"[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-([Tt][Yy][Pp][Ee]|[Dd][Ii][Ss][Pp][Oo][Ss][Ii][Tt][Ii][Oo][Nn])[ \t]*:"
    rb"([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)"
)
_MIME_FIELD = (re.compile(_MIME_FIELD_BODY), re.compile(rb"\n" + _MIME_FIELD_BODY))
_DELIMITER = (re.compile(rb"--([^\r\n]*)"), re.compile(rb"\n--([^\r\n]*)"))
_BOUNDARY = re.compile(rb"""(?:^|;)\s*boundary\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)""", re.I)


def _line_starts(patterns: tuple[re.Pattern[bytes], re.Pattern[bytes]], raw: bytes) -> Iterator[re.Match[bytes]]:
    """Matches of a pattern at the start of any line of raw."""
    first = patterns[0].match(raw)
    if first is not None:
        yield first
    yield from patterns[1].finditer(raw)


def header_block_size(raw: bytes, *, stop: int | None = None) -> int:
    """Bytes of the top header block, ending where the stdlib parser ends it (blank or non-header line).

    Counting stops once `stop` bytes are passed: the answer is then only known to be larger.
    """
    pos = 0
    size = len(raw)
    while pos < size and (stop is None or pos <= stop):
        end = raw.find(b"\n", pos)
        line_end = size if end < 0 else end + 1
        line = raw[pos:line_end]
        if line.strip(b"\r\n") == b"" or not _HEADER_LINE.match(line):
            return pos
        pos = line_end
    return pos


def _unquote(value: bytes) -> bytes:
    value = value.strip()
    if len(value) >= 2 and value[:1] == b'"' and value[-1:] == b'"':
        value = re.sub(rb"\\(.)", rb"\1", value[1:-1])
    return value


@dataclass(frozen=True, kw_only=True)
class Shape:
    """What the scan of the raw bytes found: an upper estimate of the structure, before parsing."""

    header_bytes: int
    parts: int
    depth: int


def prescan(raw: bytes, limits: ParseLimits) -> Shape:
    """Check the limits on the raw bytes, cheaply and without recursion; raises ParseLimitExceeded.

    Depth is estimated by replaying Content-Type fields and boundary lines in order: a multipart
    opens a level that its closing delimiter (or the next delimiter of an outer boundary) ends; a
    message/* part opens a level that the enclosing boundary ends.
    """
    header_bytes = header_block_size(raw, stop=limits.max_header_bytes)
    if header_bytes > limits.max_header_bytes:
        blank = re.search(rb"\r?\n\r?\n", raw)
        measured = blank.start() if blank else len(raw)  # for the message only
        raise ParseLimitExceeded(
            f"邮件头过大（{max(measured, header_bytes) // 1024} KB，上限 {limits.max_header_bytes // 1024} KB）",
            fix=_FIX_HEADER,
        )
    # Collection stops once more parts than allowed are seen (`cut`), so a message of a million
    # boundary lines costs no more than one just over the limit; depth is judged first, on what was seen.
    cut = len(raw)
    events: list[tuple[int, str, bytes]] = []  # (offset, "multipart" | "message" | "line", value)
    boundaries: set[bytes] = set()
    for seen, m in enumerate(_line_starts(_MIME_FIELD, raw)):
        if seen > 4 * limits.max_parts:  # a part has a Content-Type and a Content-Disposition at most
            cut = m.start()
            break
        field_name = "Type" if m.group(1)[:1] in b"Tt" else "Disposition"
        value = m.group(2)
        if b"\n" in value:
            value = re.sub(rb"\r?\n[ \t]", b" ", value)
        if value.count(b";") > limits.max_params:
            raise ParseLimitExceeded(
                f"邮件头 Content-{field_name} 中有 {value.count(b';')} 个分号分隔的参数"
                f"（上限 {limits.max_params} 个），无法可靠解析",
                fix=_FIX_HEADER,
            )
        if field_name != "Type":
            continue
        mime_type = value.split(b";", 1)[0].strip().lower()
        found = {_unquote(b) for b in _BOUNDARY.findall(value)}
        if len(found) > 1:
            raise ParseLimitExceeded(
                f"邮件结构有歧义：同一个 Content-Type 中有 {len(found)} 个不同的 boundary 参数，"
                "不同的邮件程序会读出不同的内容"
            )
        if mime_type.startswith(b"multipart/") and found:
            boundaries.add(next(iter(found)))
            events.append((m.start(), "multipart", next(iter(found))))
        elif mime_type.startswith(b"message/"):
            events.append((m.start(), "message", b""))
        if len(events) > limits.max_parts:
            cut = m.start()
            break
    opened = 0  # parts opened by a delimiter line
    for d in _line_starts(_DELIMITER, raw) if boundaries else ():
        if d.start() > cut:
            break
        token = d.group(1).rstrip(b" \t\r")
        if token in boundaries or (token.endswith(b"--") and token[:-2] in boundaries):
            events.append((d.start(), "line", token))
            opened += token in boundaries
            if opened > limits.max_parts or len(events) > 8 * limits.max_parts:
                cut = d.start()
                break
    depth = _replay_depth(sorted(e for e in events if e[0] <= cut), limits)
    parts = 1 + opened + sum(1 for e in events if e[1] == "message")
    if parts > limits.max_parts or cut < len(raw):
        raise ParseLimitExceeded(f"邮件包含的部分超过 {limits.max_parts} 个")
    return Shape(header_bytes=header_bytes, parts=parts, depth=depth)


def _replay_depth(events: list[tuple[int, str, bytes]], limits: ParseLimits) -> int:
    stack: list[bytes | None] = []  # open multipart boundaries; None for a message/* level
    deepest = 0
    for _, kind, value in events:
        if kind == "multipart":
            stack.append(value)
        elif kind == "message":
            stack.append(None)
        else:
            closing = value.endswith(b"--") and value[:-2] in stack
            boundary = value[:-2] if closing else value
            if boundary not in stack:
                continue
            index = len(stack) - 1 - stack[::-1].index(boundary)
            del stack[index if closing else index + 1 :]
        deepest = max(deepest, len(stack))
        if deepest > limits.max_depth:
            raise ParseLimitExceeded(f"邮件结构嵌套超过 {limits.max_depth} 层")
    return deepest
