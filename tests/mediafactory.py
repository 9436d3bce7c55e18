"""Real files for the inspection tests, made on the spot: videos, audio, images, documents, archives."""

from __future__ import annotations

import array
import io
import math
import shutil
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import py7zr
from PIL import Image


class Maker(Protocol):
    """Any factory here that needs nothing but a folder and a file name."""

    def __call__(self, tmp_path: Path, *, name: str) -> Path: ...


# --- video and audio (PyAV) -------------------------------------------------------------------


def make_mov(
    tmp_path: Path, *, name: str = "作品.mov", seconds: int = 200, width: int = 1280, height: int = 720
) -> Path:
    """A QuickTime (MOV) video without sound, one frame a second: a real file that is no MP4."""
    path = tmp_path / name
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for second in range(seconds):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.pts = second
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_video(
    tmp_path: Path,
    *,
    name: str = "video.mp4",
    seconds: float = 180,
    width: int = 640,
    height: int = 360,
    rotation: int | None = None,
    faststart: bool = True,
    audio: bool = True,
    tone: bool = True,
    subtitle: str | None = None,
    fps: int | None = None,
) -> Path:
    """An H.264 MP4 at 1 fps (2 fps for a fractional length) with sound, as a phone records one.

    A 3-minute 640x360 video is about 200 KB and takes a fraction of a second. `audio=False` leaves
    the sound track out, `tone=False` makes it digital silence (else a beep every ten seconds);
    `rotation` is written as a display matrix (counter-clockwise degrees, as FFmpeg counts them);
    `faststart` puts the index (moov) at the front, as phones and editors that stream usually do.
    """
    path = tmp_path / name
    rate = fps or (1 if float(seconds).is_integer() else 2)
    frames = round(seconds * rate)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        video = out.add_stream("libx264", rate=rate)
        video.width = width
        video.height = height
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "40"}
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=8000, layout="mono") if audio else None
        if sound is not None:
            sound.bit_rate = 8000
        text = out.add_stream("mov_text") if subtitle is not None else None
        if text is not None:
            text.codec_context.time_base = Fraction(1, 1000)
            text.codec_context.subtitle_header = b"[Script Info]\n"
        for index in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(index // (30 * rate) * 40) % 256]) * plane.buffer_size)
            frame.pts = index
            frame.time_base = Fraction(1, rate)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            _encode_sound(out, sound, seconds, tone=tone)
        if text is not None and subtitle is not None:
            payload = subtitle.encode()
            packet = av.Packet(len(payload).to_bytes(2, "big") + payload)
            packet.stream = text
            packet.time_base = Fraction(1, 1000)
            packet.pts = packet.dts = 0
            packet.duration = round(1000 * min(seconds, 5))
            out.mux(packet)
    return path


def make_audio(tmp_path: Path, *, name: str = "song.m4a", seconds: float = 240, tone: bool = False) -> Path:
    """Mono audio at 8 kHz and 8 kbit/s (silent, or a quiet tone): AAC in M4A (or in an MP4 when the name
    ends in .mp4: sound with no picture), or MP3 when the name ends in .mp3."""
    path = tmp_path / name
    is_mp3 = name.lower().endswith(".mp3")
    container = "mp3" if is_mp3 else "mp4" if name.lower().endswith(".mp4") else "ipod"
    with av.open(str(path), "w", format=container) as out:
        sound = out.add_stream("libmp3lame" if is_mp3 else "aac", rate=8000, layout="mono")
        sound.bit_rate = 8000
        _encode_sound(out, sound, seconds, tone=tone)
    return path


def _encode_sound(out: av.container.OutputContainer, sound: av.AudioStream, seconds: float, *, tone: bool) -> None:
    """Digital silence, or a 500 Hz beep at a quarter of full scale (loudest near -9 dB) at the start of
    every ten seconds: clearly sound, and cheap to encode (silence costs the encoder almost nothing)."""
    ctx = sound.codec_context
    if not ctx.is_open:
        ctx.open()
    chunk = ctx.frame_size or 1024
    fmt = ctx.format.name
    total = round(seconds * ctx.sample_rate)
    wave = [0.25 * math.sin(2 * math.pi * 500 * i / ctx.sample_rate) for i in range(chunk)]
    frames: dict[str, av.AudioFrame] = {}
    for name, samples in (("beep", wave), ("quiet", [0.0] * chunk)):
        if fmt.startswith("flt"):
            payload = array.array("f", samples).tobytes()
        else:  # s16 and s16p
            payload = array.array("h", [round(v * 32767) for v in samples]).tobytes()
        frame = av.AudioFrame(format=fmt, layout="mono", samples=chunk)  # one frame, sent again at each time
        for plane in frame.planes:
            plane.update(payload[: plane.buffer_size].ljust(plane.buffer_size, b"\0"))
        frame.sample_rate = ctx.sample_rate
        frame.time_base = Fraction(1, ctx.sample_rate)
        frames[name] = frame
    done = 0
    while done < total:
        beep = tone and done % (10 * ctx.sample_rate) < ctx.sample_rate
        frame = frames["beep" if beep else "quiet"]
        frame.pts = done
        for packet in sound.encode(frame):
            out.mux(packet)
        done += chunk
    for packet in sound.encode():
        out.mux(packet)


def truncated_copy(src: Path, tmp_path: Path, *, name: str | None = None, keep: float = 0.5) -> Path:
    """The first `keep` part of a file, as a broken upload or a cut-off attachment leaves it."""
    data = src.read_bytes()
    path = tmp_path / (name or f"truncated-{src.name}")
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# --- pictures (Pillow) ------------------------------------------------------------------------


def make_jpeg(
    tmp_path: Path,
    *,
    name: str = "photo.jpg",
    size: tuple[int, int] = (640, 480),
    taken_at: datetime | None = None,
    make: str | None = None,
    model: str | None = None,
) -> Path:
    """A noisy JPEG (so that it is not trivially small) with optional EXIF date and camera."""
    path = tmp_path / name
    image = Image.effect_noise(size, 64).convert("RGB")
    exif = Image.Exif()
    if make is not None:
        exif[0x010F] = make
    if model is not None:
        exif[0x0110] = model
    if taken_at is not None:
        exif.get_ifd(0x8769)[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    image.save(path, "JPEG", quality=85, exif=exif)
    return path


def make_camera_jpeg(
    tmp_path: Path, *, name: str, size: tuple[int, int], make: str = "Xiaomi", model: str = "Mi 10"
) -> Path:
    """A full-size phone original (e.g. 108 MP, 12032x9024) with the camera's EXIF Make and Model.

    A smooth gradient, not noise, so that the file stays a few MB as a real sky or wall would.
    """
    path = tmp_path / name
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.save(path, "JPEG", quality=90, exif=exif)
    image.close()
    return path


def make_png(tmp_path: Path, *, name: str = "picture.png", size: tuple[int, int] = (320, 240)) -> Path:
    path = tmp_path / name
    Image.effect_noise(size, 64).convert("RGB").save(path, "PNG")
    return path


def make_pixel_bomb_png(tmp_path: Path, *, name: str = "bomb.png", width: int = 100_000, height: int = 100_000) -> Path:
    """A tiny PNG whose header declares an enormous picture: decoding it would need gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path = tmp_path / name
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )
    return path


# --- other files ------------------------------------------------------------------------------


def make_pptx(tmp_path: Path, *, name: str = "课件.pptx") -> Path:
    """The parts of a PowerPoint file that say what it is: content types and the presentation part."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/ppt/presentation.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>',
        )
        zf.writestr("ppt/presentation.xml", '<?xml version="1.0"?><p:presentation xmlns:p="urn:p"/>')
    return path


def make_text(tmp_path: Path, *, name: str = "说明.txt", text: str = "活动说明：六月在西宁举办。\n") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_elf(tmp_path: Path, *, name: str = "照片1.jpg") -> Path:
    """A real Linux executable (the bytes of /bin/true) under a harmless-looking name."""
    path = tmp_path / name
    shutil.copyfile("/bin/true", path)
    return path


def make_pe(tmp_path: Path, *, name: str = "视频.mp4") -> Path:
    """The headers of a Windows PE32 program (MZ stub, PE signature, COFF and optional header)."""
    dos = bytearray(0x80)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x80)
    coff = struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
    optional = bytearray(0xE0)
    struct.pack_into("<HBB", optional, 0, 0x10B, 14, 0)  # PE32 magic, linker version
    struct.pack_into("<H", optional, 68, 2)  # subsystem: Windows GUI
    section = b".text\0\0\0" + struct.pack("<IIIIIIHHI", 0x1000, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    body = bytes(dos) + b"PE\0\0" + coff + bytes(optional) + section
    path = tmp_path / name
    path.write_bytes(body + bytes(0x400 - len(body)) + b"\xc3" * 0x200)
    return path


def docx_bytes(text: str = "活动说明") -> bytes:
    """The smallest Word document that Word and LibreOffice open: three parts in a zip."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", document)
    return buffer.getvalue()


def make_docx(tmp_path: Path, *, name: str = "活动说明.docx", text: str = "活动说明") -> Path:
    path = tmp_path / name
    path.write_bytes(docx_bytes(text))
    return path


def pdf_bytes(text: str = "Activity report") -> bytes:
    """A one-page PDF 1.4 with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_pdf(tmp_path: Path, *, name: str = "说明.pdf", text: str = "Activity report") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf_bytes(text))
    return path


# --- zip --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ZipEntry:
    """One member to write: the raw name bytes go into the archive exactly as given."""

    raw_name: bytes
    data: bytes = b""
    utf8_flag: bool = False
    symlink: bool = False
    compress: int = zipfile.ZIP_DEFLATED
    extra: bytes = b""  # raw extra fields, e.g. Info-ZIP's Unicode path (0x7075)


def unicode_path_extra(legacy_name: bytes, name: str) -> bytes:
    """Info-ZIP's Unicode Path extra field: the real name in UTF-8 for a legacy-encoded one."""
    body = b"\x01" + struct.pack("<I", zlib.crc32(legacy_name)) + name.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def make_zip(tmp_path: Path, *, name: str = "作品.zip", entries: Sequence[ZipEntry]) -> Path:
    """A zip whose member names are byte-exact: GBK without the UTF-8 flag, UTF-8 with or without it.

    zipfile would set the UTF-8 flag on every non-ASCII name, so the archive is written with
    ASCII stand-ins of the same length and the real bytes are patched into both headers.
    """
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for index, entry in enumerate(entries):
            info = zipfile.ZipInfo(_stand_in(index, len(entry.raw_name)), date_time=(2024, 5, 1, 12, 0, 0))
            info.compress_type = entry.compress
            info.extra = entry.extra
            if entry.symlink:
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, entry.data)
    _patch_names(path, [e.raw_name for e in entries], [e.utf8_flag for e in entries])
    return path


def _stand_in(index: int, length: int) -> str:
    stem = f"n{index:04d}"
    if length < len(stem):
        raise ValueError("names must be at least 5 bytes long in this factory")
    return stem + "_" * (length - len(stem))


def _patch_names(path: Path, names: Sequence[bytes], flags: Sequence[bool]) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        start_dir = zf.start_dir
    for info, raw, utf8 in zip(infos, names, flags, strict=True):
        local = info.header_offset
        data[local + 30 : local + 30 + len(raw)] = raw
        _set_flag(data, local + 6, utf8)
    pos = start_dir
    for raw, utf8 in zip(names, flags, strict=True):
        assert data[pos : pos + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        data[pos + 46 : pos + 46 + len(raw)] = raw
        _set_flag(data, pos + 8, utf8)
        pos += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


def _set_flag(data: bytearray, offset: int, utf8: bool) -> None:
    (bits,) = struct.unpack_from("<H", data, offset)
    bits = bits | 0x800 if utf8 else bits & ~0x800
    struct.pack_into("<H", data, offset, bits)


def make_simple_zip(tmp_path: Path, *, name: str = "作品.zip", files: Mapping[str, bytes]) -> Path:
    """A zip as current tools write it: UTF-8 names with the flag set."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in files.items():
            zf.writestr(zipfile.ZipInfo(member, date_time=(2024, 5, 1, 12, 0, 0)), data)
    return path


def make_zip_bomb(tmp_path: Path, *, name: str = "bomb.zip", megabytes: int = 50) -> Path:
    """One member of zeros: 50 MB compresses to about 50 KB (a ratio near 1000)."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", bytes(megabytes * 1024 * 1024))
    return path


def make_lying_zip(tmp_path: Path, *, name: str = "lying.zip", megabytes: int = 20) -> Path:
    """A zip whose directory claims its member is 1000 bytes while the data inflate to `megabytes` MB."""
    path = make_zip_bomb(tmp_path, name=name, megabytes=megabytes)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
        start_dir = zf.start_dir
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # local header: uncompressed size
    struct.pack_into("<I", data, start_dir + 24, 1000)  # central directory: uncompressed size
    path.write_bytes(bytes(data))
    return path


def make_overlapping_zip(tmp_path: Path, *, name: str = "overlap.zip") -> Path:
    """Two entries whose data overlap: the first member's stored data contain the second's record.

    This is the building block of the "overlapping files" zip bomb, where thousands of entries
    share one compressed kernel.
    """
    inner_name = b"inner.txt"
    inner_data = b"hello " * 20
    inner_record = _local_record(inner_name, inner_data)
    outer_name = b"outer.bin"
    outer_record = _local_record(outer_name, inner_record)
    inner_offset = 30 + len(outer_name)
    central = _central_record(outer_name, inner_record, 0) + _central_record(inner_name, inner_data, inner_offset)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, len(central), len(outer_record), 0)
    path = tmp_path / name
    path.write_bytes(outer_record + central + end)
    return path


def _local_record(name: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data)
    header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, len(data), len(data), len(name), 0)
    return header + name + data


def _central_record(name: bytes, data: bytes, offset: int) -> bytes:
    crc = zlib.crc32(data)
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            0,
            0,
            0x21,
            crc,
            len(data),
            len(data),
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + name
    )


def make_encrypted_zip(tmp_path: Path, *, name: str = "加密.zip") -> Path:
    """A zip whose member is marked as password-protected (traditional PKWARE encryption)."""
    path = make_simple_zip(tmp_path, name=name, files={"secret.txt": b"x" * 100})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
        start_dir = zf.start_dir
    for offset in (info.header_offset + 6, start_dir + 8):
        (bits,) = struct.unpack_from("<H", data, offset)
        struct.pack_into("<H", data, offset, bits | 0x1)
    path.write_bytes(bytes(data))
    return path


# --- rar (written by hand: no free tool creates RAR) ------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RarEntry:
    """One stored (uncompressed) member of a RAR 4 archive."""

    raw_name: bytes
    data: bytes = b""
    unicode_flag: bool = True  # names are UTF-8 when set; the old OEM code page (GBK) when not
    symlink: bool = False
    encrypted: bool = False
    directory: bool = False
    method: int = 0x30  # 0x30 stored; 0x31-0x35 compressed (the data are then not valid RAR streams)


def make_rar(tmp_path: Path, *, name: str = "作品.rar", entries: Sequence[RarEntry]) -> Path:
    """A RAR 4.x archive with stored members, block for block as described in WinRAR's technote.

    Stored members are what WinRAR writes with "-m0"; rarfile reads them without an external tool.
    """
    out = bytearray(b"Rar!\x1a\x07\x00")
    out += _rar_block(0x73, 0x0000, b"\0" * 6)
    dos_time = (44 << 25) | (5 << 21) | (1 << 16) | (12 << 11)
    for entry in entries:
        flags = 0x8000
        if entry.unicode_flag:
            flags |= 0x0200
        if entry.encrypted:
            flags |= 0x0004
        if entry.directory:
            flags |= 0x00E0
        host_os, attr = (3, stat.S_IFLNK | 0o777) if entry.symlink else (2, 0x20)
        if entry.directory:
            host_os, attr = 2, 0x10
        fields = struct.pack(
            "<IIBIIBBHI",
            len(entry.data),
            len(entry.data),
            host_os,
            zlib.crc32(entry.data),
            dos_time,
            29,
            entry.method,
            len(entry.raw_name),
            attr,
        )
        out += _rar_block(0x74, flags, fields + entry.raw_name) + entry.data
    out += _rar_block(0x7B, 0x4000, b"")
    path = tmp_path / name
    path.write_bytes(bytes(out))
    return path


def _rar_block(kind: int, flags: int, body: bytes) -> bytes:
    header = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(header) & 0xFFFF) + header


# --- 7z (py7zr) -------------------------------------------------------------------------------


def make_7z(
    tmp_path: Path,
    *,
    name: str = "作品.7z",
    files: Mapping[str, bytes],
    password: str | None = None,
    encrypt_names: bool = False,
    symlink: tuple[str, str] | None = None,
) -> Path:
    """A 7z archive; `symlink` adds (link name, target) as a real symbolic link member.

    With a password the data are encrypted; `encrypt_names` encrypts the listing too.
    """
    path = tmp_path / name
    source = tmp_path / f"{name}-source"
    source.mkdir()
    with py7zr.SevenZipFile(path, "w", password=password, header_encryption=encrypt_names) as archive:
        # Every member comes from disk: py7zr cannot mix writestr() with symbolic links.
        for index, (member, data) in enumerate(files.items()):
            origin = source / f"file{index}"
            origin.write_bytes(data)
            archive.write(origin, member)
        if symlink is not None:
            link = source / "link"
            link.symlink_to(symlink[1])
            archive.write(link, symlink[0])
    return path


def _tnef_attribute(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, attr_id, attr_type, len(data)) + data + struct.pack("<H", checksum)


def tnef_bytes(files: Mapping[str, bytes]) -> bytes:
    """A winmail.dat as Outlook writes it (TNEF): version, code page, then each file's title and data."""
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += _tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 936, 0))  # attOemCodepage: GBK
    for name, data in files.items():
        out += _tnef_attribute(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + bytes(8))  # attAttachRendData
        out += _tnef_attribute(2, 0x8010, 0x0001, name.encode("utf-8") + b"\0")  # attAttachTitle
        out += _tnef_attribute(2, 0x800F, 0x0006, data)  # attAttachData
    return out


# --- what cameras and other players write: maker brands, WMA, RAW, real courseware ---------------


def rebrand_mp4(source: Path, target: Path, *, brand: bytes) -> Path:
    """The same MP4 under a camera maker's `ftyp` brand (major and compatible), as Sony (XAVC) or
    Canon (CAEP) write them: every box stays valid, only the four-letter names change."""
    assert len(brand) == 4
    data = bytearray(source.read_bytes())
    assert data[4:8] == b"ftyp"
    size = int.from_bytes(data[0:4], "big")
    data[8:12] = brand  # the major brand; then the minor version, then the compatible brands
    for offset in range(16, size, 4):
        data[offset : offset + 4] = brand
    target.write_bytes(bytes(data))
    return target


def make_wma(tmp_path: Path, *, name: str = "劳动者之歌.wma", seconds: float = 20) -> Path:
    """A Windows Media Audio song (ASF with one WMA v2 stream), as ffmpeg writes it."""
    path = tmp_path / name
    with av.open(str(path), "w", format="asf") as out:
        sound = out.add_stream("wmav2", rate=22050, layout="mono")
        sound.bit_rate = 32000
        _encode_sound(out, sound, seconds, tone=True)
    return path


def make_dng(
    tmp_path: Path,
    *,
    name: str = "原片.dng",
    size: tuple[int, int] = (640, 480),
    preview: tuple[int, int] = (160, 120),
    make: str = "SONY",
    model: str = "ILCE-7M3",
) -> Path:
    """A DNG as cameras and Adobe's converter lay it out: a small RGB preview in the first directory
    (what Pillow and libmagic see) and the sensor's Bayer image (RGGB, 12 bits) in a sub-directory."""
    import numpy as np
    import tifffile

    path = tmp_path / name
    width, height = size
    rows = np.arange(height, dtype=np.uint16)[:, None] * 7 + np.arange(width, dtype=np.uint16)[None, :] * 3
    sensor = (rows % 4096).astype(np.uint16)
    thumb = np.full((preview[1], preview[0], 3), 120, np.uint8)
    with tifffile.TiffWriter(path) as tif:
        tif.write(
            thumb,
            photometric="rgb",
            subfiletype=1,
            subifds=1,
            metadata=None,
            extratags=[
                (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
                (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
                (50708, "s", 0, f"{make} {model}", True),  # UniqueCameraModel
                (271, "s", 0, make, True),
                (272, "s", 0, model, True),
            ],
        )
        tif.write(
            sensor,
            photometric=32803,  # CFA
            subfiletype=0,
            metadata=None,
            extratags=[
                (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
                (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
                (50717, "I", 1, 4095, True),  # WhiteLevel
            ],
        )
    return path


def make_slides(tmp_path: Path, *, name: str = "课件.pptx", title: str = "安全生产第一课") -> Path:
    """Courseware as PowerPoint saves it (python-pptx): a title slide and a slide of bullet points."""
    from pptx import Presentation

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = title
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "要点"
    second.placeholders[1].text = "一、安全帽\n二、安全带\n三、安全网"
    path = tmp_path / name
    deck.save(str(path))
    return path
