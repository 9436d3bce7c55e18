"""Read Word (.docx), Excel (.xlsx) and PowerPoint (.pptx) files: their text and the pictures in their media folder.

They are zips: the listing is checked with the archive limits first (member count, total size,
compression ratio, overlapping data), then only the parts that hold text and pictures are
extracted under the same byte caps. The XML is read with expat, a document type declaration
(which Office never writes, and which entity bombs need) refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.parsers import expat

from ingest.inspect.archives import Budget, Entry, Extraction, listing_refusal
from ingest.inspect.documents import BOMB, DAMAGED, PASSWORD, DocumentRead, Pictures, TextCollector
from ingest.inspect.zips import ZipBackend

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCM = "application/vnd.ms-word.document.macroenabled.12"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MIMES = frozenset({DOCX, DOCM, XLSX, PPTX})

# the parts with the text, in reading order: the Word body; the workbook's strings and its sheets'
# inline strings; the slides by their number
_TEXT_PARTS = re.compile(
    r"word/document\.xml|xl/sharedStrings\.xml|xl/worksheets/sheet\d+\.xml|ppt/slides/slide\d+\.xml"
)
_MEDIA = re.compile(r"(word|xl|ppt)/media/[^/]+")
_TEXT_TAGS = frozenset({"t"})  # w:t, a:t, and a spreadsheet's t: the characters the reader sees
_BREAK_TAGS = frozenset({"p", "si", "row", "br", "tab", "tc", "c"})  # a paragraph, a cell: a line or a gap
_CHUNK = 64 * 1024


class _Hostile(Exception):
    """The XML declares a document type (entities): refused."""


def _order(entry: Entry) -> tuple[int, str, int]:
    number = re.search(r"(\d+)\.xml$", entry.name)
    return (
        0 if "sharedStrings" in entry.name else 1,
        re.sub(r"\d+\.xml$", "", entry.name),
        int(number.group(1)) if number else 0,
    )


def read_ooxml(path: Path, budget: Budget) -> DocumentRead:
    """The text and the raster pictures of an Office Open XML file."""
    read = DocumentRead()
    backend = ZipBackend(path)
    try:
        listing = backend.listing()
        if listing.encrypted:
            read.problems.append(PASSWORD)
            return read
        if listing.refusals:
            read.problems.append(DAMAGED)
            return read
        if listing_refusal(listing, archive_size=path.stat().st_size, budget=budget) is not None:
            read.problems.append(BOMB)
            return read
        files = [e for e in listing.entries if not e.is_dir and not e.is_symlink]
        texts = sorted((e for e in files if _TEXT_PARTS.fullmatch(e.name)), key=_order)
        wanted = budget.limits.document_max_pictures > 0  # none are taken in a collection's mailbox
        media = [e for e in files if wanted and _MEDIA.fullmatch(e.name)]
        sink = Extraction(budget=budget, archive_size=path.stat().st_size)
        backend.extract([*texts, *media], sink)
    finally:
        backend.close()
    if sink.broken_names:
        read.problems.append(DAMAGED)
        return read
    collector = TextCollector()
    for entry in texts:
        done = sink.done.get(id(entry))
        if done is None:
            continue
        part = done[0]
        try:
            _xml_text(part, collector)
        except (expat.ExpatError, _Hostile):
            read.problems.append(DAMAGED)
            return read
        finally:
            part.unlink(missing_ok=True)
    read.text = collector.text()
    pictures = Pictures(budget, read)
    for entry in sorted(media, key=_order):
        done = sink.done.get(id(entry))
        if done is not None:
            pictures.adopt(*done)
    return read


def _xml_text(path: Path, collector: TextCollector) -> None:
    """The character data inside text elements, a line break after each paragraph, row or cell."""
    parser = expat.ParserCreate(namespace_separator=" ")
    depth = 0

    def refuse(*_: object) -> None:
        raise _Hostile

    def start(name: str, _attrs: object) -> None:
        nonlocal depth
        if name.rpartition(" ")[2] in _TEXT_TAGS:
            depth += 1

    def end(name: str) -> None:
        nonlocal depth
        local = name.rpartition(" ")[2]
        if local in _TEXT_TAGS:
            depth -= 1
        elif local in _BREAK_TAGS:
            collector.add("\n" if local in ("p", "si", "row", "br") else " ")

    def characters(data: str) -> None:
        if depth > 0:
            collector.add(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    with path.open("rb") as handle:
        while not collector.full:
            chunk = handle.read(_CHUNK)
            parser.Parse(chunk, not chunk)
            if not chunk:
                break
