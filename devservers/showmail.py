"""Print a captured message as its recipient reads it: the headers decoded, the plain-text body.

The replies in the capture server's spool are ``.eml`` files in base64 or quoted-printable with
encoded-word headers; this decodes them with the standard library's ``email`` package (the
envelope is read from the ``.json`` beside each file when there is one).

CLI::

    python -m devservers.showmail FILE.eml [FILE.eml ...]
"""

from __future__ import annotations

import argparse
import email
import json
import sys
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Final

HEADERS: Final = ("From", "To", "Date", "Subject", "Auto-Submitted")
GB_FAMILY: Final = frozenset({"gb2312", "gbk", "gb18030", "cp936", "euc-cn", "x-gbk"})


def render(raw: bytes, *, envelope: dict[str, object] | None = None) -> str:
    """The message as text: its main headers decoded, then the plain-text body, then attachment names."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    lines = []
    if envelope is not None:
        recipients = envelope.get("rcpt_tos")
        if isinstance(recipients, list):
            lines.append(f"Envelope-To: {', '.join(str(r) for r in recipients)}")
    lines += [f"{name}: {message[name]}" for name in HEADERS if message[name] is not None]
    body = message.get_body(preferencelist=("plain",))
    lines.append("")
    if body is None:
        lines.append("(no plain-text part)")
    else:
        assert isinstance(body, EmailMessage)
        lines.append(_text(body).replace("\r\n", "\n").rstrip("\n"))
    names = [part.get_filename() or part.get_content_type() for part in message.iter_attachments()]
    if names:
        lines += ["", "Attachments: " + ", ".join(names)]
    return "\n".join(lines) + "\n"


def _text(part: EmailMessage) -> str:
    """A text part's content; text labelled with a GB charset is read as GB18030, the superset
    that Chinese mail clients really write (many names have characters outside GB2312)."""
    if (part.get_content_charset() or "").lower() in GB_FAMILY:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload.decode("gb18030", errors="replace")
    return str(part.get_content())


def _envelope(path: Path) -> dict[str, object] | None:
    beside = path.with_suffix(".json")
    if not beside.is_file():
        return None
    data = json.loads(beside.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def main(argv: Sequence[str] | None = None) -> int:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(prog="python -m devservers.showmail", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.eml")
    args = parser.parse_args(argv)
    status = 0
    for number, path in enumerate(args.files):
        if number:
            print()
        print(f"==> {path} <==")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        sys.stdout.write(render(raw, envelope=_envelope(path)))
    return status


if __name__ == "__main__":
    sys.exit(main())
