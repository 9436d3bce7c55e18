"""Real report documents for the tests, written by the libraries offices' files are read back with:
Word (python-docx), PDF (reportlab, pypdf), Excel (openpyxl), PowerPoint (python-pptx), with JPEG
photos placed inside; and hostile ones (a zip bomb inside a .docx, a PDF with a password)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import docx
import openpyxl
from docx.shared import Inches
from openpyxl.drawing.image import Image as SheetImage
from PIL import Image
from pptx import Presentation
from pptx.util import Inches as SlideInches
from pypdf import PdfReader, PdfWriter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

Size = tuple[int, int]
PHOTOS: tuple[Size, ...] = ((1024, 768), (800, 600))
TEXT = "8月18日，西宁市总工会在城东区开展“网聚职工正能量”线下活动3场，参加职工120人。"


def jpeg(size: Size, *, shade: int = 0) -> bytes:
    """A JPEG photo of the given size (each shade a different picture)."""
    out = io.BytesIO()
    Image.new("RGB", size, (40 + shade * 37 % 200, 120, 200 - shade * 23 % 150)).save(out, "JPEG", quality=85)
    return out.getvalue()


def make_docx(
    tmp_path: Path, *, name: str = "活动汇总.docx", text: str = TEXT, photos: Sequence[Size] = PHOTOS
) -> Path:
    """A Word report: a heading, the description typed around the photos placed in it."""
    document = docx.Document()
    document.add_heading("西宁市总工会线下活动汇总", level=1)
    document.add_paragraph(text)
    for number, size in enumerate(photos):
        document.add_picture(io.BytesIO(jpeg(size, shade=number)), width=Inches(4))
        document.add_paragraph(f"图{number + 1}：活动现场")
    path = tmp_path / name
    document.save(str(path))
    return path


def make_pdf(tmp_path: Path, *, name: str = "活动汇总.pdf", text: str = TEXT, photos: Sequence[Size] = PHOTOS) -> Path:
    """A PDF report (as “save as PDF” makes it): Chinese text and one photo a page."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / name
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 11)
    page.drawString(40, 800, text)
    for number, size in enumerate(photos):
        if number:
            page.showPage()
        page.drawImage(ImageReader(io.BytesIO(jpeg(size, shade=number))), 72, 300, 400, 300)
    page.save()
    return path


def make_xlsx(tmp_path: Path, *, name: str = "活动汇总.xlsx", photos: Sequence[Size] = PHOTOS) -> Path:
    """An Excel table listing the activities (time, place, people, content), the photos beside the rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["时间", "地点", "参加人数", "活动内容"])
    sheet.append(["7月10日", "城东区职工服务中心", "80人", "网络安全知识讲座"])
    sheet.append(["8月5日", "城西区文化广场", "120人", "争做中国好网民签名活动"])
    for number, size in enumerate(photos):
        sheet.add_image(SheetImage(io.BytesIO(jpeg(size, shade=number))), f"F{2 + number * 20}")
    path = tmp_path / name
    book.save(path)
    return path


def make_pptx(
    tmp_path: Path, *, name: str = "活动汇总.pptx", text: str = TEXT, photos: Sequence[Size] = PHOTOS
) -> Path:
    """A PowerPoint report: a title slide with the description, one photo a slide."""
    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "西宁市总工会线下活动汇总"
    first.placeholders[1].text = text
    for number, size in enumerate(photos):
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        slide.shapes.add_picture(io.BytesIO(jpeg(size, shade=number)), SlideInches(1), SlideInches(1))
    path = tmp_path / name
    deck.save(str(path))
    return path


def make_docx_bomb(tmp_path: Path, *, name: str = "活动汇总.docx", megabytes: int = 60) -> Path:
    """A real Word file with a “picture” of zeros that inflates a thousandfold."""
    good = make_docx(tmp_path, name=f"good-{name}", photos=())
    path = tmp_path / name
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("word/media/image1.jpeg", b"\xff\xd8\xff" + bytes(megabytes * 1024 * 1024))
    return path


def make_encrypted_pdf(tmp_path: Path, *, name: str = "活动汇总.pdf") -> Path:
    """A PDF report that opens only with a password."""
    plain = make_pdf(tmp_path, name=f"plain-{name}")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="xnzgh2020", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / name
    with path.open("wb") as out:
        writer.write(out)
    return path
