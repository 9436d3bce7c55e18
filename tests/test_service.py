"""`intake run` as a real process: it polls on its schedule and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from store import queries
from store.enums import MessageStatus

pytestmark = [pytest.mark.servers, pytest.mark.slow]


def test_run_polls_and_stops_on_sigterm(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake", "--config", str(settings_path), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            smtp.wait_for(1, timeout=30)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
    text = log.read_text(encoding="utf-8")
    assert code == 0, text
    assert "finishing the message in hand" in text and "intake stopped" in text
    assert "reports" in text
    app = App.build(load(settings_path))
    with app.sessions() as session:
        (msg,) = queries.messages(session)
    app.engine.dispose()
    assert msg.status is MessageStatus.ACCEPTED
    assert len(smtp.messages) == 1
