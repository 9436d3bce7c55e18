"""SMTP answering 4xx, 5xx or not at all: replies wait and are retried, or are given up and shown."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from store import queries
from store.enums import ReplyStatus

pytestmark = pytest.mark.servers


def _status(config: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(config), "status"], capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout + done.stderr


def _reply(app: App, sender: str) -> tuple[ReplyStatus, int, str | None]:
    with app.sessions() as session:
        (msg,) = [m for m in queries.messages(session) if m.sender == sender]
        reply = msg.replies[0]
        return reply.status, reply.attempts, reply.last_error


def test_smtp_refusals_and_silence(settings_path: Path, smtp: SmtpSink, tmp_path: Path) -> None:
    settings_path.write_text(
        settings_path.read_text(encoding="utf-8").replace("retry_seconds = 1", "retry_seconds = 1\ntimeout_seconds = 1")
    )
    app = App.build(load(settings_path))
    try:

        def arrive(sender: str, unit: str) -> None:
            eml = tmp_path / f"{sender}.eml"
            eml.write_bytes(samples.offline_report(unit=unit, sender=sender))
            assert app.import_file(mailbox="reports", path=eml)[1] is not None

        # 4xx: the reply waits and goes out when the server takes mail again
        arrive("later@163.com", "西宁市总工会")
        smtp.answer = "451 4.3.0 Try again later"
        report = app.send_replies()
        assert (report.sent, report.retrying, report.given_up) == (0, 1, 0)
        status, attempts, error = _reply(app, "later@163.com")
        assert status is ReplyStatus.PENDING and attempts == 1 and error is not None and "451" in error
        smtp.answer = None
        time.sleep(1.1)
        assert app.send_replies().sent == 1
        assert _reply(app, "later@163.com")[0] is ReplyStatus.SENT
        assert [c.rcpt_tos[0] for c in smtp.messages] == ["later@163.com"]

        # 5xx: refused for good, given up at once, and shown to admins
        arrive("refused@163.com", "海南州总工会")
        smtp.answer = "550 5.7.1 Message refused"
        report = app.send_replies()
        assert (report.sent, report.retrying, report.given_up) == (0, 0, 1)
        status, attempts, error = _reply(app, "refused@163.com")
        assert status is ReplyStatus.FAILED and attempts == 1 and error is not None and "550" in error
        code, out = _status(settings_path)
        assert code == 1 and "replies: 0 pending, 1 given up" in out and "attention: 1 reply(ies) given up" in out

        # silence: the send gives up after the timeout, the reply stays pending
        smtp.answer = None
        smtp.delay_seconds = 3
        arrive("slow@163.com", "黄南州总工会")
        started = time.monotonic()
        report = app.send_replies()
        assert time.monotonic() - started < 2.9
        assert (report.sent, report.retrying) == (0, 1)
        status, attempts, error = _reply(app, "slow@163.com")
        assert status is ReplyStatus.PENDING and error is not None and "timed out" in error
        smtp.delay_seconds = 0
        time.sleep(1.1)
        assert app.send_replies().sent == 1
    finally:
        smtp.clear()
        app.close()
