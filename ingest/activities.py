"""How many offline activities a report states, read when it is judged and kept with it.

A report's description (its body without quotes and client boilerplate; when the body states
nothing, the text of its attached report documents; then its subject) is read once, when the
report is judged, and again by `intake rerun` and `intake count`; the number, the words that state
it and where they stand (CountSource) are kept in the activity_counts table. The digest
and the export only read that table (report.counting applies the rule and explains it).

What counts as a statement: “开展线下活动3场”, “共开展两场活动”, “活动3次”; a stated total
(“共/合计/累计…”, or a number followed by “其中…”) is taken as it is, several separate statements
are added up. Ordinals (“第3场”) and a lone “一场/一次” (often a turn of phrase) are not statements.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.mail.parse import ParsedMail, parse_bytes
from ingest.rules.content import FileView, description_text
from notify.safe import clean_text
from store.blobs import BlobStore
from store.enums import AttachmentKind, CountSource, MessageStatus
from store.models import ActivityCount, Attachment, Message, utcnow

log = logging.getLogger(__name__)

RULE = 2  # bump when the reading changes: `intake count` and `rerun` read every report again
MAX_SCANNED_CHARS = 5000

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_TOTAL = ("共计", "合计", "累计", "总计", "总共", "一共", "共")
_STATEMENT = re.compile(
    r"(?P<total>共计|合计|累计|总计|总共|一共|共)?(?:开展|举办|组织|举行|进行)?(?:了)?(?:线下)?(?:活动)?"
    r"(?P<num>\d{1,4}|[一二两三四五六七八九十]{1,3})\s*(?:个)?(?P<unit>场次|场|次)"
)
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")
_NOT_EVENT_AFTER = ("地", "馆", "所", "景", "面", "合", "性", "数")


@dataclass(frozen=True, kw_only=True)
class Statement:
    """A number of activities a text states, with the words that state it."""

    number: int
    phrase: str
    source: CountSource = CountSource.BODY


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return (_DIGITS.get(tens, -100) if tens else 1) * 10 + (_DIGITS.get(ones, -100) if ones else 0)
    return _DIGITS.get(text) if len(text) == 1 else None


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the clause before and after a match (up to the sentence's end)."""
    before = _CLAUSE_END.split(text[:start])[-1]
    after = _CLAUSE_END.split(text[end:], maxsplit=1)[0]
    return before, after


def stated(text: str) -> Statement | None:
    """The number of activities text states (see the module's rule), or None when it states none."""
    norm = unicodedata.normalize("NFKC", text)[:MAX_SCANNED_CHARS]
    found: list[tuple[int, bool, str, int]] = []  # number, is a total, phrase, end
    for match in _STATEMENT.finditer(norm):
        start = match.start("num")
        number = _number(match.group("num"))
        if number is None or number <= 0:
            continue
        if start > 0 and norm[start - 1] in "第每":
            continue
        rest = norm[match.end() :]
        if rest[:1] in _NOT_EVENT_AFTER:
            continue
        before, after = _clause(norm, match.start(), match.end())
        if match.group("unit") == "次" and "活动" not in before[-12:] + match.group(0) + after[:12]:
            continue
        total = match.group("total") is not None or before.rstrip().endswith(_TOTAL)
        if not total and match.group("num") == "一":
            continue  # “一场/一次” is usually a turn of phrase, and 1 is the default anyway
        lead = re.split(r"[,，、:：(（]", before)[-1][-20:]
        phrase = clean_text((lead + match.group(0)).strip(), max_chars=40)
        found.append((number, total, phrase, match.end()))
    if not found:
        return None
    totals = [f for f in found if f[1]]
    if totals:
        best = max(totals, key=lambda f: f[0])
        return Statement(number=best[0], phrase=best[2])
    first = found[0]
    if "其中" in norm[first[3] : first[3] + 30]:
        return Statement(number=first[0], phrase=first[2])
    if len(found) == 1:
        return Statement(number=first[0], phrase=first[2])
    return Statement(number=sum(f[0] for f in found), phrase="、".join(f[2] for f in found)[:120])


def statement_of(mail: ParsedMail, *, subject: str | None, documents: Sequence[str] = ()) -> Statement | None:
    """What a report states: its description first, then its documents' text, then its subject."""
    return _first(description_text(text=mail.text, html=mail.html), documents, subject)


def document_texts(files: Sequence[FileView]) -> list[str]:
    """The text of each report document a message carried, in the order of its files."""
    return [f.document.text for f in files if f.document is not None and f.document.text]


def _first(body: str, documents: Sequence[str], subject: str | None) -> Statement | None:
    found = stated(body)
    if found is not None:
        return found
    for text in documents:
        found = stated(text)
        if found is not None:
            return replace(found, source=CountSource.DOCUMENT)
    found = stated(subject or "")
    return replace(found, source=CountSource.SUBJECT) if found is not None else None


def record(session: Session, *, message_id: int, statement: Statement | None) -> None:
    """Keep what a report states (in the judging transaction); an admin's note stays.

    The row is looked up without flushing the session first: only this message's own row is read,
    and the transaction writes everything pending together."""
    with session.no_autoflush:
        row = session.get(ActivityCount, message_id)
    if row is None:
        row = ActivityCount(message_id=message_id)
        session.add(row)
    row.rule = RULE
    row.stated = statement.number if statement else None
    row.phrase = statement.phrase if statement else None
    row.source = statement.source if statement else CountSource.DEFAULT
    row.read_at = utcnow()


def read_report(
    blobs: BlobStore, *, raw_sha256: str | None, subject: str | None, documents: Sequence[str] = ()
) -> Statement | None:
    """What a stored report states: its description, its documents' text (as recorded with its
    files), its subject; the first that states a number."""
    body = ""
    if raw_sha256 is not None:
        try:
            mail = parse_bytes(blobs.read_bytes(raw_sha256))
            body = description_text(text=mail.text, html=mail.html)
        except Exception:  # a report that cannot be read again counts 1, as if it stated nothing
            log.warning("cannot read the description of the raw message %s", raw_sha256, exc_info=True)
    return _first(body, documents, subject)


def stored_texts(session: Session, message_id: int) -> list[str]:
    """The text of the report documents recorded with a message's files, in their order."""
    facts = session.scalars(
        select(Attachment.facts)
        .where(Attachment.message_id == message_id, Attachment.kind == AttachmentKind.DOCUMENT)
        .order_by(Attachment.position)
    ).all()
    texts = [(f.get("document") or {}).get("text") for f in facts if isinstance(f, dict)]
    return [t for t in texts if isinstance(t, str) and t]


def refresh(*, sessions: sessionmaker[Session], blobs: BlobStore, report_mailboxes: Collection[str]) -> int:
    """Read every accepted report not read under this RULE (after an upgrade); returns how many were read."""
    with sessions() as session:
        rows = session.execute(
            select(Message.id, Message.raw_sha256, Message.subject)
            .outerjoin(ActivityCount, ActivityCount.message_id == Message.id)
            .where(
                Message.mailbox.in_(list(report_mailboxes)),
                Message.status == MessageStatus.ACCEPTED,
                or_(ActivityCount.message_id.is_(None), ActivityCount.rule != RULE),
            )
            .order_by(Message.id)
        ).all()
    for msg_id, sha, subject in rows:
        with sessions() as session:
            documents = stored_texts(session, msg_id)
        statement = read_report(blobs, raw_sha256=sha, subject=subject, documents=documents)
        try:
            with sessions.begin() as session:
                record(session, message_id=msg_id, statement=statement)
        except IntegrityError:  # another worker read it at the same moment, with the same result
            continue
    return len(rows)


class NotAReport(ValueError):
    """The message is not in an offline-activity mailbox, so it has no activity count."""


def _report(session: Session, message_id: int, report_mailboxes: Collection[str]) -> Message:
    """The report with that id; LookupError or NotAReport, in words an admin can act on."""
    msg = session.get(Message, message_id)
    if msg is None:
        raise LookupError(f"no message with id {message_id}")
    if msg.mailbox not in report_mailboxes:
        raise NotAReport(
            f"message {message_id} is in the mailbox {msg.mailbox!r}, not an offline-activity "
            "mailbox: only reports count activities"
        )
    return msg


def read_again(
    *, sessions: sessionmaker[Session], blobs: BlobStore, report_mailboxes: Collection[str], message_id: int
) -> None:
    """Read one report's statement again from its raw bytes (for `intake count`); only reports count."""
    with sessions.begin() as session:
        msg = _report(session, message_id, report_mailboxes)
        if msg.status is MessageStatus.ACCEPTED:
            documents = stored_texts(session, message_id)
            statement = read_report(blobs, raw_sha256=msg.raw_sha256, subject=msg.subject, documents=documents)
            record(session, message_id=message_id, statement=statement)


def correct(
    *,
    sessions: sessionmaker[Session],
    report_mailboxes: Collection[str],
    message_id: int,
    activities: int | None,
    note: str | None = None,
) -> None:
    """Set (or with None drop) an admin's correction of one report's count."""
    if activities is not None and activities < 0:
        raise ValueError("a count is 0 or more")
    with sessions.begin() as session:
        msg = _report(session, message_id, report_mailboxes)
        msg.activity_count = activities
        row = session.get(ActivityCount, message_id)
        if row is None:  # not read yet (a report that is not accepted): read it when it is
            row = ActivityCount(message_id=message_id, rule=0)
            session.add(row)
        row.note = clean_text(note, max_chars=300) if activities is not None and note else None
        row.corrected_at = utcnow() if activities is not None else None
