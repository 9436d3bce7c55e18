"""Report documents as units' offices make them with WPS or Word: photos placed in a .docx beside a
description table, the same saved as PDF (one page of text and table, then the photos), an Excel
activity table with the photos beside the rows, a WPS slide deck; all as bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence

import docx
import openpyxl
from docx.shared import Inches
from openpyxl.drawing.image import Image as SheetImage
from pptx import Presentation
from pptx.util import Inches as SlideInches
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from tests.documentfactory import jpeg

Row = tuple[str, str, str, str]


def docx_report(
    *, title: str, paragraphs: Sequence[str], rows: Sequence[Row] = (), photos: int = 0, first_shade: int = 0
) -> bytes:
    """A WPS-made Word report: a title, paragraphs, a table 时间/地点/参加人数/活动内容, then the photos."""
    document = docx.Document()
    document.core_properties.author = "Administrator"
    document.core_properties.comments = "WPS Office_11.1.0.9912"
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if rows:
        table = document.add_table(rows=1, cols=4)
        for cell, head in zip(table.rows[0].cells, ("时间", "地点", "参加人数", "活动内容"), strict=True):
            cell.text = head
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = value
    for number in range(photos):
        document.add_picture(io.BytesIO(jpeg((1280, 960), shade=first_shade + number)), width=Inches(5))
        document.add_paragraph(f"活动现场照片{number + 1}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_report(*, lines: Sequence[str], photos: int) -> bytes:
    """The same report “输出为PDF” by WPS: text lines on the first page, two photos a page after it."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont("STSong-Light", 10.5)
    y = 800
    for line in lines:
        page.drawString(50, y, line)
        y -= 18
    for number in range(photos):
        if number % 2 == 0:
            page.showPage()
        page.drawImage(
            ImageReader(io.BytesIO(jpeg((1600, 1200), shade=number + 3))), 80, 440 - (number % 2) * 380, 420, 315
        )
    page.save()
    return out.getvalue()


def xlsx_table(*, title: str, rows: Sequence[Row], total: str | None, photos: int) -> bytes:
    """An activity table made in WPS 表格: a merged title row, 序号 and four columns, a 合计 row, the
    photos floating beside the rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "线下活动"
    sheet.append([title])
    sheet.merge_cells("A1:E1")
    sheet.append(["序号", "时间", "地点", "参加人数", "活动内容"])
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    if total is not None:
        sheet.append(["合计", total])
    for number in range(photos):
        sheet.add_image(SheetImage(io.BytesIO(jpeg((1024, 768), shade=number + 5))), f"G{2 + number * 18}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx_deck(*, title: str, text: str, photos: int) -> bytes:
    """A WPS 演示 deck: a title slide with the description, one photo a slide."""
    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = title
    first.placeholders[1].text = text
    for number in range(photos):
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        slide.shapes.add_picture(io.BytesIO(jpeg((1280, 720), shade=number + 2)), SlideInches(0.5), SlideInches(0.5))
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def docx_intro(*, title: str, paragraphs: Sequence[str]) -> bytes:
    """A platform's introduction as a Word file without pictures."""
    return docx_report(title=title, paragraphs=paragraphs)
