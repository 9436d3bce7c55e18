"""The benchmark's surroundings: progress lines, throwaway databases and the intake configuration."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from devservers.dovecot import Dovecot
from devservers.roster import ROSTER_TOML
from devservers.smtpsink import SmtpSink
from store.db import make_engine
from store.migrate import upgrade

PASSWORD_ENV: Final = "INTAKE_BENCH_IMAP_PASSWORD"
MAILBOX_ADDRESS: Final = "wxb0626@126.com"
_STARTED: Final = time.monotonic()


def say(line: str) -> None:
    """A progress line on stderr, with the seconds since the benchmark started."""
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {line}", file=sys.stderr, flush=True)


class Databases:
    """A fresh, migrated database per measurement: a SQLite file in the work folder, or a throwaway
    PostgreSQL database made from the URL given (all dropped by `close`)."""

    def __init__(self, spec: str, *, work: Path) -> None:
        self.spec = spec
        self.work = work
        self._admin: Engine | None = None
        self._made: list[str] = []
        self._tag = uuid.uuid4().hex[:8]
        if spec != "sqlite":
            self._base = make_url(spec).set(drivername="postgresql+psycopg")
            self._admin = create_engine(self._base, isolation_level="AUTOCOMMIT")

    @property
    def kind(self) -> str:
        return "sqlite" if self._admin is None else "postgresql"

    def fresh(self, name: str) -> str:
        """The URL of a new, migrated database for one measurement."""
        if self._admin is None:
            url = f"sqlite:///{self.work / f'{name}.db'}"
        else:
            dbname = f"intake_bench_{self._tag}_{name}"
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
            self._made.append(dbname)
            url = self._base.set(database=dbname).render_as_string(hide_password=False)
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return url

    def close(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for dbname in self._made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        self._made.clear()
        self._admin.dispose()


def write_config(
    path: Path,
    *,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    user: str,
    kind: str = "offline-activity",
    poll_seconds: int = 60,
    max_message_bytes: int | None = None,
    judge_processes: int | None = None,
) -> Path:
    """The test configuration's shape (tests/conftest.py) with one mailbox on the bench's Dovecot.

    The reply caps of [safety] are lifted so that every message of a run gets its reply row (the
    default global cap of 200 an hour would hold back half of 400 reports)."""
    size = f"max_message_bytes = {max_message_bytes}\n" if max_message_bytes else ""
    service = f"\n[service]\njudge_processes = {judge_processes}\n" if judge_processes is not None else ""
    path.write_text(
        f"""
[store]
url = {json.dumps(db_url)}
blob_dir = {json.dumps(str(path.parent / (path.stem + "-blobs")))}

[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
sender = "{MAILBOX_ADDRESS}"
retry_seconds = 1

[[mailboxes]]
name = "reports"
kind = "{kind}"
address = "{MAILBOX_ADDRESS}"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password_env = "{PASSWORD_ENV}"
poll_seconds = {poll_seconds}
{size}
[digest]
recipients = ["hosts@example.org"]
time = "07:30"

[safety]
per_sender_daily = 100000
global_hourly = 100000
unknown_sender_hourly = 100000
{service}
{ROSTER_TOML}""",
        encoding="utf-8",
    )
    return path
