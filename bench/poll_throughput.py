"""Benchmark: one poll of a real Dovecot mailbox, end to end (fetch, store, judge, reply rows).

Run on demand, never in the test suite:

    .venv/bin/python bench/poll_throughput.py --messages 300 [--db postgresql://postgres@127.0.0.1:5432/test]

Prints messages per second for the whole poll, the time spent fetching alone with imaplib's
debug formatting off (as the intake runs) and on (imapclient's default), and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

from imapclient import IMAPClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# devservers and the test helpers are not installed: take them from the tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import write_config

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from store.db import make_engine
from store.migrate import upgrade


def _fetch_all(dovecot: Dovecot, user: str, *, debug_off: bool) -> float:
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
    if debug_off:
        client._imap.debug = 0
    client.login(user, dovecot.users[user])
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    start = time.perf_counter()
    for i in range(0, len(uids), 20):
        client.fetch(uids[i : i + 20], ["BODY.PEEK[]"])
    elapsed = time.perf_counter() - start
    client.logout()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--photos", type=int, default=2, help="photos per report (each about 6 KB)")
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL (a throwaway database is made)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    password = secrets.token_urlsafe(12)
    dovecot = Dovecot.start(base_dir=work / "dovecot", users={"bench": password})
    sink = SmtpSink.start()
    admin = None
    dbname = ""
    try:
        if args.db == "sqlite":
            url = f"sqlite:///{work / 'intake.db'}"
        else:
            base = make_url(args.db).set(drivername="postgresql+psycopg")
            dbname = f"intake_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
            url = base.set(database=dbname).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        units = ["西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会"]
        raws = [
            samples.offline_report(unit=units[i % 4], sender=f"u{i}@163.com", photos=args.photos)
            for i in range(args.messages)
        ]
        dovecot.append_many("bench", raws)
        size = sum(len(r) for r in raws)
        print(f"seeded {len(raws)} messages, {size / 1e6:.1f} MB")

        off = _fetch_all(dovecot, "bench", debug_off=True)
        on = _fetch_all(dovecot, "bench", debug_off=False)
        print(f"fetch only, imaplib debug off: {off:.3f} s ({size / off / 1e6:.0f} MB/s)")
        print(f"fetch only, imaplib debug on:  {on:.3f} s ({size / on / 1e6:.0f} MB/s)")

        os.environ["INTAKE_TEST_IMAP_PASSWORD"] = password
        config = write_config(work / "config.toml", db_url=url, dovecot=dovecot, smtp=sink, user="bench")
        app = App.build(load(config))
        start = time.perf_counter()
        (report,) = app.poll()
        polled = time.perf_counter() - start
        start = time.perf_counter()
        sent = app.send_replies()
        sending = time.perf_counter() - start
        app.engine.dispose()
        print(
            f"poll: {report.fetched} messages in {polled:.2f} s = {report.fetched / polled:.0f} msg/s; "
            f"verdicts {report.statuses}"
        )
        print(f"replies: {sent.sent} sent in {sending:.2f} s = {sent.sent / max(sending, 1e-9):.0f} msg/s")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        sink.stop()
        dovecot.stop()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
