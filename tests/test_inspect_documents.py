"""Report documents read by their bytes, under the inspection's limits: pictures capped, bombs and
damage turned into problems (never an exception), an old Word file's text read by its piece table."""

from __future__ import annotations

import email
import io
import struct
import zipfile
from email import policy
from pathlib import Path

import documentfactory as df
from corpusdir import require_corpus

from ingest.inspect import InspectLimits, inspect_file
from ingest.inspect.archives import Budget
from ingest.inspect.documents import BOMB, DAMAGED, DocumentRead, Pictures
from ingest.inspect.words import _blips
from store.enums import AttachmentKind


def test_a_pdf_with_more_pictures_than_the_cap_gives_the_first_ones_and_says_so(tmp_path: Path) -> None:
    pdf = df.make_pdf(tmp_path, photos=[(640 + n, 480) for n in range(5)])
    facts = inspect_file(pdf, filename=pdf.name, limits=InspectLimits(document_max_pictures=3), workdir=tmp_path / "w")
    assert facts.problems == ()
    assert facts.document is not None and (facts.document.pictures, facts.document.more_pictures) == (3, True)
    assert [m.facts.kind for m in facts.members] == [AttachmentKind.PHOTO] * 3
    assert "线下活动3场" in (facts.document.text or "")


def test_a_docx_bomb_is_refused_from_its_listing(tmp_path: Path) -> None:
    facts = inspect_file(df.make_docx_bomb(tmp_path), filename="活动汇总.docx", workdir=tmp_path / "w")
    assert facts.problems == (BOMB,) and facts.members == ()
    assert list((tmp_path / "w").iterdir()) == []  # nothing was unpacked


def test_an_entity_declaration_in_a_docx_is_refused(tmp_path: Path) -> None:
    good = df.make_docx(tmp_path, name="good.docx", photos=())
    path = tmp_path / "laughs.docx"
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            out.writestr(info, laughs if info.filename == "word/document.xml" else src.read(info))
    facts = inspect_file(path, filename=path.name, workdir=tmp_path / "w")
    assert facts.kind is AttachmentKind.DOCUMENT and facts.problems == (DAMAGED,)


def test_damaged_documents_are_a_problem_or_unread_never_a_traceback(tmp_path: Path) -> None:
    pdf = tmp_path / "坏.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n" + bytes(range(256)) * 4)
    facts = inspect_file(pdf, filename=pdf.name, workdir=tmp_path / "w")
    assert facts.problems == () and facts.document is not None and facts.document.unread  # judged by its type
    good = df.make_docx(tmp_path, name="good.docx", photos=())
    broken = tmp_path / "坏.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info, data[: len(data) // 2] if info.filename == "word/document.xml" else data)
    facts = inspect_file(broken, filename=broken.name, workdir=tmp_path / "w2")
    assert facts.problems == (DAMAGED,)


def test_an_old_word_files_blips_give_its_pictures(tmp_path: Path) -> None:
    # a JPEG blip record as Word 97 stores a picture (MS-ODRAW: header, one 16-byte id, a tag byte)
    photo = df.jpeg((800, 600))
    record = struct.pack("<HHI", 0x46A << 4, 0xF01D, 17 + len(photo)) + bytes(17) + photo
    read = DocumentRead()
    (tmp_path / "w").mkdir()
    _blips(b"\0" * 37 + record + b"\0" * 11, Pictures(Budget(limits=InspectLimits(), workdir=tmp_path / "w"), read))
    assert [p.path.read_bytes() for p in read.pictures] == [photo]


def test_a_real_word_97_document_is_read_for_its_text(tmp_path: Path) -> None:
    corpus = require_corpus()
    raw = (corpus / "zbateson-mail-mime-parser" / "m0024.txt").read_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    (part,) = [p for p in message.walk() if p.get_content_type() == "application/msword"]
    path = tmp_path / "report.doc"
    path.write_bytes(io.BytesIO(part.get_payload(decode=True)).getvalue())
    facts = inspect_file(path, filename=path.name, workdir=tmp_path / "w")
    assert (facts.label, facts.problems) == ("Word 文档", ())
    assert facts.document is not None and facts.document.pictures == 0
    assert (facts.document.text or "").startswith("Biodiversité de semaine en semaine\n")
