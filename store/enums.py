"""The closed vocabularies the store records: statuses and kinds as enums."""

from __future__ import annotations

import enum


class MessageStatus(enum.StrEnum):
    """Where one fetched message stands."""

    RECEIVED = "received"  # raw bytes stored, not yet judged
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"  # auto-replies, bounces, list mail, our own mail: no verdict, no reply
    FAILED = "failed"  # our fault: an exception, recorded with stage and traceback
    DUPLICATE = "duplicate"  # a second delivery of a stored submission: never judged or answered again
    CONVERSATION = "conversation"  # a unit answering one of our replies with nothing to submit: never answered


class ArrivalSource(enum.StrEnum):
    """Where a message's arrival time came from."""

    INTERNALDATE = "internaldate"  # the IMAP server's INTERNALDATE
    RECEIVED = "received"  # the newest `Received:` header (imported files)
    DATE = "date"  # the sender's `Date:` header (imported files without a usable `Received:`)
    STORED = "stored"  # when we stored it (an import without either header, rows older than 0004)


class Stage(enum.StrEnum):
    """The pipeline stage in which a failure happened."""

    FETCH = "fetch"
    STORE = "store"
    PARSE = "parse"
    CLASSIFY = "classify"
    EXTRACT = "extract"
    VALIDATE = "validate"
    DECIDE = "decide"


class AttachmentKind(enum.StrEnum):
    """What a file is, judged by its bytes."""

    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    ARCHIVE = "archive"
    OTHER = "other"


class ReplyKind(enum.StrEnum):
    """Which automatic answer a message gets; at most one of each per message."""

    ACKNOWLEDGEMENT = "acknowledgement"
    REJECTION = "rejection"


class ReplyStatus(enum.StrEnum):
    """Where one outgoing reply stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the configured attempts
    SUPPRESSED = "suppressed"  # written but never sent (loop detection, our own reply inside, DMARC fail)
    HELD = "held"  # deferred by a cap on replies: sent when the cap allows (next_attempt_at), never dropped


class DigestStatus(enum.StrEnum):
    """Where one date's digest stands; the date is the key, so there is one row per date."""

    CLAIMED = "claimed"  # a worker is sending it (a claim past its lease was left by a dead worker)
    SENT = "sent"
    FAILED = "failed"  # the last try failed; the next try takes it over


class WorkRole(enum.StrEnum):
    """What an accepted work mail is to the work it belongs to (collections only)."""

    ORIGINAL = "original"  # the first registration of a work
    RESEND = "resend"  # the same work file again: nothing new
    SUPPLEMENT = "supplement"  # the same work file with new other files (作品简介, 授权书)
    REPLACEMENT = "replacement"  # a new version of the work file under the same title


class CountSource(enum.StrEnum):
    """Where a report's number of activities was read."""

    BODY = "body"  # the mail's body (正文)
    DOCUMENT = "document"  # an attached report document (附件文档)
    SUBJECT = "subject"  # the subject, when neither states a number
    DEFAULT = "default"  # stated nowhere: the default of one
