"""The text of a Word (.docx) or PowerPoint (.pptx) file, read within fixed bounds (python-docx, python-pptx).

Used where a document's words matter (a service platform introduced by an attached document). The
file is a zip: its members are checked before anything is parsed (count, sizes, compression ratio),
so a zip bomb or an encrypted file gives no text rather than a stalled worker; the text is capped.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 5000
MAX_XML_BYTES = 64 * 1024 * 1024  # the XML parts, uncompressed, together (pictures are not read)
MAX_RATIO = 200
MAX_CHARS = 20000


def _bounded(path: Path) -> bool:
    """Whether the zip is small and sane enough to parse."""
    if path.stat().st_size > MAX_FILE_BYTES or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            return False
        xml = [m for m in members if m.filename.endswith((".xml", ".rels"))]
        if sum(m.file_size for m in xml) > MAX_XML_BYTES:
            return False
        return all(m.file_size <= MAX_RATIO * max(m.compress_size, 1) + 65536 for m in xml)


def _docx(path: Path) -> list[str]:
    import docx  # python-docx: loaded only when a Word file is read

    document = docx.Document(str(path))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text for cell in row.cells))
    return lines


def _pptx(path: Path) -> list[str]:
    import pptx  # python-pptx: loaded only when a presentation is read

    lines: list[str] = []
    for slide in pptx.Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                lines.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    lines.append(" ".join(cell.text for cell in row.cells))
    return lines


def office_text(path: Path, *, mime: str) -> str:
    """The words of a .docx or .pptx (by its detected type), or "" for any other file or one that
    cannot be read within the bounds."""
    if mime not in (DOCX, PPTX):
        return ""
    try:
        if not _bounded(path):
            return ""
        lines = _docx(path) if mime == DOCX else _pptx(path)
    except Exception:  # a damaged or hostile document has no text; the file's own check names it
        log.info("cannot read the text of %s", path.name, exc_info=True)
        return ""
    return "\n".join(line.strip() for line in lines if line.strip())[:MAX_CHARS]
