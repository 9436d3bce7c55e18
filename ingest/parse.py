"""Turn a stored raw message into the facts the rules need, with exact Chinese text.

Headers are decoded from their raw bytes by `ingest.decode`, never by the stdlib's
`policy.default`, which garbles GB-encoded subjects silently. Parsing runs under limits
(header size, number of parts, depth) so that one hostile message cannot stall the service.
"""

from __future__ import annotations

import email
import email.parser
import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from pathlib import Path

from ingest.decode import attachment_filename, decode_header, decode_text

ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")
MAX_TEXT_CHARS = 200_000


class ParseLimitExceeded(ValueError):
    """The message breaks one of the parsing limits; the text says which, in Chinese."""


@dataclass(frozen=True, kw_only=True)
class ParseLimits:
    max_header_bytes: int = 256 * 1024
    max_parts: int = 500
    max_depth: int = 20


@dataclass(frozen=True, kw_only=True)
class Part:
    """One leaf part that is a file (attachment or inline image)."""

    index: int
    filename: str | None
    content_type: str
    content_id: str | None
    inline: bool
    payload: bytes


@dataclass(frozen=True, kw_only=True)
class ParsedMail:
    message_id: str | None
    sender: str | None  # the parsed address only, lower-cased domain; None when unusable
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


def _raw_header_bytes(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        pos = raw.find(sep)
        if pos >= 0:
            return raw[:pos]
    return raw


def _walk(msg: Message, limits: ParseLimits, depth: int = 0) -> Iterator[Message]:
    if depth > limits.max_depth:
        raise ParseLimitExceeded(f"邮件结构嵌套超过 {limits.max_depth} 层")
    yield msg
    if msg.is_multipart():
        payload = msg.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _walk(sub, limits, depth + 1)


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


def parse_address(value: str) -> tuple[str, str | None]:
    """(display name, address or None) from a decoded From header; the address is checked strictly."""
    pairs = email.utils.getaddresses([value])
    if not pairs:
        return "", None
    name, addr = pairs[0]
    addr = addr.strip()
    if not ADDRESS.match(addr):
        return name, None
    local, _, domain = addr.rpartition("@")
    return name, f"{local}@{domain.lower()}"


def parse_bytes(raw: bytes, *, limits: ParseLimits = ParseLimits()) -> ParsedMail:
    """Parse one message; raises ParseLimitExceeded for a message that breaks a limit."""
    header_block = _raw_header_bytes(raw)
    if len(header_block) > limits.max_header_bytes:
        raise ParseLimitExceeded(
            f"邮件头过大（{len(header_block) // 1024} KB，上限 {limits.max_header_bytes // 1024} KB）"
        )
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except RecursionError as exc:
        raise ParseLimitExceeded("邮件结构嵌套过深，无法解析") from exc

    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), []).append(decode_header(value).text)

    raw_subject = next((v for n, v in msg.raw_items() if n.lower() == "subject"), None)
    raw_subject_text = _printable_raw(raw_subject) if raw_subject is not None else ""
    subject = decode_header(raw_subject).text if raw_subject is not None else ""
    from_values = headers.get("from", [])
    display, sender = parse_address(from_values[0]) if from_values else ("", None)

    text_chunks: list[str] = []
    html_chunks: list[str] = []
    parts: list[Part] = []
    defects: list[str] = [type(d).__name__ for d in msg.defects]
    count = 0
    for part in _walk(msg, limits):
        count += 1
        if count > limits.max_parts:
            raise ParseLimitExceeded(f"邮件包含的部分超过 {limits.max_parts} 个")
        defects.extend(type(d).__name__ for d in part.defects)
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = attachment_filename(part)
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        is_body = filename is None and disposition != "attachment" and ctype in ("text/plain", "text/html")
        if is_body:
            text = decode_text(payload, part.get_content_charset())
            (text_chunks if ctype == "text/plain" else html_chunks).append(text[:MAX_TEXT_CHARS])
            continue
        if ctype == "message/rfc822" or (part.get_content_maintype() == "message"):
            continue
        cid = part.get("Content-ID")
        parts.append(
            Part(
                index=len(parts),
                filename=filename,
                content_type=ctype,
                content_id=_message_id(decode_header(str(cid)).text) if cid else None,
                inline=disposition == "inline" or (cid is not None and disposition != "attachment"),
                payload=payload,
            )
        )
    return ParsedMail(
        message_id=_message_id(_first(headers, "message-id")),
        sender=sender,
        sender_display=display,
        subject=subject,
        raw_subject=raw_subject_text,
        date=_first(headers, "date"),
        in_reply_to=_message_id(_first(headers, "in-reply-to")),
        references=_first(headers, "references"),
        headers=headers,
        content_type=msg.get_content_type(),
        text="\n".join(text_chunks),
        html="\n".join(html_chunks),
        parts=tuple(parts),
        defects=tuple(defects),
    )


def parse_file(path: Path, *, limits: ParseLimits = ParseLimits()) -> ParsedMail:
    return parse_bytes(path.read_bytes(), limits=limits)


def parse_headers_only(raw: bytes, *, max_header_bytes: int = 256 * 1024) -> ParsedMail:
    """Only the header of a message (the rest unread): for messages over a limit."""
    head = email.parser.BytesHeaderParser(policy=compat32).parsebytes(raw[:max_header_bytes])
    headers: dict[str, list[str]] = {}
    for name, value in head.raw_items():
        headers.setdefault(name.lower(), []).append(decode_header(value).text)
    display, sender = parse_address(_first(headers, "from") or "")
    subject_raw = next((v for n, v in head.raw_items() if n.lower() == "subject"), "")
    return ParsedMail(
        message_id=_message_id(_first(headers, "message-id")), sender=sender, sender_display=display,
        subject=decode_header(subject_raw).text, raw_subject=_printable_raw(subject_raw),
        date=_first(headers, "date"), in_reply_to=_message_id(_first(headers, "in-reply-to")),
        references=_first(headers, "references"), headers=headers,
        content_type=head.get_content_type(), text="", html="", parts=())
