"""A submission's identity: the same message delivered twice (a resend, an import and then the IMAP
copy, a rescan after UIDVALIDITY changed, two folders of one address) has the same identity.

The identity is a sha256 over the receiving address and the message's Message-ID with its sender;
a message without a Message-ID is identified by its content, with line endings, trailing
whitespace and the trace headers that each delivery adds (Received, Return-Path, …) left out.
"""

from __future__ import annotations

import hashlib
import re

_LINES = re.compile(rb"\r\n|\r|\n")
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


def normalised_content(raw: bytes) -> bytes:
    """The message with LF line endings, no trailing whitespace, no trace header fields."""
    lines = [line.rstrip(b" \t") for line in _LINES.split(raw)]
    out: list[bytes] = []
    in_header, skipping = True, False
    for line in lines:
        if in_header:
            if not line:
                in_header = False
                out.append(line)
                continue
            if line[:1] in (b" ", b"\t"):  # a folded continuation belongs to the field above
                if not skipping:
                    out.append(line)
                continue
            name = line.split(b":", 1)[0].strip().lower()
            skipping = name in TRACE_FIELDS
            if not skipping:
                out.append(line)
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return b"\n".join(out)


def identity(*, address: str, message_id: str | None, sender: str | None, raw: bytes) -> str:
    """The key under which one submission is stored once."""
    digest = hashlib.sha256()
    digest.update(address.strip().lower().encode("utf-8") + b"\0")
    if message_id and message_id.strip():
        digest.update(b"message-id\0" + message_id.strip().encode("utf-8", "surrogatepass"))
        digest.update(b"\0" + (sender or "").strip().lower().encode("utf-8", "surrogatepass"))
    else:
        digest.update(b"content\0" + normalised_content(raw))
    return digest.hexdigest()
