"""A message read from its file in pieces is understood exactly as the same message held in memory.

`parse_file` moves long base64 runs out of the text the stdlib parses and decodes attachments from
their pieces into files; every corpus message and a set of hand-made awkward ones (broken base64,
quoted-printable that looks like base64, bodies without line breaks, CR-LF and LF) are parsed both
ways, with every run moved out (run_bytes=1), and must give the same subject, text, parts and
problems.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from corpusdir import require_corpus
from test_corpus import message_files

from ingest.mail.parse import ParsedMail, ParseLimitExceeded, parse_bytes, parse_file


def _summary(mail: ParsedMail) -> dict[str, object]:
    parts = []
    for p in mail.parts:
        data = p.path.read_bytes() if p.path is not None else p.payload
        if p.path is not None:
            assert p.sha256 == hashlib.sha256(data).hexdigest()
            assert p.stored_size == len(data)
        parts.append((p.index, p.filename, p.content_type, p.content_id, p.inline, p.problems, len(data), data))
    return {
        "subject": mail.subject,
        "raw_subject": mail.raw_subject,
        "sender": mail.sender,
        "message_id": mail.message_id,
        "headers": mail.headers,
        "text": mail.text,
        "html": mail.html,
        "defects": mail.defects,
        "parts": parts,
    }


def _both(raw: bytes, tmp: Path) -> tuple[object, object]:
    path = tmp / "message.eml"
    path.write_bytes(raw)
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    try:
        whole: object = _summary(parse_bytes(raw))
    except ParseLimitExceeded as exc:
        whole = ("refused", str(exc))
    try:
        pieces: object = _summary(parse_file(path, workdir=work, run_bytes=1))
    except ParseLimitExceeded as exc:
        pieces = ("refused", str(exc))
    return whole, pieces


def _mail(body: bytes, *, cte: str = "base64", ctype: str = "image/jpeg", eol: bytes = b"\r\n") -> bytes:
    head = (
        b"From: a@example.org\r\nSubject: =?GBK?B?0fPE/srQ19y5pLvh?=\r\nMessage-ID: <x@example.org>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes("说明文字".encode())
        + b"\r\n--b1\r\nContent-Type: "
        + ctype.encode()
        + b'; name="a.jpg"\r\nContent-Disposition: attachment; filename="a.jpg"\r\n'
        b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n"
    )
    return (head + body + b"\r\n--b1--\r\n").replace(b"\r\n", eol)


BODIES = {
    "clean": base64.encodebytes(os.urandom(3000)),
    "unpadded": base64.encodebytes(os.urandom(3001)).rstrip(b"=\n") + b"\n",
    "one letter over": base64.encodebytes(os.urandom(300)) + b"Q\n",
    "stray characters": base64.encodebytes(os.urandom(300)) + b"AB*CD\n" + base64.encodebytes(os.urandom(30)),
    "letters after padding": base64.encodebytes(os.urandom(301)) + base64.encodebytes(os.urandom(300)),
    "three pads": base64.encodebytes(os.urandom(300)).rstrip(b"\n") + b"===\n",
    "8-bit bytes": base64.encodebytes(os.urandom(300)) + b"\xe4\xbd\xa0\n",
    "one endless line": base64.b64encode(os.urandom(200_000)) + b"\n",
    "empty": b"",
    "text that looks like a marker": b"~~spill~0123456789abcdef0123456789abcdef~0~~\n"
    + base64.encodebytes(os.urandom(900)),
}


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("name", list(BODIES))
def test_a_base64_attachment_is_the_same_read_in_pieces(name: str, eol: bytes, tmp_path: Path) -> None:
    whole, pieces = _both(_mail(BODIES[name], eol=eol), tmp_path)
    assert pieces == whole


def test_quoted_printable_that_looks_like_base64_is_restored_exactly(tmp_path: Path) -> None:
    body = "=E8=AF=B4=E6=98=8E=\r\n" * 2000 + "end\r\n"  # every line is in the base64 alphabet
    whole, pieces = _both(_mail(body.encode(), cte="quoted-printable", ctype="text/plain"), tmp_path)
    assert pieces == whole
    assert isinstance(whole, dict) and whole["parts"][0][7].startswith("说明".encode())


def test_a_large_attachment_is_decoded_to_a_file_not_into_memory(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024)
    path = tmp_path / "big.eml"
    path.write_bytes(_mail(base64.encodebytes(data)))
    work = tmp_path / "work"
    work.mkdir()
    mail = parse_file(path, workdir=work)
    (part,) = mail.parts
    assert part.payload == b"" and part.path is not None
    assert part.sha256 == hashlib.sha256(data).hexdigest() and part.size == len(data)
    assert part.path.read_bytes() == data
    assert mail.text.strip() == "说明文字"


@pytest.mark.slow
def test_every_corpus_message_is_the_same_read_in_pieces(tmp_path: Path) -> None:
    corpus = require_corpus()
    differ = []
    for index, path in enumerate(message_files(corpus)):
        case = tmp_path / str(index)
        case.mkdir()
        whole, pieces = _both(path.read_bytes(), case)
        if whole != pieces:
            differ.append(str(path.relative_to(corpus)))
    assert differ == []
