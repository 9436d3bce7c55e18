"""The package handed upward: a zip with a folder per work (`序号_单位_作品名称`) holding its original
files, and the list in Annex 2's terms as an xlsx (序号, 单位, 作品名称, 类别, 时长或尺寸, 收到日期, 初评意见).

One per collection (its selected works, 推荐) or the province's recommendation (every category). The
zip is written to a file, each original copied from the blob store in pieces (never read whole), and
stored without compression (video and photos are compressed already); names are made safe for
Windows, where the package will most likely be opened.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from campaign.notice import KIND_NAMES, KIND_SHORT, MailboxKind, date_text, local
from notify.safe import clean_text
from report.export import put, sheet  # text never taken for a formula, as in the export
from report.sources import Sources
from report.workbench import measure
from store.blobs import BlobStore
from store.enums import AttachmentKind, MessageStatus, SelectionStage
from store.models import Attachment, Message, Selection
from store.private import write_private

HEADINGS = ("序号", "单位", "作品名称", "类别", "时长或尺寸", "收到日期", "初评意见")
WIDTHS = (6, 24, 30, 10, 18, 16, 40)
LIST_NAME = "附件2_报送作品表.xlsx"
_WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
MAX_NAME = 80  # characters of one path component: the whole path stays well under Windows' 260
CHUNK = 1024 * 1024


def windows_name(text: str, *, fallback: str = "未命名") -> str:
    """A file or folder name that Windows accepts: no reserved characters or names, no trailing dot
    or space, no controls or bidi marks, at most MAX_NAME characters (the extension kept)."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) not in ("Cf", "Cc"))
    text = _WINDOWS_BAD.sub("_", text).strip().rstrip(". ")
    if not text or set(text) <= {".", "_"}:
        text = fallback
    if _RESERVED.match(text):
        text = f"_{text}"
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        keep = f".{ext}" if dot and 0 < len(ext) <= 8 else ""
        text = (stem if keep else text)[: MAX_NAME - len(keep)].rstrip(". ") + keep
    return text


@dataclass(frozen=True, kw_only=True)
class PackedFile:
    sha256: str
    name: str


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One work of the package, as Annex 2 lists it."""

    number: int
    kind: MailboxKind
    unit: str
    title: str
    measure: str
    received: dt.date
    opinion: str
    files: tuple[PackedFile, ...]

    @property
    def folder(self) -> str:
        return windows_name(f"{self.number}_{self.unit}_{self.title}")


@dataclass(frozen=True, kw_only=True)
class PackageSummary:
    works: int
    files: int
    bytes: int


def entries(sources: Sources, *, kinds: Sequence[MailboxKind], stage: SelectionStage) -> list[Entry]:
    """The accepted works of kinds that reached stage (a later stage counts), in Annex 1 order of
    units, then by arrival; the files of their supplements and versions come with them."""
    stages = stage.and_later()
    boxes = {b.name: b.kind for b in sources.settings.mailboxes if b.kind in kinds}
    annex = {u.name: i for i, u in enumerate(sources.settings.units)}
    with sources.sessions() as session:
        rows = session.execute(
            select(Message, Selection.comment)
            .join(Selection, Selection.message_id == Message.id)
            .where(
                Message.mailbox.in_(boxes),
                Message.status == MessageStatus.ACCEPTED,
                Selection.stage.in_(stages),
            )
        ).all()
        found = []
        for msg, comment in rows:
            ids = [
                msg.id,
                *session.scalars(
                    select(Message.id).where(Message.work_of == msg.id, Message.status == MessageStatus.ACCEPTED)
                ),
            ]
            files = session.scalars(
                select(Attachment)
                .where(Attachment.message_id.in_(ids), Attachment.valid.is_(True))
                .order_by(Attachment.message_id, Attachment.position)
            ).all()
            originals = [a for a in files if a.kind is not AttachmentKind.ARCHIVE and not a.inline]
            main = next((a for a in originals if a.kind in (AttachmentKind.VIDEO, AttachmentKind.AUDIO)), None) or next(
                (a for a in originals if a.kind is AttachmentKind.PHOTO), None
            )
            found.append((boxes[msg.mailbox], msg, comment, originals, main))
    kind_order = list(MailboxKind)
    found.sort(key=lambda f: (kind_order.index(f[0]), annex.get(f[1].unit or "", len(annex)), f[1].arrived_at, f[1].id))
    result: list[Entry] = []
    for number, (kind, msg, comment, originals, main) in enumerate(found, start=1):
        names: set[str] = set()
        packed = []
        for a in originals:
            name = windows_name(a.display_name, fallback=f"文件{a.position + 1}")
            stem, dot, ext = name.rpartition(".")
            n = 2
            while name.lower() in names:
                name = f"{stem}({n}).{ext}" if dot else f"{name}({n})"
                n += 1
            names.add(name.lower())
            packed.append(PackedFile(sha256=a.sha256, name=name))
        result.append(
            Entry(
                number=number,
                kind=kind,
                unit=msg.unit or "未识别单位",
                title=clean_text(msg.title or msg.subject or f"第{msg.id}号", max_chars=100),
                measure=measure(main.kind, main.facts) if main is not None else "",
                received=local(msg.arrived_at).date(),
                opinion=clean_text(comment or "", max_chars=500),
                files=tuple(packed),
            )
        )
    return result


def annex2(items: Sequence[Entry], *, heading: str) -> bytes:
    """The list in Annex 2's terms, one row per work."""
    wb = Workbook()
    ws = sheet(wb, "报送作品", heading, list(zip(HEADINGS, WIDTHS, strict=True)), first=True)
    for row, e in enumerate(items, start=3):
        values: tuple[str | int, ...] = (
            e.number,
            e.unit,
            e.title,
            KIND_SHORT[e.kind],
            e.measure,
            date_text(e.received),
            e.opinion,
        )
        for col, value in enumerate(values, start=1):
            put(ws, row, col, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write(
    items: Sequence[Entry],
    blobs: BlobStore,
    out: Path,
    *,
    kinds: Sequence[MailboxKind],
    stage: SelectionStage,
    by_kind: bool,
) -> PackageSummary:
    """Write the package of items (entries for kinds at stage) to out (a folder per category too when by_kind)."""
    what = "省总工会推荐作品" if stage is SelectionStage.RECOMMENDED else "推荐作品"
    scope = "、".join(KIND_NAMES[k] for k in kinds) if len(kinds) == 1 else "各征集项目"
    stamp = dt.datetime(2020, 1, 1).timetuple()[:6]
    total = files = 0
    write_private(out, b"")  # the works and the units' names: readable by the service's owner only
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        listing = zipfile.ZipInfo(LIST_NAME, date_time=stamp)
        listing.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(listing, annex2(items, heading=f"{scope}{what}报送表（{len(items)} 件）"))
        for e in items:
            folder = f"{windows_name(KIND_SHORT[e.kind])}/{e.folder}" if by_kind else e.folder
            for f in e.files:
                info = zipfile.ZipInfo(f"{folder}/{f.name}", date_time=stamp)
                with blobs.open(f.sha256) as src, zf.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                    total += src.tell()
                files += 1
    return PackageSummary(works=len(items), files=files, bytes=total)
