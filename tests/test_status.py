"""`intake status`: what an admin or a health check sees, and the exit code that says whether to act."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from store.enums import DigestStatus, MessageStatus
from store.models import DigestRun, Message

pytestmark = pytest.mark.servers


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_status_healthy_then_needing_attention(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    deliver(samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
    assert _run(settings_path, "poll", "--once")[0] == 0
    code, out = _run(settings_path, "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["healthy"] is True and data["problems"] == []
    (box,) = data["mailboxes"]
    assert box["name"] == "reports" and box["consecutive_failures"] == 0 and box["last_error"] is None
    assert box["last_ok_at"].endswith("Z")
    assert (data["received"], data["failed"], data["replies_pending"], data["replies_given_up"]) == (0, 0, 0, 0)
    assert data["last_digest_day"] is None
    code, out = _run(settings_path, "status")
    assert code == 0 and "mailbox reports (" in out and "last good poll" in out and out.rstrip().endswith("ok")
    # a message stored but left unjudged for an hour, and a digest sent
    app = App.build(load(settings_path))
    with app.sessions.begin() as session:
        for msg in session.scalars(select(Message)):
            msg.status = MessageStatus.RECEIVED
            msg.received_at -= dt.timedelta(hours=1)
        session.add(DigestRun(day=dt.date(2020, 6, 1), status=DigestStatus.SENT, sent_at=dt.datetime(2020, 6, 1, 0, 0)))
    app.close()
    code, out = _run(settings_path, "status")
    assert code == 1
    assert "messages: 1 received (not yet judged), 0 failed" in out
    assert "attention: 1 message(s) stored but not judged, the oldest for 60 minutes" in out
    assert "last digest sent: 2020-06-01" in out and out.rstrip().endswith("needs attention: 1 problem(s)")
