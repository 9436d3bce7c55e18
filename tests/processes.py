"""Real `intake` processes for the fault tests: start, wait for what the database shows, kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from intake.app import App
from intake.config import load
from store.enums import ReplyStatus
from store.models import Message, Reply

UNITS = ("西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会", "海东市总工会")
FAST = """
[service]
heartbeat_seconds = 1
reply_seconds = 1
backoff_seconds = 1
backoff_max_seconds = 4
imap_timeout_seconds = 5
"""


def intake(config: Path, *args: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`intake --config config ARGS` in its own process, its output appended to log."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "intake", "--config", str(config), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, step: float = 0.1) -> float:
    """Poll check until it holds; returns the monotonic time it did (AssertionError after timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(step)
    raise AssertionError(f"not within {timeout}s: {what}")


class Db:
    """Read the test database as the processes leave it."""

    def __init__(self, config: Path) -> None:
        self.app = App.build(load(config))

    def close(self) -> None:
        self.app.engine.dispose()

    def messages(self) -> int:
        with self.app.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Message)) or 0)

    def statuses(self) -> dict[str, int]:
        with self.app.sessions() as session:
            rows = session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        return {status.value: int(n) for status, n in rows}

    def replies(self, status: ReplyStatus = ReplyStatus.SENT) -> int:
        with self.app.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Reply).where(Reply.status == status)) or 0)
