"""Take the files out of a parsed message: inspect each by its bytes, store it, and record what it is."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from campaign.notice import MailboxKind
from campaign.settings import Settings
from ingest import seen
from ingest.inspect import inspect_file
from ingest.inspect.facts import FileFacts, InspectLimits, facts_json
from ingest.mail.parse import ParsedMail
from ingest.pictures import layout_cids, picture_note
from ingest.rules.views import FileView
from notify.safe import display_name
from store.blobs import BlobStore
from store.enums import AttachmentKind
from store.models import Attachment, Message


class Extractor:
    """Files out of messages, into the blob store and the message's attachment rows."""

    def __init__(self, *, settings: Settings, blobs: BlobStore, limits: InspectLimits) -> None:
        self.settings = settings
        self.blobs = blobs
        self.limits = limits

    def _add_file(
        self,
        session: Session,
        msg: Message,
        *,
        position: int,
        filename: str | None,
        name: str,
        sha: str,
        size: int,
        facts: FileFacts,
        inline: bool,
        container: str | None,
        note: str | None = None,
    ) -> FileView:
        kind = self.settings.mailbox(msg.mailbox).kind
        same_kind = [b.name for b in self.settings.mailboxes if b.kind is kind]
        duplicate = facts.kind is not AttachmentKind.ARCHIVE and seen.accepted_before(
            session, msg, sha256=sha, mailboxes=same_kind
        )
        counted = not duplicate and facts.kind is not AttachmentKind.ARCHIVE and not facts.problems and not note
        msg.attachments.append(
            Attachment(
                position=position,
                filename=filename,
                display_name=name,
                container=container,
                sha256=sha,
                size=size,
                mime=facts.mime[:255],
                label=facts.label[:255],
                kind=facts.kind,
                inline=inline,
                valid=not facts.problems,
                counted=counted,
                problems=list(facts.problems),
                facts=facts_json(facts),
                note=note,
            )
        )
        return FileView(
            name=name,
            kind=facts.kind,
            label=facts.label,
            size=size,
            valid=not facts.problems,
            inline=inline,
            duplicate=duplicate,
            is_description=facts.is_description,
            problems=facts.problems,
            container=container,
            mime=facts.mime,
            media=facts.media,
            image=facts.image,
            executable=facts.executable,
            note=note,
            document=facts.document,
        )

    def extract(self, session: Session, msg: Message, mail: ParsedMail, *, workdir: Path) -> list[FileView]:
        """Every part (signatures aside) and archive member: inspected, stored, and seen by the rules.

        workdir is a temp folder of the blob store: a part already decoded to a file there (a large
        attachment) is inspected where it lies and moved into the store, never read into memory."""
        views: list[FileView] = []
        position = 0
        layout = layout_cids(mail.html)
        kind = self.settings.mailbox(msg.mailbox).kind
        min_side = self.settings.rules[kind].picture_min_long_side
        # the pictures placed in a document are a report's photos; in a collection they are no work
        limits = self.limits if kind is MailboxKind.OFFLINE_ACTIVITY else replace(self.limits, document_max_pictures=0)
        for part in mail.parts:
            if part.is_signature:  # S/MIME or PGP: not a file the sender submitted
                if part.path is not None:
                    part.path.unlink(missing_ok=True)
                continue
            name = display_name(part.filename, fallback=f"附件{part.index + 1}")
            if part.path is not None:
                path = part.path
            else:
                path = workdir / f"file-{part.index:04d}"
                path.write_bytes(part.payload)
            facts = inspect_file(path, filename=name, limits=limits, workdir=workdir)
            if part.problems:  # damaged in transit, e.g. broken base64
                facts = dataclasses.replace(facts, problems=(*part.problems, *facts.problems))
            sha = self.blobs.adopt(path, sha256=part.sha256 if part.path is not None else None, sync=False)
            views.append(
                self._add_file(
                    session,
                    msg,
                    position=position,
                    filename=part.filename,
                    name=name,
                    sha=sha,
                    size=part.size,
                    facts=facts,
                    inline=part.inline,
                    container=None,
                    note=picture_note(facts.image, content_id=part.content_id, layout=layout, min_long_side=min_side),
                )
            )
            position += 1
            position = self._add_members(
                session, msg, facts, container=name, position=position, views=views, layout=layout, min_side=min_side
            )
        return views

    def _add_members(
        self,
        session: Session,
        msg: Message,
        facts: FileFacts,
        *,
        container: str,
        position: int,
        views: list[FileView],
        layout: frozenset[str],
        min_side: int | None,
    ) -> int:
        """The files of an archive, or the pictures taken out of a document (named after it:
        “活动汇总.docx 中的图片 3”, and also for a document inside an archive); the next position."""
        for member in facts.members:
            if facts.document is not None:
                mname = display_name(f"{container} 中的{member.name}", fallback=f"文件{position}")
            else:
                mname = display_name(member.name, fallback=f"文件{position}")
            msha = self.blobs.adopt(member.path, sync=False) if member.path is not None else member.sha256
            views.append(
                self._add_file(
                    session,
                    msg,
                    position=position,
                    filename=member.name,
                    name=mname,
                    sha=msha,
                    size=member.size,
                    facts=member.facts,
                    inline=False,
                    container=container,
                    note=picture_note(member.facts.image, content_id=None, layout=layout, min_long_side=min_side),
                )
            )
            position += 1
            if member.facts.document is not None:
                position = self._add_members(
                    session,
                    msg,
                    member.facts,
                    container=mname,
                    position=position,
                    views=views,
                    layout=layout,
                    min_side=min_side,
                )
        return position
