"""Read old Word (.doc) and WPS (.wps) files (olefile): the text by the piece table, pictures by their blips.

Both are OLE compound files in the Word 97 binary format. The text is where the piece table (in
the table stream, found through the FIB) says; pictures are stored as Office drawing blips (a
record header, one or two 16-byte ids, a tag byte, then the picture file itself) in the Data
stream (pictures in the text) and the WordDocument stream (floating pictures): the JPEG, PNG and
TIFF blips are taken out, each checked to start as its format does. A file marked encrypted is
not read; a file that does not follow the format (an older WPS, a layout this reader does not
know) is left unread: judged by its type as before, and the hosts are told.
"""

from __future__ import annotations

import struct
from pathlib import Path

import olefile

from ingest.inspect.archives import Budget
from ingest.inspect.documents import PASSWORD, DocumentRead, Pictures, TextCollector

MIMES = frozenset({"application/msword", "application/cdfv2", "application/vnd.ms-office", "application/x-ole-storage"})
_FIB_IDENT = 0xA5EC
_FLAG_TABLE1 = 0x0200  # fWhichTblStm: the table stream is 1Table, else 0Table
_FLAG_ENCRYPTED = 0x0100
_FC_CLX = 0x01A2  # FibRgFcLcb97.fcClx and, after it, lcbClx
# blip record types (MS-ODRAW) of raster pictures, with the instance that has one id (+1: two ids)
_BLIPS = {0xF01D: 0x46A, 0xF02A: 0x6E2, 0xF01E: 0x6E0, 0xF029: 0x6E4}
_MAX_TEXT_BYTES = 64 * 1024 * 1024


def read_word97(path: Path, budget: Budget) -> DocumentRead:
    """The text and raster pictures of a Word 97 binary document (Word's .doc, WPS's .wps)."""
    read = DocumentRead()
    try:
        ole = olefile.OleFileIO(str(path))
    except Exception:  # not a compound file, or a damaged one
        return DocumentRead(unread=True)
    try:
        if not ole.exists("WordDocument"):
            return DocumentRead(unread=True)
        if ole.exists("EncryptedPackage"):
            return DocumentRead(problems=[PASSWORD])
        budget.take(ole.get_size("WordDocument"))
        word = ole.openstream("WordDocument").read()
        if len(word) < _FC_CLX + 8 or struct.unpack_from("<H", word, 0)[0] != _FIB_IDENT:
            return DocumentRead(unread=True)
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & _FLAG_ENCRYPTED:
            return DocumentRead(problems=[PASSWORD])
        table_name = "1Table" if flags & _FLAG_TABLE1 else "0Table"
        if not ole.exists(table_name):
            return DocumentRead(unread=True)
        budget.take(ole.get_size(table_name))
        table = ole.openstream(table_name).read()
        fc, lcb = struct.unpack_from("<II", word, _FC_CLX)
        read.text = _text(word, table[fc : fc + lcb])
        pictures = Pictures(budget, read)
        if ole.exists("Data"):
            budget.take(ole.get_size("Data"))
            _blips(ole.openstream("Data").read(), pictures)
        _blips(word, pictures)
    except (struct.error, OSError, ValueError, IndexError):
        return DocumentRead(unread=True)
    finally:
        ole.close()
    return read


def _text(word: bytes, clx: bytes) -> str:
    """The characters the piece table points at, in order (16-bit or compressed 8-bit pieces)."""
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: formatting, skipped
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ValueError("no piece table")
    size = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5 : pos + 5 + size]
    pieces = (len(plc) - 4) // 12
    collector = TextCollector()
    total = 0
    for i in range(pieces):
        start, end = struct.unpack_from("<II", plc, i * 4)
        fc = struct.unpack_from("<I", plc, (pieces + 1) * 4 + i * 8 + 2)[0]
        count = max(0, end - start)
        if fc & 0x40000000:  # compressed: one byte a character, at half the offset
            offset = (fc & 0x3FFFFFFF) // 2
            chunk = word[offset : offset + count].decode("cp1252", errors="replace")
        else:
            chunk = word[fc : fc + 2 * count].decode("utf-16-le", errors="replace")
        total += len(chunk)
        collector.add(chunk.replace("\r", "\n").replace("\x07", " "))
        if collector.full or total > _MAX_TEXT_BYTES:
            break
    return "".join(c for c in collector.text() if c >= " " or c == "\n")


def _blips(stream: bytes, pictures: Pictures) -> None:
    """Every raster blip record in a stream, by its header, its declared length and its first bytes."""
    for rec_type, instance in _BLIPS.items():
        needle = struct.pack("<H", rec_type)
        pos = stream.find(needle, 2)
        while pos != -1:
            start = pos - 2
            ver_inst, _, length = struct.unpack_from("<HHI", stream, start) if start + 8 <= len(stream) else (0, 0, 0)
            ids = {instance: 1, instance + 1: 2}.get(ver_inst >> 4)
            if ver_inst & 0xF == 0 and ids is not None and start + 8 + length <= len(stream):
                data = stream[start + 8 + 16 * ids + 1 : start + 8 + length]
                pictures.add(data)
                if pictures.full:
                    return
            pos = stream.find(needle, pos + 2)
