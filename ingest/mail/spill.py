"""Read a stored message from its file without holding its large bodies in memory.

The raw file is read in blocks. Every run of base64-alphabet lines longer than `run_bytes` (the
body of an attached video, photo or archive) is left out of the slim copy that the stdlib parser
reads: a marker line, carrying a random nonce the sender cannot guess, stands in for it, and the
run is remembered as a range of the file (nothing is copied). The parser then sees the message's
whole structure at a fraction of its size; a base64 body is decoded from its pieces, read from the
file again, by `Base64Sink` straight into a file, hashed on the way, and any other body that met a
marker (quoted-printable text looks like base64 too) is put back together exactly as received.

A base64 line can never be mistaken for structure: boundary lines begin with `--`, header lines
carry a colon or begin with white space, and neither `-`, `:` nor white space is in the alphabet.
The top header block is never left out; a line longer than LONGEST_LINE is taken in pieces, and a
line begun as text stays text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ingest.mail.prescan import header_block_size

RUN_BYTES = 8 * 1024  # base64 text kept in the slim copy: shorter runs are not worth a file
BLOCK = 1024 * 1024  # read at once
LONGEST_LINE = 4 * 1024 * 1024  # a longer line (a body may be one endless line) is taken in pieces
CHUNK = 1024 * 1024
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BASE64_TEXT = _ALPHABET + b"="
_NOT_ALPHABET = bytes(b for b in range(256) if b not in _ALPHABET)
_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what `\s` matches in the text the stdlib keeps
_ENDINGS = (b"\r\n", b"\n")
_MARKER = re.compile(r"~~spill~([0-9a-f]{32})~([0-9]+)~~")
_RUN = re.compile(rb"(?m)^(?:[A-Za-z0-9+/=]+\r?\n)+")  # whole lines of the base64 alphabet, one after another


@dataclass(kw_only=True)
class Slim:
    """The slim copy of a message, and the ranges of its file that its markers stand for."""

    data: bytes
    nonce: str
    source: Path
    ranges: list[tuple[int, int]] = field(default_factory=list)  # (offset, length) in source

    def has_marker(self, body: str) -> bool:
        return bool(self.ranges) and f"~~spill~{self.nonce}~" in body

    def pieces(self, body: str) -> Iterator[bytes]:
        """The body as received, in pieces: its own text, and each range of the file read in chunks."""
        pos = 0
        with self.source.open("rb") as fh:
            for m in _MARKER.finditer(body):
                if m.group(1) != self.nonce:
                    continue  # text that merely looks like a marker: the sender's own
                if m.start() > pos:
                    yield body[pos : m.start()].encode("ascii", "surrogateescape")
                offset, left = self.ranges[int(m.group(2))]
                fh.seek(offset)
                while left > 0:
                    chunk = fh.read(min(CHUNK, left))
                    if not chunk:
                        raise ValueError(f"{self.source} ended before a part's body")
                    left -= len(chunk)
                    yield chunk
                pos = m.end()
        if pos < len(body):
            yield body[pos:].encode("ascii", "surrogateescape")

    def restored(self, body: str) -> str:
        """The body as received, whole (for a part that is not base64: kept in memory as before)."""
        return b"".join(self.pieces(body)).decode("ascii", "surrogateescape")


def _is_base64(piece: bytes) -> bool:
    text = piece[:-2] if piece.endswith(b"\r\n") else piece[:-1] if piece.endswith(b"\n") else piece
    return bool(text) and not text.translate(None, _BASE64_TEXT)


def _ending(piece: bytes) -> bytes:
    for ending in _ENDINGS:
        if piece.endswith(ending):
            return ending
    return b""


class _Slimmer:
    """The scan: text is copied, base64 runs are held until they are long enough to be moved out."""

    def __init__(self, *, source: Path, run_bytes: int) -> None:
        self.slim = Slim(data=b"", nonce=secrets.token_hex(16), source=source)
        self.run_bytes = run_bytes
        self.out: list[bytes] = []
        self.offset = 0  # in the file, of the next byte to be taken
        self.held: list[bytes] = []  # the current run while it is short
        self.held_size = 0
        self.run_start = 0  # where the current run began
        self.start: int | None = None  # the same, once the run is long enough to be left out
        self.ending = b""  # of the run's last line: it becomes the marker's
        self.in_header = True  # the top header block is never moved out
        self.line_kind: str | None = None  # "text" or "run" while a line read in pieces goes on

    @property
    def open(self) -> bool:
        return bool(self.held) or self.start is not None

    def copy(self, data: bytes) -> None:
        self.out.append(data)
        self.offset += len(data)

    def text(self, data: bytes) -> None:
        if data:
            if self.open:
                self.close()
            self.copy(data)

    def run(self, data: bytes) -> None:
        """Base64 lines (or a piece of one endless line), continuing the current run."""
        if not self.open:
            self.run_start = self.offset
        self.offset += len(data)
        self.ending = _ending(data)
        if self.start is not None:
            return
        self.held.append(data)
        self.held_size += len(data)
        if self.held_size > self.run_bytes:  # long enough: only its place in the file is kept
            self.start = self.run_start
            self.held, self.held_size = [], 0

    def close(self) -> None:
        if self.start is not None:
            self.slim.ranges.append((self.start, self.offset - len(self.ending) - self.start))
            self.out.append(f"~~spill~{self.slim.nonce}~{len(self.slim.ranges) - 1}~~".encode() + self.ending)
            self.start = None
        else:
            self.out.extend(self.held)
        self.held, self.held_size, self.ending = [], 0, b""

    def lines(self, region: bytes) -> None:
        """Whole lines (the last one may lack its line break only at the end of the file)."""
        if self.line_kind is not None:  # the rest of a line begun in an earlier block
            rest = region.find(b"\n") + 1 or len(region)
            self.piece(region[:rest])
            region = region[rest:]
            if not region:
                return
        if self.in_header:
            end = header_block_size(region)
            self.copy(region[:end])
            if end == len(region):
                return
            self.in_header = False
            region = region[end:]
        cut = region.rfind(b"\n") + 1
        whole, tail = region[:cut], region[cut:]
        pos = 0
        for m in _RUN.finditer(whole):
            self.text(whole[pos : m.start()])
            self.run(m.group())
            pos = m.end()
        self.text(whole[pos:])
        if tail:
            self.piece(tail)

    def piece(self, data: bytes) -> None:
        """Part of a line (an endless one, or the file's last): a line begun as text stays text."""
        if self.in_header:
            self.copy(data)
            kind = "text"
        elif self.line_kind != "text" and _is_base64(data):
            self.run(data)
            kind = "run"
        else:
            self.text(data)
            kind = "text"
        self.line_kind = None if data.endswith(b"\n") else kind

    def done(self) -> Slim:
        if self.open:
            self.close()
        self.slim.data = b"".join(self.out)
        return self.slim


def slim_file(path: Path, *, run_bytes: int = RUN_BYTES) -> Slim:
    """The slim copy of the message in path; long base64 runs are kept as ranges of the file.

    The file is read in blocks and each block's runs are found by one regular expression (a
    line-by-line scan in Python costs more than the stdlib parser it spares)."""
    scan = _Slimmer(source=path, run_bytes=run_bytes)
    carry = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(BLOCK)
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut:
                scan.lines(data[:cut])
                carry = data[cut:]
            else:
                carry = data
            if len(carry) > LONGEST_LINE:  # a line without end: taken in pieces
                scan.piece(carry)
                carry = b""
    if carry:
        scan.lines(carry)
    return scan.done()


class Base64Sink:
    """Decode base64 text given in pieces into a file, hashed on the way, judged as the strict decoder would.

    The bytes written are what a lenient decoder makes of the text (characters outside the
    alphabet dropped, a missing padding added); `broken` says whether a strict decoder would
    have refused the text, exactly as `base64.b64decode(..., validate=True)` after white space
    is removed and a missing padding is added."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0
        self._carry = b""
        self._letters = 0
        self._pads = 0
        self._after_pad = False
        self._stray = False

    def feed(self, text: bytes) -> None:
        text = text.translate(None, _SPACE)
        if not text:
            return
        padded_before = self._pads > 0
        rest = text.translate(None, _ALPHABET)
        letters = text.translate(None, _NOT_ALPHABET)
        if rest:
            if rest.replace(b"=", b""):
                self._stray = True
            first_pad = text.find(b"=")
            if first_pad >= 0 and text[first_pad:].translate(None, _NOT_ALPHABET):
                self._after_pad = True
            self._pads += rest.count(b"=")
        if letters and padded_before:
            self._after_pad = True  # letters after padding seen in an earlier piece
        self._letters += len(letters)
        carry = self._carry + letters
        whole = len(carry) - len(carry) % 4
        if whole:
            self._write(binascii.a2b_base64(carry[:whole]))
        self._carry = carry[whole:]

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)

    def finish(self) -> bool:
        """Write what is left; True when the text was broken (a strict decoder would refuse it)."""
        carry = self._carry
        if len(carry) == 1:
            carry = b""  # one letter alone carries no byte
        if carry:
            self._write(binascii.a2b_base64(carry + b"=" * (-len(carry) % 4)))
        self._carry = b""
        return self._stray or self._after_pad or not _strictly_padded(self._letters, self._pads)


def _strictly_padded(letters: int, pads: int) -> bool:
    """Whether text of this many letters followed by this many `=` passes the strict decoder."""
    if pads == 0 and letters % 4 in (2, 3):
        pads = 4 - letters % 4  # a padding left out is added before decoding: nothing is missing
    sample = b"AAAA" * (letters >= 4) + b"A" * (letters % 4) + b"=" * pads
    try:
        base64.b64decode(sample, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@dataclass(frozen=True, kw_only=True)
class Decoded:
    """A part's body decoded to a file of the work folder."""

    path: Path
    sha256: str
    size: int


def decode_to_file(pieces: Iterator[bytes], path: Path) -> tuple[Decoded, bool]:
    """Base64 text given in pieces, decoded into path; and whether the text was broken."""
    with path.open("wb") as out:
        sink = Base64Sink(out)
        for piece in pieces:
            sink.feed(piece)
        broken = sink.finish()
    return Decoded(path=path, sha256=sink.digest.hexdigest(), size=sink.size), broken
