"""Inspect one received file by its bytes: what it is, its measurements, and what is wrong with it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ingest.inspect import ooxml, pdfs, words
from ingest.inspect.archives import Backend, Budget, inspect_archive
from ingest.inspect.detect import (
    KIND_NOUNS,
    UNKNOWN_LABEL,
    WEAK_IMAGE_MIMES,
    FileType,
    Route,
    classify,
    expected_kind,
    is_program,
    media_label,
    mismatch_problem,
    program_problem,
    read_head,
    sniff,
)
from ingest.inspect.documents import ENCRYPTED_OFFICE, PASSWORD, DocumentRead, Reader, read_with
from ingest.inspect.facts import DocumentFacts, FileFacts, ImageFacts, InspectLimits, MediaFacts, Member
from ingest.inspect.images import inspect_image
from ingest.inspect.loudness import max_volume_db
from ingest.inspect.media import inspect_media
from ingest.inspect.opinion import media_type, worth_asking
from ingest.inspect.rars import MissingToolError, RarBackend
from ingest.inspect.raws import CANDIDATES as RAW_CANDIDATES
from ingest.inspect.raws import MIMES as RAW_MIMES
from ingest.inspect.raws import inspect_raw, raw_kind
from ingest.inspect.sevenzips import SevenZipBackend
from ingest.inspect.tnefs import TnefBackend
from ingest.inspect.zips import ZipBackend
from store.enums import AttachmentKind

__all__ = [
    "DocumentFacts",
    "FileFacts",
    "ImageFacts",
    "InspectLimits",
    "MediaFacts",
    "Member",
    "MissingToolError",
    "inspect_file",
]

DEFAULT_LIMITS = InspectLimits()
SOUND_IN_VIDEO = frozenset({"video/mp4", "video/x-m4v", "audio/mp4", "video/quicktime", "video/3gpp"})
EMPTY = "文件是空的（0 字节）"
TOO_DEEP = "压缩包里套着的压缩包层数过多，未打开"
UNSUPPORTED_ARCHIVE = "无法打开这种压缩包（只支持 ZIP、RAR、7Z 格式）"
_BACKENDS: dict[Route, type[ZipBackend] | type[RarBackend] | type[SevenZipBackend] | type[TnefBackend]] = {
    Route.ZIP: ZipBackend,
    Route.RAR: RarBackend,
    Route.SEVENZIP: SevenZipBackend,
    Route.TNEF: TnefBackend,
}
_READERS: dict[str, Reader] = {
    "application/pdf": pdfs.read_pdf,
    **dict.fromkeys(ooxml.MIMES, ooxml.read_ooxml),
    **dict.fromkeys(words.MIMES, words.read_word97),
}


def inspect_file(
    path: Path,
    *,
    filename: str,
    limits: InspectLimits = DEFAULT_LIMITS,
    workdir: Path,
) -> FileFacts:
    """Judge a file by its content only; `filename` is compared with the content, never trusted.

    Archive members are extracted to files named member-0001, … under `workdir` (created if
    missing) and inspected in turn; the caller stores or deletes them. Damaged, hostile or
    mislabelled input never raises: it comes back as problems. Raises MissingToolError when a
    compressed RAR member needs a tool this server lacks (a setup fault, not the sender's).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    return _Inspection(Budget(limits=limits, workdir=workdir)).inspect(path, filename, depth=0)


class _Inspection:
    """One top-level call: the unpacking budget is shared by every archive nested in the file."""

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    def inspect(self, path: Path, filename: str, *, depth: int) -> FileFacts:
        expected = expected_kind(filename)
        size = path.stat().st_size
        if size == 0:
            return FileFacts(
                mime="application/x-empty",
                kind=AttachmentKind.OTHER,
                label="空文件",
                problems=(EMPTY,),
                name_mismatch=expected is not None,
                is_description=False,
            )
        head = read_head(path)
        found = classify(path, sniff(path, head=head))
        probed: MediaFacts | None = None  # the stream probe's reading, when it was asked already
        if worth_asking(found, expected):  # libmagic and the name disagree, or libmagic knows nothing
            probed = inspect_media(path)
            found = media_type(probed, head) or found
        facts = self._measure(path, found, size=size, depth=depth, probed=probed)
        mismatch = expected is not None and expected is not facts.kind and not _sound_only_video(expected, facts)
        problems = facts.problems
        program = is_program(path, facts.label, head=head)
        if mismatch and expected is not None:
            problems = (mismatch_problem(filename, expected, facts.label, program=program), *problems)
        elif program:  # named, whatever it is called
            problems = (program_problem(filename), *problems)
        return FileFacts(
            mime=facts.mime,
            kind=facts.kind,
            label=facts.label,
            problems=problems,
            name_mismatch=mismatch,
            is_description=facts.is_description,
            executable=program,
            image=facts.image,
            media=facts.media,
            document=facts.document,
            members=facts.members,
        )

    def _raw_facts(self, base: FileFacts, path: Path) -> FileFacts | None:
        """A camera RAW measured by its real image (or refused as unreadable); None: no RAW."""
        kind = raw_kind(path, base.mime)
        if kind is None:
            return None
        found = inspect_raw(path, kind=kind, limits=self._budget.limits)
        if found is None:
            return None
        mime = RAW_MIMES.get(kind.name, base.mime)
        return replace(base, mime=mime, label=kind.label, problems=found.problems, image=found.facts)

    def _measure(
        self, path: Path, found: FileType, *, size: int, depth: int, probed: MediaFacts | None = None
    ) -> FileFacts:
        base = FileFacts(
            mime=found.mime,
            kind=found.kind,
            label=found.label,
            problems=(),
            name_mismatch=False,
            is_description=found.is_description,
        )
        if found.route is Route.IMAGE and found.mime in RAW_CANDIDATES:
            raw = self._raw_facts(base, path)
            if raw is not None:
                return raw
        if found.route is Route.IMAGE:
            picture = inspect_image(path, mime=found.mime, limits=self._budget.limits)
            if picture.facts is None and found.mime in WEAK_IMAGE_MIMES:
                return replace(base, kind=AttachmentKind.OTHER, label=UNKNOWN_LABEL)
            return replace(base, problems=picture.problems, image=picture.facts)
        if found.route is Route.MEDIA:
            return _media_facts(base, probed if probed is not None else inspect_media(path), path)
        if found.route is Route.ARCHIVE:
            return replace(base, problems=(UNSUPPORTED_ARCHIVE,))
        if found.route is Route.DOCUMENT:
            return self._document(path, found, base, depth=depth)
        backend_type = _BACKENDS.get(found.route)
        if backend_type is None:
            return base
        if depth > self._budget.limits.archive_max_depth:
            return replace(base, problems=(TOO_DEEP,))
        backend: Backend = backend_type(path)
        result = inspect_archive(
            backend,
            archive_size=size,
            budget=self._budget,
            inspect_member=lambda member, name: self.inspect(member, name, depth=depth + 1),
        )
        return replace(base, problems=result.problems, members=result.members)

    def _document(self, path: Path, found: FileType, base: FileFacts, *, depth: int) -> FileFacts:
        """A report document: its text, and its pictures inspected like attached pictures."""
        reader = _READERS.get(found.mime)
        if found.mime == ENCRYPTED_OFFICE:
            read = DocumentRead(problems=[PASSWORD])
        elif reader is None or depth > self._budget.limits.archive_max_depth:
            return base
        else:
            read = read_with(reader, path, self._budget)
        members = []
        for number, picture in enumerate(read.pictures, start=1):
            name = f"图片 {number}"  # the caller names it after the document: “活动汇总.docx 中的图片 3”
            members.append(
                Member(
                    name=name,
                    size=picture.size,
                    sha256=picture.sha256,
                    facts=self.inspect(picture.path, name, depth=depth + 1),
                    path=picture.path,
                )
            )
        document = DocumentFacts(
            text=read.text, pictures=len(members), more_pictures=read.more_pictures, unread=read.unread
        )
        return replace(base, problems=tuple(read.problems), members=tuple(members), document=document)


def _sound_only_video(expected: AttachmentKind, facts: FileFacts) -> bool:
    """An MP4 (or MOV) with sound and no picture: the name is right, the content lacks the picture.

    Songs come that way and are fine; where a video is needed the collection rule says so.
    """
    sound = facts.kind is AttachmentKind.AUDIO
    return (
        expected is AttachmentKind.VIDEO and sound and (facts.mime in SOUND_IN_VIDEO or facts.mime.startswith("video/"))
    )


def _media_facts(base: FileFacts, media: MediaFacts, path: Path) -> FileFacts:
    kind = base.kind
    found = FileType(mime=base.mime, kind=base.kind, label=base.label)
    label = media_label(found, has_video=media.has_video, has_audio=media.has_audio)
    if media.has_video:
        kind = AttachmentKind.VIDEO
    elif media.has_audio:
        kind = AttachmentKind.AUDIO
    noun = KIND_NOUNS[kind] if kind in (AttachmentKind.VIDEO, AttachmentKind.AUDIO) else "媒体"
    problems: tuple[str, ...] = ()
    if media.has_audio and not media.truncated:
        media = replace(media, max_volume_db=max_volume_db(path))
    if media.truncated:
        problems = (f"{noun}文件不完整（被截断）",)
    elif not media.has_video and not media.has_audio:
        problems = (f"{noun}文件已损坏，读不出其中的画面或声音",)
    return replace(base, kind=kind, label=label, problems=problems, media=media)
