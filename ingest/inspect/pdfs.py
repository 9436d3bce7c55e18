"""Read a PDF (pypdf): the text of its pages and the pictures they show, page by page under caps.

A PDF that pypdf cannot follow is left unread (judged by its type, as before, and the hosts are
told); one that needs a password to open is not read (one sealed only against editing or printing
opens with the empty password and is read). At most `document_max_pages` pages are looked at;
each picture is checked by its declared size before it is decoded (JPEG is taken as it is
stored), the same picture on several pages is taken once, and the pictures' bytes count against
the inspection's budget.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.inspect.archives import Budget, LimitExceeded
from ingest.inspect.documents import PASSWORD, DocumentRead, Pictures, TextCollector

_NOT_DECRYPTED = 0  # pypdf's PasswordType.NOT_DECRYPTED

if TYPE_CHECKING:
    from pypdf import PdfReader


def read_pdf(path: Path, budget: Budget) -> DocumentRead:
    """The text and the raster pictures of a PDF; a password or damage is a problem, never an exception."""
    read = DocumentRead()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about every oddity of real-world PDFs
        try:
            from pypdf import PdfReader  # loaded when a PDF comes, not by every command

            reader = PdfReader(path)
            if reader.is_encrypted and not _opens_without_password(reader):
                read.problems.append(PASSWORD)
                return read
            _read_pages(reader, budget, read)
        except LimitExceeded:
            raise
        except Exception:  # pypdf raises many types on damaged, hostile or merely unusual input
            return DocumentRead(unread=True)
    return read


def _opens_without_password(reader: PdfReader) -> bool:
    try:
        return int(reader.decrypt("")) != _NOT_DECRYPTED
    except Exception:  # an encryption this installation cannot undo
        return False


def _read_pages(reader: PdfReader, budget: Budget, read: DocumentRead) -> None:
    collector = TextCollector()
    pictures = Pictures(budget, read)
    seen: set[int] = set()
    for number, page in enumerate(reader.pages):
        if number >= budget.limits.document_max_pages or (collector.full and pictures.full):
            break
        if not collector.full:
            collector.add((page.extract_text() or "") + "\n")
        _page_pictures(page, pictures, seen, budget)
    read.text = collector.text()


def _page_pictures(page: Any, pictures: Pictures, seen: set[int], budget: Budget) -> None:
    """The image XObjects a page shows directly, each once (by its object number)."""
    from pypdf.generic import IndirectObject

    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is None:
        return
    for name, ref in xobjects.get_object().items():
        if isinstance(ref, IndirectObject):
            if ref.idnum in seen:
                continue
            seen.add(ref.idnum)
        image = ref.get_object()
        if image.get("/Subtype") != "/Image":
            continue
        if pictures.full:
            pictures.more()
            return
        width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
        if not 0 < width * height <= budget.limits.max_image_pixels:
            continue
        filters = image.get("/Filter")
        names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]
        if names == ["/DCTDecode"]:
            pictures.add(image.get_data())  # a JPEG, stored as it was made
        elif width * height * 4 <= budget.bytes_left:
            pictures.add(page.images[name].data)  # decoded and written as PNG by pypdf
