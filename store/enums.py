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
    CORRECTION = "correction"  # a person changed the verdict: the corrected answer (the newest one)


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
    SUPPLEMENT = "supplement"  # more material for an accepted report: counts only what its own words state


class Role(enum.StrEnum):
    """What a workbench account may see and do (the rules are in intake.web.permissions)."""

    HOST = "host"  # a collection's organiser (承办单位): its own collections only
    PROVINCE = "province"  # the provincial office: everything, and the final recommendation


class SelectionStage(enum.StrEnum):
    """How far a work has come in the hosts' selection (遴选), in order."""

    SHORTLISTED = "shortlisted"  # 初选
    SELECTED = "selected"  # 推荐: reported to the provincial office by the collection's organiser
    RECOMMENDED = "recommended"  # 省总推荐: recommended upward by the province, per category

    def and_later(self) -> tuple[SelectionStage, ...]:
        """This stage and those after it: a work that reached any of them has passed this one."""
        order = list(SelectionStage)
        return tuple(order[order.index(self) :])


class AuditAction(enum.StrEnum):
    """What a person changed; every change is one audit event."""

    USER_ADDED = "user-added"
    USER_DISABLED = "user-disabled"
    LOGIN = "login"
    VERDICT_CHANGED = "verdict-changed"
    SELECTION_CHANGED = "selection-changed"
