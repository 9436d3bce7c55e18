"""What a file is by its bytes (libmagic), what its name claims, and how to say both in Chinese."""

from __future__ import annotations

import enum
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import magic

from store.enums import AttachmentKind


class Route(enum.Enum):
    """Which inspector looks further into a file of this type."""

    IMAGE = "image"
    MEDIA = "media"
    ZIP = "zip"
    RAR = "rar"
    SEVENZIP = "7z"
    TNEF = "tnef"  # Outlook's winmail.dat: the files it packs are unpacked like an archive's
    ARCHIVE = "archive"  # an archive format that is recognised but not opened
    DOCUMENT = "document"  # a report document whose text and pictures are read (Word, WPS, PDF, Excel, PowerPoint)
    PLAIN = "plain"  # nothing more to measure


@dataclass(frozen=True, kw_only=True)
class FileType:
    """One row of the type table: everything that follows from the detected MIME type."""

    mime: str
    kind: AttachmentKind
    label: str
    route: Route = Route.PLAIN
    is_description: bool = False


_K = AttachmentKind
HEAD_BYTES = 64 * 1024  # what sniff and is_program read of a file first
OCTET_STREAM = "application/octet-stream"
_MIME = magic.Magic(mime=True)  # one libmagic handle each, loaded once (each call takes its lock)
_DESCRIPTION = magic.Magic()
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_EXECUTABLE = "可执行程序"
EXECUTABLE_LABELS = frozenset({_EXECUTABLE, "脚本文件", "Windows 安装程序"})
TNEF_LABEL = "Outlook 封装文件（winmail.dat）"
# the first bytes of programs, whatever libmagic makes of the rest
_PROGRAM_MAGIC = (
    b"\x7fELF",  # Linux and Android
    b"\xfe\xed\xfa\xce",  # Mach-O, 32 and 64 bit, either byte order, and universal binaries
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",  # scripts
)  # Windows programs: "MZ" and a PE header, see is_program

# (mime, kind, label, route, is_description)
_TABLE: tuple[tuple[str, AttachmentKind, str, Route, bool], ...] = (
    ("image/jpeg", _K.PHOTO, "JPEG 图片", Route.IMAGE, False),
    ("image/png", _K.PHOTO, "PNG 图片", Route.IMAGE, False),
    ("image/gif", _K.PHOTO, "GIF 图片", Route.IMAGE, False),
    ("image/webp", _K.PHOTO, "WebP 图片", Route.IMAGE, False),
    ("image/bmp", _K.PHOTO, "BMP 图片", Route.IMAGE, False),
    ("image/x-ms-bmp", _K.PHOTO, "BMP 图片", Route.IMAGE, False),
    ("image/tiff", _K.PHOTO, "TIFF 图片", Route.IMAGE, False),
    ("image/heic", _K.PHOTO, "HEIC 图片", Route.IMAGE, False),
    ("image/heif", _K.PHOTO, "HEIF 图片", Route.IMAGE, False),
    ("image/avif", _K.PHOTO, "AVIF 图片", Route.IMAGE, False),
    ("image/vnd.adobe.photoshop", _K.PHOTO, "PSD 图片", Route.IMAGE, False),
    ("image/svg+xml", _K.OTHER, "SVG 矢量图", Route.PLAIN, False),
    ("video/mp4", _K.VIDEO, "MP4 视频", Route.MEDIA, False),
    ("video/x-m4v", _K.VIDEO, "M4V 视频", Route.MEDIA, False),
    ("video/quicktime", _K.VIDEO, "MOV 视频", Route.MEDIA, False),
    ("video/x-msvideo", _K.VIDEO, "AVI 视频", Route.MEDIA, False),
    ("video/x-matroska", _K.VIDEO, "MKV 视频", Route.MEDIA, False),
    ("video/webm", _K.VIDEO, "WebM 视频", Route.MEDIA, False),
    ("video/x-flv", _K.VIDEO, "FLV 视频", Route.MEDIA, False),
    ("video/mpeg", _K.VIDEO, "MPEG 视频", Route.MEDIA, False),
    ("video/mp2t", _K.VIDEO, "TS 视频", Route.MEDIA, False),
    ("video/3gpp", _K.VIDEO, "3GP 视频", Route.MEDIA, False),
    ("video/3gpp2", _K.VIDEO, "3G2 视频", Route.MEDIA, False),
    ("video/x-ms-asf", _K.VIDEO, "WMV 视频", Route.MEDIA, False),
    ("video/x-ms-wmv", _K.VIDEO, "WMV 视频", Route.MEDIA, False),
    ("audio/mpeg", _K.AUDIO, "MP3 音频", Route.MEDIA, False),
    ("audio/x-m4a", _K.AUDIO, "M4A 音频", Route.MEDIA, False),
    ("audio/mp4", _K.AUDIO, "M4A 音频", Route.MEDIA, False),
    ("audio/aac", _K.AUDIO, "AAC 音频", Route.MEDIA, False),
    ("audio/x-hx-aac-adts", _K.AUDIO, "AAC 音频", Route.MEDIA, False),
    ("audio/x-wav", _K.AUDIO, "WAV 音频", Route.MEDIA, False),
    ("audio/wav", _K.AUDIO, "WAV 音频", Route.MEDIA, False),
    ("audio/flac", _K.AUDIO, "FLAC 音频", Route.MEDIA, False),
    ("audio/x-flac", _K.AUDIO, "FLAC 音频", Route.MEDIA, False),
    ("audio/ogg", _K.AUDIO, "OGG 音频", Route.MEDIA, False),
    ("application/ogg", _K.AUDIO, "OGG 音频", Route.MEDIA, False),
    ("audio/x-ms-wma", _K.AUDIO, "WMA 音频", Route.MEDIA, False),
    ("audio/amr", _K.AUDIO, "AMR 音频", Route.MEDIA, False),
    ("audio/x-ape", _K.AUDIO, "APE 音频", Route.MEDIA, False),
    ("audio/x-aiff", _K.AUDIO, "AIFF 音频", Route.MEDIA, False),
    ("application/pdf", _K.DOCUMENT, "PDF 文档", Route.DOCUMENT, True),
    ("application/msword", _K.DOCUMENT, "Word 文档", Route.DOCUMENT, True),
    (_DOCX, _K.DOCUMENT, "Word 文档", Route.DOCUMENT, True),
    ("application/vnd.ms-word.document.macroenabled.12", _K.DOCUMENT, "Word 文档", Route.DOCUMENT, True),
    ("application/vnd.ms-works", _K.DOCUMENT, "WPS 文档", Route.PLAIN, True),
    ("application/vnd.oasis.opendocument.text", _K.DOCUMENT, "ODT 文档", Route.PLAIN, True),
    ("application/encrypted", _K.DOCUMENT, "加密的 Office 文档", Route.DOCUMENT, False),
    ("text/rtf", _K.DOCUMENT, "RTF 文档", Route.PLAIN, True),
    ("application/rtf", _K.DOCUMENT, "RTF 文档", Route.PLAIN, True),
    ("text/plain", _K.DOCUMENT, "文本文件", Route.PLAIN, True),
    ("text/csv", _K.DOCUMENT, "CSV 表格", Route.PLAIN, False),
    ("application/vnd.ms-excel", _K.DOCUMENT, "Excel 表格", Route.PLAIN, False),
    (_XLSX, _K.DOCUMENT, "Excel 表格", Route.DOCUMENT, False),
    ("application/vnd.oasis.opendocument.spreadsheet", _K.DOCUMENT, "ODS 表格", Route.PLAIN, False),
    ("application/vnd.ms-powerpoint", _K.DOCUMENT, "PowerPoint 演示文稿", Route.PLAIN, False),
    (_PPTX, _K.DOCUMENT, "PowerPoint 演示文稿", Route.DOCUMENT, False),
    ("application/vnd.oasis.opendocument.presentation", _K.DOCUMENT, "ODP 演示文稿", Route.PLAIN, False),
    ("application/epub+zip", _K.DOCUMENT, "EPUB 电子书", Route.PLAIN, False),
    ("application/zip", _K.ARCHIVE, "ZIP 压缩包", Route.ZIP, False),
    ("application/x-rar", _K.ARCHIVE, "RAR 压缩包", Route.RAR, False),
    ("application/vnd.rar", _K.ARCHIVE, "RAR 压缩包", Route.RAR, False),
    ("application/x-7z-compressed", _K.ARCHIVE, "7Z 压缩包", Route.SEVENZIP, False),
    ("application/gzip", _K.ARCHIVE, "GZ 压缩包", Route.ARCHIVE, False),
    ("application/x-gzip", _K.ARCHIVE, "GZ 压缩包", Route.ARCHIVE, False),
    ("application/x-tar", _K.ARCHIVE, "TAR 压缩包", Route.ARCHIVE, False),
    ("application/x-bzip2", _K.ARCHIVE, "BZ2 压缩包", Route.ARCHIVE, False),
    ("application/x-xz", _K.ARCHIVE, "XZ 压缩包", Route.ARCHIVE, False),
    ("application/zstd", _K.ARCHIVE, "ZST 压缩包", Route.ARCHIVE, False),
    ("application/vnd.ms-cab-compressed", _K.ARCHIVE, "CAB 压缩包", Route.ARCHIVE, False),
    ("application/x-lzh-compressed", _K.ARCHIVE, "LZH 压缩包", Route.ARCHIVE, False),
    ("application/vnd.ms-tnef", _K.ARCHIVE, TNEF_LABEL, Route.TNEF, False),
    ("application/ms-tnef", _K.ARCHIVE, TNEF_LABEL, Route.TNEF, False),
    ("application/x-executable", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/x-pie-executable", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/x-sharedlib", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/x-dosexec", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/vnd.microsoft.portable-executable", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/x-msdownload", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/x-mach-binary", _K.OTHER, _EXECUTABLE, Route.PLAIN, False),
    ("application/x-msi", _K.OTHER, "Windows 安装程序", Route.PLAIN, False),
    ("application/java-archive", _K.OTHER, "Java 程序", Route.PLAIN, False),
    ("application/vnd.android.package-archive", _K.OTHER, "安卓安装包", Route.PLAIN, False),
    ("text/x-shellscript", _K.OTHER, "脚本文件", Route.PLAIN, False),
    ("text/x-msdos-batch", _K.OTHER, "脚本文件", Route.PLAIN, False),
    ("text/x-script.python", _K.OTHER, "脚本文件", Route.PLAIN, False),
    ("text/html", _K.OTHER, "网页文件", Route.PLAIN, False),
    ("application/x-iso9660-image", _K.OTHER, "光盘镜像", Route.PLAIN, False),
    ("application/x-empty", _K.OTHER, "空文件", Route.PLAIN, False),
    ("inode/x-empty", _K.OTHER, "空文件", Route.PLAIN, False),
)
_BY_MIME = {
    mime: FileType(mime=mime, kind=kind, label=label, route=route, is_description=desc)
    for mime, kind, label, route, desc in _TABLE
}
# Image types that libmagic guesses from weak signatures: when Pillow cannot open them they are
# most likely not pictures at all, and are not called damaged ones.
WEAK_IMAGE_MIMES = frozenset({"image/x-tga", "image/x-icon", "image/vnd.microsoft.icon", "image/x-pcx"})
UNKNOWN_LABEL = "未知格式的文件"
# OLE2 compound files that libmagic does not name more precisely: the description says who made it.
_OLE = {"application/cdfv2", "application/vnd.ms-office", "application/x-ole-storage"}
# Types libmagic knows by a signature in the first bytes, whatever follows: from the first
# HEAD_BYTES it names them as it does from the whole file (pictures, sound and video are added in
# _known_by_start; the zip's Office refinement reads the zip's directory itself).
_START_SIGNED = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/x-rar",
        "application/vnd.rar",
        "application/x-7z-compressed",
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/zstd",
    }
)

_EXTENSIONS: dict[AttachmentKind, frozenset[str]] = {
    _K.PHOTO: frozenset(
        {"jpg", "jpeg", "jpe", "jfif", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif", "avif", "psd"}
        | {"dng", "cr2", "cr3", "crw", "nef", "arw", "orf", "rw2", "raf", "pef", "srw"}  # camera RAW
    ),
    _K.VIDEO: frozenset(
        {
            "mp4",
            "m4v",
            "mov",
            "qt",
            "avi",
            "mkv",
            "webm",
            "flv",
            "f4v",
            "mpg",
            "mpeg",
            "ts",
            "mts",
            "m2ts",
            "3gp",
            "3g2",
            "wmv",
            "asf",
            "vob",
        }
    ),
    _K.AUDIO: frozenset({"mp3", "m4a", "aac", "wav", "flac", "ogg", "oga", "opus", "wma", "amr", "ape", "aif", "aiff"}),
    _K.DOCUMENT: frozenset(
        {
            "doc",
            "docx",
            "docm",
            "wps",
            "odt",
            "rtf",
            "txt",
            "pdf",
            "xls",
            "xlsx",
            "et",
            "ods",
            "csv",
            "ppt",
            "pptx",
            "dps",
            "odp",
        }
    ),
    _K.ARCHIVE: frozenset({"zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "zst", "cab", "lzh"}),
}
KIND_NOUNS = {
    _K.PHOTO: "图片",
    _K.VIDEO: "视频",
    _K.AUDIO: "音频",
    _K.DOCUMENT: "文档",
    _K.ARCHIVE: "压缩包",
    _K.OTHER: "文件",
}


# A container that holds only sound is named as its sound files are (an MP4 with only sound is an
# M4A, an ASF a WMA); one that libmagic took for sound but holds a picture, as its video files are.
_SOUND_ONLY = {
    "video/mp4": "M4A 音频",
    "video/x-m4v": "M4A 音频",
    "video/x-ms-asf": "WMA 音频",
    "video/x-ms-wmv": "WMA 音频",
    "video/x-matroska": "MKA 音频",
    "video/webm": "WebM 音频",
}
_PICTURED = {
    "audio/mp4": "MP4 视频",
    "audio/x-m4a": "MP4 视频",
    "audio/x-ms-wma": "WMV 视频",
    "audio/ogg": "OGG 视频",
    "application/ogg": "OGG 视频",
}


def by_mime(mime: str) -> FileType | None:
    """The type table's row for a MIME type, or None when the table does not have it."""
    return _BY_MIME.get(mime)


def media_label(found: FileType, *, has_video: bool, has_audio: bool) -> str:
    """What a media file is called once its streams are known: `WMA 音频`, `M4A 音频`, `MP4 视频`."""
    if has_video:
        return _PICTURED.get(found.mime) or found.label.replace("音频", "视频")
    if has_audio:
        return _SOUND_ONLY.get(found.mime) or found.label.replace("视频", "音频")
    return found.label


def read_head(path: Path) -> bytes:
    """The first HEAD_BYTES of a file: enough for the signatures that sniff and is_program look at."""
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def sniff(path: Path, *, head: bytes | None = None) -> str:
    """The MIME type of a file's content (libmagic).

    libmagic looks at the first bytes only when `head` holds them and it finds a type that is known
    by a signature at the very start (pictures, sound and video, PDF, the archives); for any other
    answer (text, whose kind depends on every byte, Office and OLE files, programs, unknown bytes)
    the whole file is read again, as libmagic reads it.
    """
    try:
        if head is not None:
            mime = str(_MIME.from_buffer(head)).lower()
            if _known_by_start(mime):
                return mime
        return str(_MIME.from_file(str(path))).lower()
    except magic.MagicException:  # libmagic could not read it at all: treat as unknown bytes
        return OCTET_STREAM


def describe(path: Path) -> str | None:
    """libmagic's human description of a file's content, or None when libmagic cannot read it."""
    try:
        return str(_DESCRIPTION.from_file(str(path)))
    except magic.MagicException:
        return None


def _known_by_start(mime: str) -> bool:
    family = mime.partition("/")[0]
    if family in ("image", "video", "audio"):
        return mime not in WEAK_IMAGE_MIMES and mime != "image/svg+xml"
    return mime in _START_SIGNED


def is_program(path: Path, label: str, *, head: bytes | None = None) -> bool:
    """A program or script, by its first bytes (or libmagic's type), whatever the file is called."""
    if label in EXECUTABLE_LABELS:
        return True
    if head is None:
        head = read_head(path)
    if head[:2] == b"MZ" and len(head) >= 0x40:  # Windows: the PE header where the DOS stub points
        offset = int.from_bytes(head[0x3C:0x40], "little")
        if head[offset : offset + 4] == b"PE\0\0":
            return True
    return any(head.startswith(magic) for magic in _PROGRAM_MAGIC)


def program_problem(filename: str) -> str:
    return f"文件“{filename}”是可执行程序或脚本，出于安全原因不予接收"


def classify(path: Path, mime: str) -> FileType:
    """The table row for a file, refining what libmagic leaves generic (zip-based and OLE documents:
    only these need libmagic's description)."""
    if mime == "application/zip":
        mime = _office_zip_mime(path) or mime
    if mime in _OLE:
        description = describe(path)
        if description is None:  # libmagic could not describe it: unknown bytes
            return FileType(mime=OCTET_STREAM, kind=_K.OTHER, label=UNKNOWN_LABEL)
        return _ole_type(mime, description)
    known = _BY_MIME.get(mime)
    if known is not None:
        return known
    family, _, subtype = mime.partition("/")
    if family == "image":
        return FileType(mime=mime, kind=_K.PHOTO, label=f"{subtype.upper()} 图片", route=Route.IMAGE)
    if family == "video":
        return FileType(mime=mime, kind=_K.VIDEO, label="视频", route=Route.MEDIA)
    if family == "audio":
        return FileType(mime=mime, kind=_K.AUDIO, label="音频", route=Route.MEDIA)
    if family == "text":
        return FileType(mime=mime, kind=_K.DOCUMENT, label="文本文件")
    return FileType(mime=mime, kind=_K.OTHER, label=UNKNOWN_LABEL)


def _ole_type(mime: str, description: str) -> FileType:
    if "WPS" in description or "Kingsoft" in description:
        return FileType(mime=mime, kind=_K.DOCUMENT, label="WPS 文档", route=Route.DOCUMENT, is_description=True)
    for needle, known in (
        ("Word", "application/msword"),
        ("Excel", "application/vnd.ms-excel"),
        ("PowerPoint", "application/vnd.ms-powerpoint"),
    ):
        if needle in description:
            return _BY_MIME[known]
    return FileType(mime=mime, kind=_K.DOCUMENT, label="Office 文档")


def _office_zip_mime(path: Path) -> str | None:
    """Office Open XML and OpenDocument files are zips; libmagic misses some (entry order varies)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" in names:
                for part, mime in (
                    ("word/document.xml", _DOCX),
                    ("xl/workbook.xml", _XLSX),
                    ("ppt/presentation.xml", _PPTX),
                ):
                    if part in names:
                        return mime
            if "mimetype" in names and zf.getinfo("mimetype").file_size < 100:
                declared = zf.read("mimetype").decode("ascii", "replace").strip()
                if declared.startswith("application/vnd.oasis.opendocument.") or declared == "application/epub+zip":
                    return declared
    except Exception:  # any damage: the archive inspector judges it later
        return None
    return None


def expected_kind(filename: str) -> AttachmentKind | None:
    """The kind a file name's extension promises, or None when the extension promises nothing known."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower().lstrip(".")
    for kind, extensions in _EXTENSIONS.items():
        if suffix in extensions:
            return kind
    return None


def mismatch_problem(filename: str, expected: AttachmentKind, label: str, *, program: bool = False) -> str:
    found = f"文件“{filename}”不是{KIND_NOUNS[expected]}（实际为{label}）"
    return found + "，出于安全原因不予接收" if program else found
