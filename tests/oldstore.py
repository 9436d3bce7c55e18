"""A store as the release before submissions had identities (schema 0002) left it after a few days of
the campaign: 25 messages (accepted, rejected, failed, ignored) with their raw files and photos in the
blob store, attachments, replies sent, pending, refused and suppressed, activity counts with an
admin's correction and note, two digests and the mailbox's state.

Written with plain inserts into the tables as they are at 0002 (read from the database), the way
that release wrote its rows; a few rows are as real stores have them: a message imported and then
fetched (accepted twice), a raw file gone missing, a message without a Message-ID, a failure in the
store stage that kept no raw file.
"""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import json
import re
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData

from devservers import samples
from ingest.mail.parse import parse_headers_only
from store.blobs import BlobStore

ACCEPTED, REJECTED = range(1, 17), range(17, 23)
FAILED_WITH_RAW, FAILED_WITHOUT_RAW, IGNORED = 23, 24, 25
COPY_OF = {16: 2}  # message 16: message 2 imported during an outage after it was fetched
RAW_MISSING = 5  # its raw file was lost (a restored blob folder without it)
NO_MESSAGE_ID = 7  # the sender's client wrote no Message-ID
CORRECTED = 3  # an admin corrected its activity count, with a note
REPLY_STATUS = {1: "sent", 2: "sent", 3: "failed", 4: "suppressed"}  # the others: pending
UNITS = ("西宁市总工会", "海南州总工会")
NOTE = "其中一场为线上会议，按2场计（省总宣教部 张老师核对）"


@dataclass(frozen=True, kw_only=True)
class OldStore:
    raws: dict[int, Path]  # the .eml file of each message that has one, to deliver again


def _at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2020, 8, day, hour, minute, 7, 250000)


def stated_of(k: int) -> int:
    """The number of activities accepted report k states (in its body and in its count row)."""
    return 2 + k % 3


def _raw(k: int) -> bytes:
    when = dt.datetime(2020, 8, 10 + k % 9, 10, k, tzinfo=samples.CHINA)
    unit, sender = UNITS[k % 2], f"unit{k:02d}@163.com"
    client = samples.CLIENTS[k % 4]
    if k in REJECTED:
        if k % 2:
            return samples.no_photo(unit=unit, sender=sender, client=client, date=when)
        return samples.wrong_subject(sender=sender, client=client, date=when)
    if k == IGNORED:
        return samples.auto_reply(sender=sender, date=when)
    description = f"我单位8月开展线下活动{stated_of(k)}场，职工踊跃参加，现将活动照片报送如下。"
    raw = samples.offline_report(unit=unit, sender=sender, photos=2, client=client, date=when, description=description)
    if k == NO_MESSAGE_ID:
        raw = re.sub(rb"(?im)^message-id:[^\r\n]*\r?\n", b"", raw, count=1)
    return raw


def _photos(raw: bytes) -> list[tuple[str, bytes]]:
    mail = email.message_from_bytes(raw, policy=policy.default)
    out = []
    for part in mail.walk():
        if part.get_content_maintype() == "image" or part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append((part.get_filename() or "image.jpg", payload))
    return out


def build(conn: Connection, meta: MetaData, *, blobs: BlobStore, folder: Path) -> OldStore:
    """Fill a database at schema 0002 (meta: its tables) and the blob store."""
    t = meta.tables
    raws: dict[int, Path] = {}
    made: dict[int, bytes] = {}
    for k in range(1, 26):
        raw = made[COPY_OF[k]] if k in COPY_OF else _raw(k)
        made[k] = raw
        head = parse_headers_only(raw)
        sha: str | None = blobs.put_bytes(raw)
        if k == RAW_MISSING:
            blobs.path(sha or "").unlink()
        if k == FAILED_WITHOUT_RAW:
            sha = None
        else:
            path = folder / f"{k:02d}.eml"
            path.write_bytes(raw)
            raws[k] = path
        status = (
            "accepted" if k in ACCEPTED else "rejected" if k in REJECTED else "ignored" if k == IGNORED else "failed"
        )
        reasons: list[str] = []
        if status == "rejected":
            reasons = ["邮件中没有活动照片"] if k % 2 else ["标题中没有写明活动单位名单中的单位"]
        conn.execute(
            t["messages"]
            .insert()
            .values(
                id=k,
                mailbox="reports",
                uidvalidity=0 if k in COPY_OF else 1,
                uid=int(hashlib.sha256(raw).hexdigest()[:15], 16) if k in COPY_OF else k,
                raw_sha256=sha,
                raw_size=len(raw),
                oversize=False,
                message_id=None if k == FAILED_WITHOUT_RAW else head.message_id,
                sender=None if k == FAILED_WITHOUT_RAW else head.sender,
                subject=None if k == FAILED_WITHOUT_RAW else head.subject,
                raw_subject=None if k == FAILED_WITHOUT_RAW else head.raw_subject,
                unit=UNITS[k % 2] if status == "accepted" or (status == "rejected" and k % 2) else None,
                title=None,
                status=status,
                reasons=reasons,
                notes=["提交时间晚于截止日期（8月20日）"] if k == 15 else [],
                large_attachment_links=(
                    [{"url": "https://mail.163.com/large/abc", "name": "活动视频.mp4", "expires": None}]
                    if k == 9
                    else []
                ),
                activity_count=2 if k == CORRECTED else None,
                late=k == 15,
                attempts=0 if k == FAILED_WITHOUT_RAW else 1,
                failure_stage=("extract" if k == FAILED_WITH_RAW else "store") if status == "failed" else None,
                failure_traceback=(
                    "Traceback (most recent call last):\n  ...\nOSError: [Errno 28] No space left on device"
                    if status == "failed"
                    else None
                ),
                date_header=None if k == FAILED_WITHOUT_RAW else head.date,
                references_header=None,
                received_at=_at(10 + k % 9, 10, k),
                decided_at=_at(10 + k % 9, 10, k + 1),
            )
        )
        if status == "accepted":
            for position, (name, data) in enumerate(_photos(raw)):
                conn.execute(
                    t["attachments"]
                    .insert()
                    .values(
                        message_id=k,
                        position=position,
                        filename=name,
                        display_name=name,
                        container=None,
                        sha256=blobs.put_bytes(data),
                        size=len(data),
                        mime="image/jpeg",
                        label="JPEG 图片",
                        kind="photo",
                        inline=False,
                        valid=True,
                        counted=True,
                        problems=[],
                        facts={"width": 640, "height": 480, "format": "JPEG"},
                    )
                )
            stated = stated_of(COPY_OF.get(k, k))  # a copy states what its original states
            conn.execute(
                t["activity_counts"]
                .insert()
                .values(
                    message_id=k,
                    rule=1,
                    stated=stated,
                    phrase=f"开展线下活动{stated}场",
                    read_at=_at(10 + k % 9, 10, k + 1),
                    note=NOTE if k == CORRECTED else None,
                    corrected_at=_at(21, 15, 30) if k == CORRECTED else None,
                )
            )
        if status in ("accepted", "rejected"):
            _reply(conn, meta, k, status=status, head=head)
    _digests(conn, meta)
    return OldStore(raws=raws)


def _reply(conn: Connection, meta: MetaData, k: int, *, status: str, head: Any) -> None:
    state = REPLY_STATUS.get(k, "pending")
    kind = "acknowledgement" if status == "accepted" else "rejection"
    word = "已收到" if kind == "acknowledgement" else "需要修改后重新发送"
    conn.execute(
        meta.tables["replies"]
        .insert()
        .values(
            message_id=k,
            kind=kind,
            status=state,
            recipient=head.sender,
            reply_message_id=f"<intake.{k}.{kind}@126.com>",
            in_reply_to=head.message_id,
            references=head.message_id,
            subject=f"Re: {head.subject}（{word}）",
            body_text=f"您好！\n\n您发送的《{head.subject}》{word}。\n\n网聚职工正能量活动组",
            body_html=f"<p>您好！</p><p>您发送的《{head.subject}》{word}。</p>",
            attempts={"sent": 1, "failed": 8}.get(state, 0),
            last_error="550 5.7.1 Mail rejected as spam (mx.163.com)" if state == "failed" else None,
            next_attempt_at=_at(21, 8),
            created_at=_at(10 + k % 9, 10, k + 1),
            sent_at=_at(10 + k % 9, 10, k + 2) if state == "sent" else None,
        )
    )


def _digests(conn: Connection, meta: MetaData) -> None:
    conn.execute(
        meta.tables["digests"].insert(),
        [
            {
                "day": dt.date(2020, 8, 19),
                "status": "sent",
                "claimed_at": _at(19, 7, 30),
                "sent_at": _at(19, 7, 31),
                "late": False,
                "message_id": "<digest.20200819@126.com>",
                "claimed_by": "intake-host-4242",
                "attempts": 1,
                "last_error": None,
                "sent_to": ["hosts@example.org", "宣教部 <xjb@example.org>"],
                "through_message_id": 12,
            },
            {
                "day": dt.date(2020, 8, 20),
                "status": "failed",
                "claimed_at": _at(20, 7, 30),
                "sent_at": None,
                "late": False,
                "message_id": None,
                "claimed_by": "intake-host-4242",
                "attempts": 3,
                "last_error": "421 4.7.0 try again later",
                "sent_to": [],
                "through_message_id": None,
            },
        ],
    )
    conn.execute(
        meta.tables["mailbox_state"]
        .insert()
        .values(
            mailbox="reports",
            uidvalidity=1,
            last_uid=24,
            last_poll_at=_at(21, 9),
            last_ok_at=_at(21, 9),
            last_error=None,
            consecutive_errors=0,
        )
    )


def dump(rows: dict[str, list[dict[str, Any]]]) -> str:
    """The rows as text, for a readable difference."""
    return json.dumps(rows, default=str, ensure_ascii=False, indent=1)
