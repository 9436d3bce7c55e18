"""Shared fixtures: a real Dovecot, a real SMTP capture server, and SQLite or PostgreSQL.

The database comes from INTAKE_TEST_DB: `sqlite` (default: a new file per test) or a
PostgreSQL URL, from which a throwaway database is created for the run and dropped after it.
"""

from __future__ import annotations

import itertools
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from campaign.settings import Settings
from devservers.dovecot import Dovecot
from devservers.roster import ROSTER_TOML
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from store.db import make_engine
from store.migrate import upgrade
from store.models import Base

_users = itertools.count(0)
Build = Callable[..., App]  # the `intake` fixture: kind, extra [rules], deadline -> a built App


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL database for the whole run, or None when testing on SQLite."""
    setting = os.environ.get("INTAKE_TEST_DB", "sqlite")
    if setting == "sqlite":
        yield None
        return
    base = make_url(setting).set(drivername="postgresql+psycopg")
    name = f"intake_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_url(pg_url: str | None, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database for one test."""
    if pg_url is None:
        url = f"sqlite:///{tmp_path / 'intake.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield pg_url


POOL = 120  # mailboxes created up front: adding a user later waits for Dovecot to reread its file


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    users = {f"box{i}": secrets.token_urlsafe(12) for i in range(POOL)}
    server = Dovecot.start(base_dir=tmp_path_factory.mktemp("dovecot"), users=users)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> SmtpSink:
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def imap_user(dovecot: Dovecot) -> tuple[str, str]:
    """A fresh, empty mailbox on the shared Dovecot."""
    number = next(_users)
    if number < POOL:
        name = f"box{number}"
        return name, dovecot.users[name]
    name, password = f"box{number}", secrets.token_urlsafe(12)
    dovecot.add_user(name, password)
    return name, password


def write_config(
    path: Path,
    *,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    user: str,
    kind: str = "offline-activity",
    extra: str = "",
) -> Path:
    path.write_text(
        f"""
[store]
url = "{db_url}"
blob_dir = "blobs"

[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
sender = "wxb0626@126.com"
retry_seconds = 1

[[mailboxes]]
name = "reports"
kind = "{kind}"
address = "wxb0626@126.com"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password_env = "INTAKE_TEST_IMAP_PASSWORD"
poll_seconds = 60

[digest]
recipients = ["hosts@example.org"]
time = "07:30"

{ROSTER_TOML}{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def intake(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Build]:
    """Builds the service with one mailbox of the given kind (and optional [rules] and deadline)."""
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
    apps: list[App] = []

    def build(kind: str, *, extra: str = "", deadline: str | None = None) -> App:
        path = write_config(
            tmp_path / "config.toml",
            db_url=db_url,
            dovecot=dovecot,
            smtp=smtp,
            user=imap_user[0],
            kind=kind,
            extra=extra,
        )
        if deadline is not None:
            text = path.read_text(encoding="utf-8").replace(
                "poll_seconds = 60", f"poll_seconds = 60\ndeadline = {deadline}"
            )
            path.write_text(text, encoding="utf-8")
        app = App.build(load(path))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.engine.dispose()


def write_offline_config(
    path: Path,
    *,
    db_url: str,
    smtp: str = "port = 2525",
    mailbox_extra: str = "",
    unit_extra: str = "",
    extra: str = "",
) -> Path:
    """A configuration for tests that import files and need no IMAP server (nothing listens on its ports)."""
    path.write_text(
        f"""
[store]
url = "{db_url}"
blob_dir = "blobs"

[smtp]
host = "127.0.0.1"
{smtp}
security = "none"
sender = "wxb0626@126.com"

[[mailboxes]]
name = "reports"
kind = "offline-activity"
address = "wxb0626@126.com"
host = "127.0.0.1"
port = 1143
security = "none"
username = "reports"
password_env = "INTAKE_TEST_UNUSED"
{mailbox_extra}

[digest]
recipients = ["hosts@example.org"]

[[units]]
name = "西宁市总工会"
aliases = ["西宁总工会"]
activity_quota = 10
{unit_extra}

[[units]]
name = "海南州总工会"
activity_quota = 5
{extra}
""",
        encoding="utf-8",
    )
    return path


ConfigFile = Callable[..., Path]


@pytest.fixture
def config_file(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> ConfigFile:
    """Writes this test's configuration on the shared servers: `mailbox` keys go into its one mailbox,
    `replace` swaps text (a port, the blob folder), `tail` is appended (tables such as [service]).
    These tests send mail from many new senders and are not about the caps on replies: the cap on
    replies to first contacts is lifted (test_cannon_e2e and test_safety test it)."""
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])

    def make(*, mailbox: str = "", tail: str = "", replace: dict[str, str] | None = None) -> Path:
        path = write_config(tmp_path / "config.toml", db_url=db_url, dovecot=dovecot, smtp=smtp, user=imap_user[0])
        text = path.read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        if mailbox:
            text = text.replace("poll_seconds = ", f"{mailbox}\npoll_seconds = ", 1)
        path.write_text(text + "\n[safety]\nunknown_sender_hourly = 100000\n" + tail, encoding="utf-8")
        return path

    return make


@pytest.fixture
def settings_path(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A configuration file for one test: its own mailbox and database, the shared servers."""
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
    return write_config(tmp_path / "config.toml", db_url=db_url, dovecot=dovecot, smtp=smtp, user=imap_user[0])


@pytest.fixture
def settings(settings_path: Path) -> Settings:
    return load(settings_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    application = App.build(settings)
    yield application
    application.close()


@pytest.fixture
def deliver(dovecot: Dovecot, imap_user: tuple[str, str]) -> Callable[[bytes], int]:
    """Put a raw message into the test mailbox's INBOX; returns its UID."""

    def _deliver(raw: bytes) -> int:
        return dovecot.append(imap_user[0], raw)

    return _deliver
