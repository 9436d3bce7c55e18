"""Arrival times and identities read from raw messages, without servers."""

from __future__ import annotations

import datetime as dt

from ingest.identity import identity
from ingest.mail.arrival import from_internaldate, of_file
from store.enums import ArrivalSource

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
TRACE = (
    b"Received: from smtp.163.com by mx.126.com (Coremail) with SMTP id a1;\r\n"
    b"\tThu, 20 Aug 2020 23:40:02 +0800 (CST)\r\n"
    b"Received: from pc (unknown [10.0.0.2]) by smtp.163.com; Thu, 20 Aug 2020 23:39:58 +0800\r\n"
)
BODY = b"From: a@163.com\r\nSubject: x\r\nDate: Thu, 20 Aug 2020 23:39:00 +0800\r\n\r\nbody  \r\n"


def test_an_imported_file_arrived_at_its_newest_received_hop() -> None:
    found = of_file(TRACE + BODY, now=NOW)
    assert (found.at, found.source) == (dt.datetime(2020, 8, 20, 15, 40, 2), ArrivalSource.RECEIVED)


def test_without_a_readable_received_the_date_header_is_used_then_the_import_time() -> None:
    assert of_file(b"Received: garbage\r\n" + BODY, now=NOW).source is ArrivalSource.DATE
    assert of_file(BODY, now=NOW).at == dt.datetime(2020, 8, 20, 15, 39)
    undated = of_file(b"From: a@163.com\r\nSubject: x\r\n\r\nbody\r\n", now=NOW)
    assert (undated.at, undated.source) == (NOW.replace(tzinfo=None), ArrivalSource.STORED)


def test_a_date_in_the_future_is_not_believed() -> None:
    future = b"Received: by mx.126.com; Mon, 1 Jan 2099 00:00:00 +0000\r\nSubject: x\r\n\r\nbody\r\n"
    assert of_file(future, now=NOW).source is ArrivalSource.STORED


def test_internaldate_is_kept_in_utc() -> None:
    beijing = dt.datetime(2020, 8, 20, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    found = from_internaldate(beijing, now=NOW)
    assert (found.at, found.source) == (dt.datetime(2020, 8, 20, 15, 30), ArrivalSource.INTERNALDATE)
    assert from_internaldate(None, now=NOW).source is ArrivalSource.STORED


def test_identity_ignores_line_endings_trailing_spaces_and_trace_headers() -> None:
    crlf = identity(address="wxb0626@126.com", message_id=None, sender="a@163.com", raw=TRACE + BODY)
    lf = identity(address="WXB0626@126.com", message_id=None, sender="a@163.com", raw=BODY.replace(b"\r\n", b"\n"))
    assert crlf == lf
    changed = identity(address="wxb0626@126.com", message_id=None, sender="a@163.com", raw=BODY + b"more\r\n")
    assert changed != crlf


def test_identity_is_message_id_and_sender_per_receiving_address() -> None:
    def key(address: str, sender: str) -> str:
        return identity(address=address, message_id="<m1@163.com>", sender=sender, raw=b"")

    assert key("wxb0626@126.com", "a@163.com") == key("wxb0626@126.com", "A@163.com")
    assert key("wxb0626@126.com", "a@163.com") != key("wxb0626@126.com", "b@163.com")
    assert key("wxb0626@126.com", "a@163.com") != key("qhzgsy@126.com", "a@163.com")
