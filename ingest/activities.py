"""How many offline activities a report states, read when it is judged and kept with it.

A report's description (its body without quotes and client boilerplate; when the body states
nothing, the text of its attached report documents; then its subject) is read once, when the
report is judged, and again by `intake rerun` and `intake count`; the number, the words that state
it and where they stand (CountSource) are kept in the activity_counts table. The digest
and the export only read that table (report.counting applies the rule and explains it).

What counts as a statement: “开展线下活动3场”, “共开展两场活动”, “活动3次”, with the number in
figures or in Chinese numerals (ingest.numerals). A stated total (“共/合计/累计…”, or a number
followed by “其中…”) is taken as it is, several separate statements are added up. Online activities
are not offline ones: “线上活动2场” is left out, and a total whose breakdown names online ones
(“共开展活动5场，其中线上知识竞赛1场”) counts the rest (4), or the offline part when it is written
(“其中线下3场”). An enumeration (一是…一场；二是…一场, 一、二、, （一）（二）, 1. 2.; see
ingest.enumeration) is counted item by item, where “一场/一次” counts; 第一场…第二场 lists one
activity an item; a number written before or after an enumeration and the enumeration's own count
describe the same activities, and the larger is taken. Ordinals (“第3场”) and a lone “一场/一次”
outside an enumeration (often a turn of phrase) are not statements.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.enumeration import ONE_ACTIVITY_EACH, Enumeration, enumerations
from ingest.mail.parse import ParsedMail, parse_bytes
from ingest.mail.quoted import above_quote
from ingest.numerals import NUMBER_PATTERN, number_of
from ingest.rules.content import description_text
from ingest.rules.views import FileView
from ingest.supplement import SupplementOf, supplement_of
from ingest.tables import activity_table
from notify.safe import clean_text
from store.blobs import BlobStore
from store.enums import AttachmentKind, CountSource, MessageStatus
from store.models import ActivityCount, Attachment, Message, utcnow

log = logging.getLogger(__name__)

RULE = 4  # bump when the reading changes: `intake count` and `rerun` read every report again
MAX_SCANNED_CHARS = 5000

_TOTAL = ("共计", "合计", "累计", "总计", "总共", "一共", "共")
_STATEMENT = re.compile(
    r"(?P<total>共计|合计|累计|总计|总共|一共|共)?(?:开展|举办|组织|举行|进行)?(?:了)?(?:线下)?(?:活动)?"
    rf"(?P<num>{NUMBER_PATTERN})(?P<more>余|多)?\s*(?:个)?(?P<unit>场次|场|次|项(?:主题|系列|线下|宣传)?活动)"
)
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")
_PART_SEP = re.compile(r"[,，、;；:：。\n]")
_NOT_EVENT_AFTER = ("地", "馆", "所", "景", "面", "合", "性", "数", "场")
_NOT_EVENT_BEFORE = "第每这那哪"
_NOT_ONE_BEFORE = "同上下另"  # 上一场, 另一场: no count
_FIGURE_OF_SPEECH = re.compile(r"疫情|战役|阻击战|攻坚战|硬仗|革命|变革|风暴|暴雨|大雨|大雪|误会")
_VERB = re.compile(r"开展|举办|组织|举行|召开|进行|开办|承办")
_ONLINE = re.compile(r"线上|网上|在线|云端|云上|直播")
_OFFLINE = "线下"
_BREAKDOWN = re.compile(r"^[\s,，:：]*(?:其中|含|包括|包含)")
# the phrase is shown inside “…”: its own quotation marks become the inner ones, ‘…’
_PUNCT = str.maketrans(
    {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？", "“": "‘", "”": "’"}
)


@dataclass(frozen=True, kw_only=True)
class Statement:
    """A number of activities a text states, with the words that state it."""

    number: int
    phrase: str
    source: CountSource = CountSource.BODY


@dataclass(frozen=True, kw_only=True)
class _Found:
    """One number of activities in the text, with what its clause says about it."""

    number: int
    start: int
    lead_start: int  # where the words that state it begin
    end: int
    phrase: str
    total: bool  # 共/合计…, or followed by 其中
    online: bool
    offline: bool  # written as 线下
    lone_one: bool  # “一场/一次”: counts only inside an enumeration


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the clause before and after a match (up to the sentence's end)."""
    before = _CLAUSE_END.split(text[:start])[-1]
    after = _CLAUSE_END.split(text[end:], maxsplit=1)[0]
    return before, after


def _phrase(text: str) -> str:
    return clean_text(text.translate(_PUNCT).strip(), max_chars=60)


def _statements(norm: str, regions: Sequence[tuple[int, int]]) -> list[_Found]:
    """Every number of activities in the (normalised) text; a lone “一场” only inside regions."""
    found: list[_Found] = []
    for match in _STATEMENT.finditer(norm):
        start = match.start("num")
        number = number_of(match.group("num"))
        if number is None or number <= 0:
            continue
        if start > 0 and norm[start - 1] in _NOT_EVENT_BEFORE:
            continue
        rest = norm[match.end() :]
        if rest[:1] in _NOT_EVENT_AFTER:
            continue
        before, after = _clause(norm, match.start(), match.end())
        inside = any(a <= match.start() < b for a, b in regions)
        near = before[-12:] + match.group(0) + after[:12]
        if match.group("unit") == "次" and "活动" not in near and not (inside and _VERB.search(before)):
            continue
        total = match.group("total") is not None or before.rstrip().endswith(_TOTAL)
        part = _PART_SEP.split(before)[-1]
        lone = number == 1 and not total and not match.group("num").isascii()  # “1场” in figures is a count
        told = bool(_BREAKDOWN.match(part) or _ONLINE.search(part) or _OFFLINE in part)  # 其中线上竞赛1场
        if lone and (not (inside or told) or _FIGURE_OF_SPEECH.search(after[:20]) or before[-1:] in _NOT_ONE_BEFORE):
            continue  # “一场/一次” is usually a turn of phrase, and 1 is the default anyway
        lead = re.split(r"[,，、:：(（]", before)[-1][-20:]
        if lead.count("”") > lead.count("“"):  # cut inside a quotation: start after its end
            lead = lead[lead.index("”") + 1 :]
        found.append(
            _Found(
                number=number,
                start=match.start(),
                lead_start=match.start() - len(lead),
                end=match.end(),
                phrase=_phrase(lead + match.group(0)),
                total=total or bool(_BREAKDOWN.match(norm[match.end() : match.end() + 30].lstrip("。"))),
                online=bool(_ONLINE.search(part + match.group(0))) and _OFFLINE not in part + match.group(0),
                offline=_OFFLINE in part + match.group(0),
                lone_one=lone,
            )
        )
    return found


def _block(norm: str, found: Sequence[_Found]) -> Statement | None:
    """What a run of statements states: a total (less the online part its breakdown names), or the sum
    of the offline statements."""
    totals = [f for f in found if f.total and not f.online]
    if totals:
        best = max(totals, key=lambda f: f.number)
        sentence_end = _CLAUSE_END.search(norm, best.end)
        tail = norm[best.end : sentence_end.start() if sentence_end else len(norm)]
        stop = best.end + len(tail)
        if sentence_end is not None and _BREAKDOWN.match(norm[sentence_end.end() :]):
            follow = _CLAUSE_END.search(norm, sentence_end.end())
            stop = follow.start() if follow else len(norm)
        parts = [f for f in found if best.end <= f.start < stop and f is not best]
        offline = [f for f in parts if f.offline and not f.online]
        online = [f for f in parts if f.online]
        if offline:
            return Statement(
                number=sum(f.number for f in offline),
                phrase=_phrase(norm[best.lead_start : offline[-1].end]),
            )
        if online and sum(f.number for f in online) < best.number:
            return Statement(
                number=best.number - sum(f.number for f in online),
                phrase=_phrase(norm[best.lead_start : online[-1].end]),
            )
        return Statement(number=best.number, phrase=best.phrase)
    counted = [f for f in found if not f.online]
    if not counted:
        return None
    if len(counted) == 1:
        return Statement(number=counted[0].number, phrase=counted[0].phrase)
    return Statement(number=sum(f.number for f in counted), phrase="、".join(f.phrase for f in counted)[:120])


def _enumerated(norm: str, listing: Enumeration, found: Sequence[_Found]) -> Statement | None:
    """What an enumeration states, item by item (each 第N场 item is one activity)."""
    number = 0
    phrases: list[str] = []
    for item in listing.items:
        inside = [f for f in found if item.start <= f.start < item.end]
        said = _block(norm, inside)
        if listing.style in ONE_ACTIVITY_EACH:
            number += max(1, said.number if said else 0)
            phrases.append(item.marker.rstrip(":："))
        elif said is not None:
            number += said.number
            marker = item.marker.rstrip("、.．是")
            phrases.append(f"{item.marker}…{said.phrase[-12:]}" if marker else said.phrase)
    if not number:
        return None
    return Statement(number=number, phrase="；".join(phrases)[:120])


def stated(text: str) -> Statement | None:
    """The number of activities text states (see the module's rule), or None when it states none."""
    norm = unicodedata.normalize("NFKC", text)[:MAX_SCANNED_CHARS]
    listings = enumerations(norm)
    regions = [(e.start, e.end) for e in listings]
    found = _statements(norm, regions)
    best: Statement | None = None
    for listing in listings:
        said = _enumerated(norm, listing, found)
        if said is not None and (best is None or said.number > best.number):
            best = said
    if best is None:
        return _larger(_block(norm, found), _tabled(norm))
    listed = [f for f in found if any(a <= f.start < b for a, b in regions)]
    outside = _block(norm, [f for f in found if f not in listed])
    if outside is not None and outside.number > best.number:
        best = outside
    return _larger(best, _tabled(norm))


def _tabled(norm: str) -> Statement | None:
    """What an activity table lists: one activity a dated row (ingest.tables)."""
    table = activity_table(norm)
    if table is None:
        return None
    shown = "、".join(table.dates) if len(table.dates) <= 4 else f"{table.dates[0]}…{table.dates[-1]}"
    return Statement(number=len(table.dates), phrase=_phrase(f"活动表列出{shown}的{len(table.dates)}项活动"))


def _larger(stated_count: Statement | None, table: Statement | None) -> Statement | None:
    """A number written next to a table and the table's rows describe the same activities: the larger."""
    if table is None or (stated_count is not None and stated_count.number >= table.number):
        return stated_count
    return table


#: the report a stored mail supplements (ingest.supplement), asked of its parsed headers
Supplements = Callable[[ParsedMail], SupplementOf | None]


def statement_of(
    mail: ParsedMail, *, subject: str | None, documents: Sequence[str] = (), of: SupplementOf | None = None
) -> Statement | None:
    """What a report states: its description first, then its documents' text, then its subject.

    A supplement (of) counts only what its own words state: the words above the quoted thread, then
    its documents; never its subject, which repeats the report's. Stated nowhere, it counts 0."""
    if of is None:
        return _first(description_text(text=mail.text, html=mail.html), documents, subject)
    own = _first(description_text(text=above_quote(mail.text, mail.html), html=""), documents, None)
    return Statement(
        number=own.number if own else 0,
        phrase=of.phrase(own.phrase if own else None),
        source=CountSource.SUPPLEMENT,
    )


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
    blobs: BlobStore,
    *,
    raw_sha256: str | None,
    subject: str | None,
    documents: Sequence[str] = (),
    supplements: Supplements | None = None,
) -> Statement | None:
    """What a stored report states: its description, its documents' text (as recorded with its
    files), its subject; the first that states a number. With supplements, a mail that supplements
    an earlier report (asked of its stored headers, as when it was judged) counts as statement_of says.

    Raises ReportUnreadable when the stored raw message cannot be read: what was read from it
    before is then kept, never replaced by nothing."""
    body = ""
    if raw_sha256 is not None:
        try:
            mail = parse_bytes(blobs.read_bytes(raw_sha256))
        except Exception as exc:
            raise ReportUnreadable(f"the raw message {raw_sha256} cannot be read: {type(exc).__name__}") from exc
        of = supplements(mail) if supplements is not None else None
        if of is not None:
            return statement_of(mail, subject=subject, documents=documents, of=of)
        body = description_text(text=mail.text, html=mail.html)
    return _first(body, documents, subject)


def supplements_of(session: Session, *, message_id: int, mailbox: str, unit: str | None) -> Supplements:
    """The question read_report asks of a stored message's parsed headers: which report it supplements."""
    return lambda mail: supplement_of(session, message_id=message_id, mailbox=mailbox, unit=unit, mail=mail)


class ReportUnreadable(OSError):
    """A report's stored raw message cannot be read again (missing or damaged file)."""


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
            select(Message.id, Message.raw_sha256, Message.subject, Message.mailbox, Message.unit)
            .outerjoin(ActivityCount, ActivityCount.message_id == Message.id)
            .where(
                Message.mailbox.in_(list(report_mailboxes)),
                Message.status == MessageStatus.ACCEPTED,
                or_(ActivityCount.message_id.is_(None), ActivityCount.rule != RULE),
            )
            .order_by(Message.id)
        ).all()
    read = 0
    for msg_id, sha, subject, mailbox, unit in rows:
        try:
            with sessions() as session:
                documents = stored_texts(session, msg_id)
                statement = read_report(
                    blobs,
                    raw_sha256=sha,
                    subject=subject,
                    documents=documents,
                    supplements=supplements_of(session, message_id=msg_id, mailbox=mailbox, unit=unit),
                )
        except ReportUnreadable:  # the count read before stays; the next upgrade tries again
            log.warning("activity count of message %s kept as it was: its raw message cannot be read", msg_id)
            continue
        try:
            with sessions.begin() as session:
                record(session, message_id=msg_id, statement=statement)
        except IntegrityError:  # another worker read it at the same moment, with the same result
            continue
        read += 1
    return read


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
            try:
                statement = read_report(
                    blobs,
                    raw_sha256=msg.raw_sha256,
                    subject=msg.subject,
                    documents=documents,
                    supplements=supplements_of(session, message_id=msg.id, mailbox=msg.mailbox, unit=msg.unit),
                )
            except ReportUnreadable:  # what was read before stays
                log.warning("activity count of message %s kept as it was: its raw message cannot be read", message_id)
                return
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
