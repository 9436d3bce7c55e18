"""Turn a stored raw message into the facts the rules need, with exact Chinese text, under limits.

Headers are decoded from their raw bytes by `ingest.mail.decode`, never by the stdlib's
`policy.default`, which garbles GB-encoded subjects silently (and needs seconds for a header
with thousands of parameters). Before the stdlib parser sees a message, a cheap scan of the raw
bytes checks the limits (header size, parameters per MIME header, parts, nesting depth) and
refuses ambiguous structure (two different boundaries in one Content-Type), so that the
parser's own cost stays bounded; the walk over the parsed parts then checks the same limits
exactly, and a wall-clock budget. A message that breaks a limit raises ParseLimitExceeded,
whose text and fix explain it to the sender; `parse_headers_only` still reads who sent it.

`parse_file` reads a stored message from its file through `ingest.mail.spill`: its large base64
bodies never enter memory, and each such attachment is decoded into a file of the work folder.
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
from pathlib import Path

from ingest.mail.decode import attachment_filename, decode_header, decode_text
from ingest.mail.prescan import ParseLimitExceeded, ParseLimits, header_block_size, prescan
from ingest.mail.spill import RUN_BYTES, Decoded, Slim, decode_to_file, slim_file

__all__ = [
    "ParseLimitExceeded",
    "ParseLimits",
    "ParsedMail",
    "Part",
    "parse_address",
    "parse_bytes",
    "parse_file",
    "parse_headers_only",
]

ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")
MAX_TEXT_CHARS = 200_000
MAX_SUBJECT_CHARS = 1_000  # longer subjects are kept this long, with "…" (a 200 KB subject exists in the wild)
MAX_REFERENCES_CHARS = 16_000  # the newest end of References is kept
MAX_ADDRESS_CHARS = 4_000  # of a From header, before it is parsed (the stdlib recurses per "(")
HEADERS_ONLY_BYTES = 256 * 1024  # what parse_headers_only reads of a refused message

# a signature over the message, not a file the sender submitted: never listed, never counted
SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
SIGNATURE_NAMES = frozenset({"smime.p7s", "signature.asc"})
BROKEN_BASE64 = "附件的 base64 编码有错误（含有不该有的字符或长度不对），收到的文件可能不完整"


@dataclass(frozen=True, kw_only=True)
class Part:
    """One leaf part that is a file (attachment or inline image)."""

    index: int
    filename: str | None
    content_type: str
    content_id: str | None
    inline: bool
    payload: bytes = b""  # the decoded file, unless it was decoded to `path`
    problems: tuple[str, ...] = ()  # what was wrong with the part itself (e.g. broken base64)
    path: Path | None = None  # the decoded file in the work folder (a large base64 body)
    sha256: str | None = None  # of the file at path, computed while it was written
    stored_size: int = 0  # of the file at path

    @property
    def size(self) -> int:
        return self.stored_size if self.path is not None else len(self.payload)

    @property
    def is_signature(self) -> bool:
        """An S/MIME or PGP signature (by its type, or smime.p7s by name)."""
        name = (self.filename or "").strip().lower()
        return self.content_type.lower() in SIGNATURE_TYPES or name in SIGNATURE_NAMES


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


def _payload(
    part: Message, *, slim: Slim | None = None, target: Path | None = None
) -> tuple[bytes | Decoded, tuple[str, ...]]:
    """The decoded body of a leaf part, and what was wrong with its transfer encoding.

    With slim, a base64 body that met a marker is decoded from its pieces into target; any other
    body that met one is restored first, as it was received."""
    cte = (_raw_value(part, "Content-Transfer-Encoding") or "").strip().lower()
    raw_body = getattr(part, "_payload", "")
    if slim is not None and isinstance(raw_body, str) and slim.has_marker(raw_body):
        if cte == "base64" and target is not None:
            decoded, broken = decode_to_file(slim.pieces(raw_body), target)
            return decoded, (BROKEN_BASE64,) if broken else ()
        part.set_payload(slim.restored(raw_body))
    try:
        # the text as received; for 8-bit bytes the stdlib decodes by the declared charset, and a
        # label such as "utf-8\0" makes that raise ValueError
        body = part.get_payload() if cte == "base64" else None
    except (ValueError, LookupError):
        body = getattr(part, "_payload", "")  # the undecoded text the stdlib keeps
    if isinstance(body, str):
        compact = "".join(body.split())  # the white space `\s` matches, at a fraction of re.sub's cost
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
    over a limit, so that the verdict still knows who sent what. Never raises for malformed input.

    The bytes are cut where the header ends before the stdlib sees them: its header parser reads
    (and keeps) everything after the header too."""
    data = raw[:max_header_bytes]
    head = email.parser.BytesHeaderParser(policy=compat32).parsebytes(data[: header_block_size(data)])
    items = [(n, v if isinstance(v, str) else str(v)) for n, v in head.raw_items()]
    return _mail(_decoded_headers(items), items, head.get_content_type())


def parse_bytes(
    raw: bytes, *, limits: ParseLimits = ParseLimits(), clock: Callable[[], float] = time.monotonic
) -> ParsedMail:
    """Parse one message held in memory; raises ParseLimitExceeded for a message that breaks a limit."""
    return _parse(raw, limits=limits, clock=clock)


def parse_file(
    path: Path,
    *,
    workdir: Path,
    limits: ParseLimits = ParseLimits(),
    clock: Callable[[], float] = time.monotonic,
    run_bytes: int = RUN_BYTES,
) -> ParsedMail:
    """Parse one message from its file; large base64 attachments are decoded into files in workdir
    (`Part.path`), so that memory stays small whatever the message's size."""
    timer_start = clock()
    slim = slim_file(path, run_bytes=run_bytes)
    spent = clock() - timer_start
    return _parse(slim.data, limits=limits, clock=lambda: clock() + spent, slim=slim, workdir=workdir)


def _text_of(payload: bytes | Decoded) -> bytes:
    if isinstance(payload, bytes):
        return payload
    with payload.path.open("rb") as fh:  # only what the text is kept for
        return fh.read(4 * MAX_TEXT_CHARS)


def _parse(
    raw: bytes,
    *,
    limits: ParseLimits,
    clock: Callable[[], float],
    slim: Slim | None = None,
    workdir: Path | None = None,
) -> ParsedMail:
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
        target = workdir / f"part-{count:04d}" if workdir is not None else None
        payload, problems = _payload(part, slim=slim, target=target)
        if filename is None and disposition != "attachment" and ctype in ("text/plain", "text/html"):
            text = decode_text(_text_of(payload), part.get_content_charset())
            (text_chunks if ctype == "text/plain" else html_chunks).append(text[:MAX_TEXT_CHARS])
            defects.extend(problems)
            if not isinstance(payload, bytes):
                payload.path.unlink()
            continue
        cid = _raw_value(part, "Content-ID")
        decoded = None if isinstance(payload, bytes) else payload
        parts.append(
            Part(
                index=len(parts),
                filename=filename,
                content_type=ctype,
                content_id=_message_id(decode_header(cid).text) if cid else None,
                inline=disposition == "inline" or (cid is not None and disposition != "attachment"),
                payload=payload if isinstance(payload, bytes) else b"",
                problems=problems,
                path=decoded.path if decoded else None,
                sha256=decoded.sha256 if decoded else None,
                stored_size=decoded.size if decoded else 0,
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
