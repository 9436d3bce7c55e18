"""Turn a stored raw message into the facts the rules need, with exact Chinese text, under limits.

Headers are decoded from their raw bytes by `ingest.mail.decode`, never by the stdlib's
`policy.default`, which garbles GB-encoded subjects silently (and needs seconds for a header
with thousands of parameters). Before the stdlib parser sees a message, a cheap scan of the raw
bytes checks the limits (header size, parameters per MIME header, parts, nesting depth) and
refuses ambiguous structure (two different boundaries in one Content-Type), so that the
parser's own cost stays bounded; the walk over the parsed parts then checks the same limits
exactly, and a wall-clock budget. A message that breaks a limit raises ParseLimitExceeded,
whose text and fix explain it to the sender; `parse_headers_only` still reads who sent it.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.parser
import email.utils
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32

from ingest.mail.decode import attachment_filename, decode_header, decode_text

ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")
MAX_TEXT_CHARS = 200_000
MAX_SUBJECT_CHARS = 1_000  # longer subjects are kept this long, with "…" (a 200 KB subject exists in the wild)
MAX_REFERENCES_CHARS = 16_000  # the newest end of References is kept
MAX_ADDRESS_CHARS = 4_000  # of a From header, before it is parsed (the stdlib recurses per "(")
HEADERS_ONLY_BYTES = 256 * 1024  # what parse_headers_only reads of a refused message

BROKEN_BASE64 = "附件的 base64 编码有错误（含有不该有的字符或长度不对），收到的文件可能不完整"
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


@dataclass(frozen=True, kw_only=True)
class Part:
    """One leaf part that is a file (attachment or inline image)."""

    index: int
    filename: str | None
    content_type: str
    content_id: str | None
    inline: bool
    payload: bytes
    problems: tuple[str, ...] = ()  # what was wrong with the part itself (e.g. broken base64)


@dataclass(frozen=True, kw_only=True)
class ParsedMail:
    message_id: str | None
    sender: str | None  # the parsed address only, lower-cased domain; None when unusable or ambiguous
    sender_display: str
    subject: str
    raw_subject: str
    date: str | None
    in_reply_to: str | None
    references: str | None
    headers: dict[str, list[str]]  # lower-cased name -> decoded values, for classification
    content_type: str
    text: str
    html: str
    parts: tuple[Part, ...]
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


# -- the scan before parsing ---------------------------------------------------------------------

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


# -- helpers -------------------------------------------------------------------------------------


def _raw_value(part: Message, name: str) -> str | None:
    """A header value as received (8-bit bytes as surrogates), never a compat32 Header object."""
    lowered = name.lower()
    for key, value in part.raw_items():
        if key.lower() == lowered:
            return value if isinstance(value, str) else str(value)
    return None


class _Clock:
    def __init__(self, limits: ParseLimits, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.limits = limits
        self.deadline = clock() + limits.max_seconds

    def check(self) -> None:
        if self.clock() > self.deadline:
            raise ParseLimitExceeded(f"邮件解析超过 {self.limits.max_seconds:g} 秒仍未完成，已停止")


def _walk(msg: Message, limits: ParseLimits, clock: _Clock, depth: int = 0) -> Iterator[Message]:
    if depth > limits.max_depth:
        raise ParseLimitExceeded(f"邮件结构嵌套超过 {limits.max_depth} 层")
    clock.check()
    yield msg
    if msg.is_multipart():
        payload = msg.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _walk(sub, limits, clock, depth + 1)


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    match = re.search(r"<[^<>\s]{1,900}>", value)
    if match:
        return match.group(0)
    return value[:900] or None


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _printable_raw(value: str) -> str:
    """A raw header value kept as received: 8-bit bytes shown as escapes, never as surrogates."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_address(value: str) -> tuple[str, str | None]:
    """(display name, address or None) from a decoded From header; the address is checked strictly.

    Only a header that names exactly one address gives one: `bob@example.org <eve@evil.example>`
    and `a@x, b@y` are ambiguous (mail programs disagree on which is the sender), so they give None.
    A display name never stands in for the address.
    """
    try:
        pairs = email.utils.getaddresses([value[:MAX_ADDRESS_CHARS]])
    except (RecursionError, ValueError, IndexError):  # the stdlib recurses on nested comments
        return "", None
    found = [(name, addr.strip()) for name, addr in pairs if addr.strip()]
    if not found:
        return (pairs[0][0] if pairs else ""), None
    name, addr = found[0]
    if len(found) > 1 or not ADDRESS.match(addr):
        return name, None
    local, _, domain = addr.rpartition("@")
    return name, f"{local}@{domain.lower()}"


def _sender(from_values: list[str]) -> tuple[str, str | None]:
    """The one sender address; two From headers naming different addresses are ambiguous."""
    if not from_values:
        return "", None
    display, sender = parse_address(from_values[0])
    for other in from_values[1:]:
        if parse_address(other)[1] != sender:
            return display, None
    return display, sender


def _decoded_headers(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in items:
        headers.setdefault(name.lower(), []).append(decode_header(value).text)
    return headers


def _payload(part: Message) -> tuple[bytes, tuple[str, ...]]:
    """The decoded body of a leaf part, and what was wrong with its transfer encoding."""
    cte = (_raw_value(part, "Content-Transfer-Encoding") or "").strip().lower()
    try:
        # the text as received; for 8-bit bytes the stdlib decodes by the declared charset, and a
        # label such as "utf-8\0" makes that raise ValueError
        body = part.get_payload() if cte == "base64" else None
    except (ValueError, LookupError):
        body = getattr(part, "_payload", "")  # the undecoded text the stdlib keeps
    if isinstance(body, str):
        compact = re.sub(r"\s+", "", body)
        if len(compact) % 4 in (2, 3) and "=" not in compact:
            compact += "=" * (4 - len(compact) % 4)  # padding left out: harmless, nothing is missing
        try:
            return base64.b64decode(compact.encode("ascii"), validate=True), ()
        except (UnicodeEncodeError, binascii.Error, ValueError):
            pass
        # Decode what can be decoded, the way mail programs do (the stdlib would hand back the
        # base64 text itself), and say so: the file is judged by what is left of it.
        chars = re.sub(r"[^A-Za-z0-9+/]", "", compact)
        chars = chars[: len(chars) - len(chars) % 4] if len(chars) % 4 == 1 else chars + "=" * (-len(chars) % 4)
        return base64.b64decode(chars), (BROKEN_BASE64,)
    payload = part.get_payload(decode=True)
    return (payload if isinstance(payload, bytes) else b""), ()


def _mail(
    headers: dict[str, list[str]],
    items: list[tuple[str, str]],
    content_type: str,
    *,
    text: str = "",
    html: str = "",
    parts: tuple[Part, ...] = (),
    defects: tuple[str, ...] = (),
) -> ParsedMail:
    raw_subject = next((v for n, v in items if n.lower() == "subject"), None)
    display, sender = _sender(headers.get("from", []))
    references = _first(headers, "references")
    return ParsedMail(
        message_id=_message_id(_first(headers, "message-id")),
        sender=sender,
        sender_display=display,
        subject=_cap(decode_header(raw_subject).text, MAX_SUBJECT_CHARS) if raw_subject is not None else "",
        raw_subject=_cap(_printable_raw(raw_subject), 4 * MAX_SUBJECT_CHARS) if raw_subject is not None else "",
        date=_first(headers, "date"),
        in_reply_to=_message_id(_first(headers, "in-reply-to")),
        references=references[-MAX_REFERENCES_CHARS:] if references else None,
        headers=headers,
        content_type=content_type,
        text=text,
        html=html,
        parts=parts,
        defects=defects,
    )


# -- the entry points ----------------------------------------------------------------------------


def parse_headers_only(raw: bytes, *, max_header_bytes: int = HEADERS_ONLY_BYTES) -> ParsedMail:
    """Only the header of a message (the rest unread, at most max_header_bytes read): for messages
    over a limit, so that the verdict still knows who sent what. Never raises for malformed input."""
    head = email.parser.BytesHeaderParser(policy=compat32).parsebytes(raw[:max_header_bytes])
    items = [(n, v if isinstance(v, str) else str(v)) for n, v in head.raw_items()]
    return _mail(_decoded_headers(items), items, head.get_content_type())


def parse_bytes(
    raw: bytes, *, limits: ParseLimits = ParseLimits(), clock: Callable[[], float] = time.monotonic
) -> ParsedMail:
    """Parse one message; raises ParseLimitExceeded for a message that breaks a limit."""
    timer = _Clock(limits, clock)
    prescan(raw, limits)
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except RecursionError as exc:  # the scan estimates depth; this is the last guard
        raise ParseLimitExceeded(f"邮件结构嵌套超过 {limits.max_depth} 层") from exc
    timer.check()

    items = [(n, v if isinstance(v, str) else str(v)) for n, v in msg.raw_items()]
    headers = _decoded_headers(items)

    text_chunks: list[str] = []
    html_chunks: list[str] = []
    parts: list[Part] = []
    defects: list[str] = [type(d).__name__ for d in msg.defects]
    count = 0
    for part in _walk(msg, limits, timer):
        count += 1
        if count > limits.max_parts:
            raise ParseLimitExceeded(f"邮件包含的部分超过 {limits.max_parts} 个")
        defects.extend(type(d).__name__ for d in part.defects)
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        ctype = part.get_content_type()
        disposition = (_raw_value(part, "Content-Disposition") or "").split(";")[0].strip().lower()
        filename = attachment_filename(part)
        payload, problems = _payload(part)
        if filename is None and disposition != "attachment" and ctype in ("text/plain", "text/html"):
            text = decode_text(payload, part.get_content_charset())
            (text_chunks if ctype == "text/plain" else html_chunks).append(text[:MAX_TEXT_CHARS])
            defects.extend(problems)
            continue
        cid = _raw_value(part, "Content-ID")
        parts.append(
            Part(
                index=len(parts),
                filename=filename,
                content_type=ctype,
                content_id=_message_id(decode_header(cid).text) if cid else None,
                inline=disposition == "inline" or (cid is not None and disposition != "attachment"),
                payload=payload,
                problems=problems,
            )
        )
    timer.check()
    return _mail(
        headers,
        items,
        msg.get_content_type(),
        text="\n".join(text_chunks),
        html="\n".join(html_chunks),
        parts=tuple(parts),
        defects=tuple(defects),
    )
