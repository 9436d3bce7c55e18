"""One dead mailbox among live ones: the others are polled and answered; the failure is one line."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from ingest.fetch.poller import backoff_delay
from intake.app import App
from intake.config import load
from store.models import MailboxState
from tests.conftest import write_config
from tests.processes import FAST, Db, intake, stop, wait_until

pytestmark = pytest.mark.servers


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def _three_mailboxes(
    tmp_path: Path, db_url: str, dovecot: Dovecot, smtp: SmtpSink, user: tuple[str, str], mp: pytest.MonkeyPatch
) -> tuple[Path, str, int]:
    """reports (live), dead (nothing listens), works (live, the folder Works of the same user); returns the
    config, the folder and the dead port."""
    works = "Works"
    client = dovecot.client(user[0])
    try:
        client.create_folder(works)
    finally:
        client.logout()
    mp.setenv("INTAKE_TEST_IMAP_PASSWORD", user[1])
    port = _dead_port()
    config = write_config(tmp_path / "config.toml", db_url=db_url, dovecot=dovecot, smtp=smtp, user=user[0])
    config.write_text(
        config.read_text(encoding="utf-8")
        + FAST
        + f"""
[[mailboxes]]
name = "dead"
kind = "offline-activity"
address = "dead@126.com"
host = "127.0.0.1"
port = {port}
security = "none"
username = "dead"
password_env = "INTAKE_TEST_IMAP_PASSWORD"

[[mailboxes]]
name = "works"
kind = "offline-activity"
address = "works@126.com"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user[0]}"
password_env = "INTAKE_TEST_IMAP_PASSWORD"
folder = "{works}"
""",
        encoding="utf-8",
    )
    return config, works, port


def test_poll_once_polls_every_mailbox_and_names_the_dead_one(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a live mailbox, a dead one and another live one after it, each live one with a report
    config, works, port = _three_mailboxes(tmp_path, db_url, dovecot, smtp, imap_user, monkeypatch)
    dovecot.append(imap_user[0], samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
    dovecot.append(imap_user[0], samples.offline_report(unit="海南州总工会", sender="hn@163.com"), folder=works)
    # When `intake poll --once` runs
    done = subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(config), "poll", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then both live mailboxes were polled and answered, the dead one is one line, and the exit is 1
    lines = done.stdout.splitlines()
    assert lines[0] == "reports: fetched 1: accepted 1"
    assert lines[1].startswith(f"dead: failed: 127.0.0.1:{port}: ") and "Connection refused" in lines[1]
    assert lines[2] == "works: fetched 1: accepted 1"
    assert lines[3].startswith("replies: sent 2")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "1 mailbox(es) could not be polled" in done.stderr
    assert sorted(c.rcpt_tos[0] for c in smtp.wait_for(2)) == ["hn@163.com", "xn@163.com"]


@pytest.mark.slow
def test_run_logs_a_dead_mailbox_in_one_line_and_keeps_serving_the_others(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, works, port = _three_mailboxes(tmp_path, db_url, dovecot, smtp, imap_user, monkeypatch)
    dovecot.append(imap_user[0], samples.offline_report(unit="海南州总工会", sender="hn@163.com"), folder=works)
    log = tmp_path / "run.log"
    proc = intake(config, "run", log=log)
    db = Db(config)
    try:
        smtp.wait_for(1, timeout=30)
        with db.app.sessions() as session:
            wait_until(lambda: bool(session.get(MailboxState, "dead")), timeout=10, what="the dead mailbox's state")
        assert stop(proc) == 0
    finally:
        stop(proc)
        db.close()
    text = log.read_text(encoding="utf-8")
    failures = [line for line in text.splitlines() if "failed:" in line]
    assert failures and all(f"poll dead failed: 127.0.0.1:{port}: ConnectionRefusedError" in line for line in failures)
    assert "in a row, next try in" in failures[0]
    assert "Traceback" not in text and "executed successfully" not in text
    code, out = _status(config)
    assert code == 1 and f"attention: mailbox dead (127.0.0.1:{port}): never polled successfully: " in out
    assert f"mailbox dead (127.0.0.1:{port}): last good poll never, 1 failed in a row" in out


def _status(config: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(config), "status"], capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout + done.stderr


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets_on_success(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(1)
    waits = [backoff_delay(n, base=30, cap=1800, rng=rng) for n in range(1, 10)]
    for n, wait in enumerate(waits, start=1):
        full = min(1800, 30 * 2 ** (n - 1))
        assert full / 2 <= wait <= full
    assert waits[-1] <= 1800 and len(set(waits)) == len(waits)
    # a mailbox that fails twice waits longer the second time, and a good poll clears it
    config, _, port = _three_mailboxes(tmp_path, db_url, dovecot, smtp, imap_user, monkeypatch)
    config.write_text(config.read_text(encoding="utf-8").replace("backoff_max_seconds = 4", "backoff_max_seconds = 60"))
    app = App.build(load(config))
    try:
        seen = []
        for _ in range(2):
            report = app.poll_box(app.settings.mailbox("dead"))
            assert report.error is not None
            with app.sessions() as session:
                state = session.get(MailboxState, "dead")
                assert state is not None and state.retry_at is not None and state.last_poll_at is not None
                seen.append((state.consecutive_errors, (state.retry_at - state.last_poll_at).total_seconds()))
        assert [n for n, _ in seen] == [1, 2]
        assert 0.5 <= seen[0][1] <= 1.1 and 1.0 <= seen[1][1] <= 2.1
        config.write_text(config.read_text(encoding="utf-8").replace(f"port = {port}", f"port = {dovecot.port}"))
        live = App.build(load(config))
        try:
            assert live.poll_box(live.settings.mailbox("dead")).error is not None  # the user does not exist
            monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
            text = config.read_text(encoding="utf-8").replace('username = "dead"', f'username = "{imap_user[0]}"')
            config.write_text(text)
            fixed = App.build(load(config))
            assert fixed.poll_box(fixed.settings.mailbox("dead")).error is None
            with fixed.sessions() as session:
                state = session.get(MailboxState, "dead")
                assert state is not None and state.consecutive_errors == 0 and state.retry_at is None
            fixed.close()
        finally:
            live.close()
    finally:
        app.close()
