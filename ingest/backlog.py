"""Judging with a cap: each start is counted before it begins, and the backlog is what is left to judge.

A message that makes judging fail (an exception) or kills the process (memory, a crash) is tried
again at the next cycle, up to `[service] max_attempts` starts; then it stays `failed` for an admin
(`intake messages --status failed`, the digest) and `intake rerun` replays it.
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.mail.parse import HEADERS_ONLY_BYTES, parse_headers_only
from ingest.pipeline import Pipeline
from store.enums import MessageStatus
from store.killpoint import kill_point
from store.models import Message, utcnow

log = logging.getLogger(__name__)
NEVER_FINISHED = (
    "judging was started {starts} times and never finished (the process stopped each time); "
    "`intake rerun {id}` tries again"
)


def backlog(sessions: sessionmaker[Session], *, mailbox: str, max_attempts: int) -> list[int]:
    """Messages of mailbox left `received`, or `failed` with starts to spare, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.mailbox == mailbox,
                    or_(
                        Message.status == MessageStatus.RECEIVED,
                        and_(Message.status == MessageStatus.FAILED, Message.starts < max_attempts),
                    ),
                )
                .order_by(Message.received_at, Message.id)
            )
        )


def judge(pipeline: Pipeline, message_id: int, *, max_attempts: int, started: bool = False) -> MessageStatus:
    """Count the start, then judge; a message that has had max_attempts starts is left failed.

    started: the start was counted when the message was stored, in the same commit (a new message)."""
    if started:
        kill_point("judging")
        return pipeline.process(message_id)
    with pipeline.sessions.begin() as session:
        msg = session.get(Message, message_id)
        if msg is None:
            raise LookupError(f"no message with id {message_id}")
        if msg.status not in (MessageStatus.RECEIVED, MessageStatus.FAILED):
            return msg.status  # judged meanwhile (another worker, an admin)
        if msg.starts >= max_attempts:
            return _give_up(session, msg, pipeline)
        msg.starts += 1
    kill_point("judging")
    return pipeline.process(message_id)


def _give_up(session: Session, msg: Message, pipeline: Pipeline) -> MessageStatus:
    if msg.status is MessageStatus.RECEIVED:
        if msg.raw_sha256 is not None and msg.sender is None:  # who sent what, for the admins' lists
            try:
                head = parse_headers_only(pipeline.blobs.read_head(msg.raw_sha256, HEADERS_ONLY_BYTES))
                msg.sender, msg.subject, msg.message_id = head.sender, head.subject, head.message_id
            except Exception:  # the header is only a courtesy here
                log.debug("message %d: header unreadable", msg.id, exc_info=True)
        msg.status = MessageStatus.FAILED
        msg.failure_traceback = NEVER_FINISHED.format(starts=msg.starts, id=msg.id)
        msg.decided_at = utcnow()
    return MessageStatus.FAILED
