"""A submission's identity: the same message delivered twice (a resend, an import and then the IMAP
copy, a rescan after UIDVALIDITY changed, two folders of one address) has the same identity.

The identity is a sha256 over the receiving address and the message's Message-ID with its sender;
a message without a Message-ID is identified by its content, with line endings, trailing
whitespace and the trace headers that each delivery adds (Received, Return-Path, …) left out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

_LINES = re.compile(rb"\r\n|\r|\n")
CHUNK = 1024 * 1024
# header fields that a delivery adds or rewrites: two copies of one message differ in them
TRACE_FIELDS = frozenset(
    {
        b"received",
        b"return-path",
        b"delivered-to",
        b"x-original-to",
        b"envelope-to",
        b"authentication-results",
        b"arc-authentication-results",
        b"arc-message-signature",
        b"arc-seal",
        b"received-spf",
        b"x-received",
        b"x-spam-status",
        b"x-spam-score",
        b"x-uid",
        b"status",
        b"x-status",
        b"x-keywords",
    }
)


def _lines(source: bytes | Path) -> Iterator[bytes]:
    """The lines of a message (CR LF, CR or LF), from memory or read from its file in pieces."""
    if isinstance(source, bytes):
        yield from _LINES.split(source)
        return
    pending = b""
    with source.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            data = pending + chunk
            held = b"\r" if data.endswith(b"\r") else b""  # the CR of a CR LF cut in two
            lines = _LINES.split(data[:-1] if held else data)
            pending = lines.pop() + held
            yield from lines
    yield from _LINES.split(pending)


def _normalised(source: bytes | Path) -> Iterator[bytes]:
    """The message's lines without trailing whitespace and trace header fields, final blank lines left out."""
    in_header, skipping = True, False
    blanks = 0  # blank lines held back until something follows them
    for raw_line in _lines(source):
        line = raw_line.rstrip(b" \t")
        if in_header:
            if not line:
                in_header = False
            elif line[:1] in (b" ", b"\t"):  # a folded continuation belongs to the field above
                if skipping:
                    continue
            else:
                skipping = line.split(b":", 1)[0].strip().lower() in TRACE_FIELDS
                if skipping:
                    continue
        if not line:
            blanks += 1
            continue
        yield from (b"",) * blanks
        blanks = 0
        yield line


def normalised_content(raw: bytes | Path) -> bytes:
    """The message with LF line endings, no trailing whitespace, no trace header fields."""
    return b"\n".join(_normalised(raw))


def identity(*, address: str, message_id: str | None, sender: str | None, raw: bytes | Path) -> str:
    """The key under which one submission is stored once (raw: the message, or its file)."""
    digest = hashlib.sha256()
    digest.update(address.strip().lower().encode("utf-8") + b"\0")
    if message_id and message_id.strip():
        digest.update(b"message-id\0" + message_id.strip().encode("utf-8", "surrogatepass"))
        digest.update(b"\0" + (sender or "").strip().lower().encode("utf-8", "surrogatepass"))
    else:
        digest.update(b"content\0")
        for index, line in enumerate(_normalised(raw)):
            digest.update(b"\n" + line if index else line)
    return digest.hexdigest()
