"""When a message reached the provider: IMAP INTERNALDATE, else the newest `Received:` hop, else `Date:`.

mail-parser reads the `Received:` hops (each hop's date as UTC); it is given those header fields
only, never the body (its whole-message parse costs about ten times the message in memory, and its
subject decoding is not used: `ingest.mail.decode` does that).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from dataclasses import dataclass

import mailparser

from store.enums import ArrivalSource

log = logging.getLogger(__name__)
HEADER_BYTES = 256 * 1024  # of a message, read for its trace headers
FUTURE_SLACK = dt.timedelta(hours=1)  # a clock this far ahead of ours is not believed
_END_OF_HEADER = re.compile(rb"\r?\n\r?\n")
_RECEIVED = re.compile(rb"^received:.*\r?\n(?:[ \t].*\r?\n)*", re.I | re.M)


@dataclass(frozen=True, kw_only=True)
class Arrival:
    """An arrival time (naive UTC, as the store keeps times) and where it came from."""

    at: dt.datetime
    source: ArrivalSource


def _utc(value: dt.datetime) -> dt.datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def from_internaldate(value: dt.datetime | None, *, now: dt.datetime) -> Arrival:
    """The IMAP server's INTERNALDATE (imapclient gives it naive, in this machine's local time, or
    aware); the time we stored the message when the server sent none."""
    if value is None:
        return Arrival(at=_utc(now), source=ArrivalSource.STORED)
    # astimezone reads a naive value as this machine's local time, which is what imapclient means
    return Arrival(at=value.astimezone(dt.UTC).replace(tzinfo=None), source=ArrivalSource.INTERNALDATE)


def _header_block(raw: bytes) -> bytes:
    head = raw[:HEADER_BYTES]
    end = _END_OF_HEADER.search(head)
    return head[: end.end()] if end else head + b"\r\n\r\n"


def newest_received(raw: bytes) -> dt.datetime | None:
    """The latest date among the `Received:` hops (naive UTC), or None when none can be read."""
    fields = _RECEIVED.findall(_header_block(raw))
    if not fields:
        return None
    try:  # only the Received: fields: nothing else for mail-parser to read (or to log about)
        hops = mailparser.parse_from_bytes(b"".join(fields) + b"\r\n").received
    except Exception:  # a malformed trace header is the sender's (or a relay's) problem, not ours
        log.debug("Received: headers could not be read", exc_info=True)
        return None
    dates: list[dt.datetime] = []
    for hop in hops or ():
        text = hop.get("date_utc") if isinstance(hop, dict) else None
        if not isinstance(text, str):
            continue
        try:
            dates.append(_utc(dt.datetime.fromisoformat(text)))
        except ValueError:
            continue
    return max(dates) if dates else None


def date_header(raw: bytes) -> dt.datetime | None:
    """The `Date:` header (naive UTC), or None when missing or unreadable."""
    match = re.search(rb"^date:[ \t]*(.*(?:\r?\n[ \t].*)*)", _header_block(raw), re.I | re.M)
    if match is None:
        return None
    text = match.group(1).decode("ascii", "replace")
    try:
        parsed = email.utils.parsedate_to_datetime(re.sub(r"\s+", " ", text).strip())
    except (TypeError, ValueError, IndexError):
        return None
    return _utc(parsed) if parsed is not None else None


def of_file(raw: bytes, *, now: dt.datetime) -> Arrival:
    """For an imported file: the newest `Received:` date, else `Date:`, else now (the import time).
    A date later than now (plus an hour's clock skew) is not believed."""
    limit = _utc(now) + FUTURE_SLACK
    received = newest_received(raw)
    if received is not None and received <= limit:
        return Arrival(at=received, source=ArrivalSource.RECEIVED)
    dated = date_header(raw)
    if dated is not None and dated <= limit:
        return Arrival(at=dated, source=ArrivalSource.DATE)
    return Arrival(at=_utc(now), source=ArrivalSource.STORED)
