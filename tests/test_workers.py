"""Several workers: each mailbox polled by one worker at a time, replies sent by one, and the locks freed
when their holder dies (SIGKILL)."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ConfigFile
from sqlalchemy import select, update

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from store.db import make_engine, make_sessions
from store.models import Worker
from store.workers import Heart, LeaseLocks
from tests.processes import FAST, UNITS, Db, intake, stop, wait_until

pytestmark = pytest.mark.servers


def test_a_lease_is_free_once_its_holder_stops_beating(settings_path: Path) -> None:
    app = App.build(load(settings_path))
    try:
        first = Heart(sessions=app.sessions, stale_seconds=5)
        second = Heart(sessions=app.sessions, stale_seconds=5)
        a, b = LeaseLocks(sessions=app.sessions, heart=first), LeaseLocks(sessions=app.sessions, heart=second)
        first.beat()
        second.beat()
        assert a.try_lock("mailbox:reports") and a.try_lock("mailbox:reports")
        assert not b.try_lock("mailbox:reports")
        # the holder falls silent for longer than the stale time
        with app.sessions.begin() as session:
            session.execute(
                update(Worker).where(Worker.id == first.id).values(beat_at=Worker.beat_at - dt.timedelta(seconds=6))
            )
        assert b.try_lock("mailbox:reports")
        assert not a.try_lock("mailbox:reports") and a.held() == []
        b.unlock("mailbox:reports")
        assert a.try_lock("mailbox:reports")
        second.retire()
        with app.sessions() as session:
            assert list(session.scalars(select(Worker.id))) == [first.id]
    finally:
        app.close()


@pytest.mark.slow
def test_two_workers_on_postgresql_and_the_lock_holder_killed(
    config_file: ConfigFile,
    pg_url: str | None,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    if pg_url is None:
        pytest.skip("several workers need PostgreSQL (advisory locks); on SQLite one worker is assumed")
    config = config_file(tail=FAST)
    for i in range(4):
        dovecot.append(imap_user[0], samples.offline_report(unit=UNITS[i], sender=f"unit{i}@163.com"))
    # Given two workers on one PostgreSQL database
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [intake(config, "run", log=log) for log in logs]
    db = Db(config)
    try:
        wait_until(lambda: db.replies() == 4, timeout=60, what="four acknowledgements")
        # Then one of them holds the mailbox
        with db.app.sessions() as session:
            workers = list(session.scalars(select(Worker)))
        holders = [w for w in workers if "mailbox:reports" in w.holds.split()]
        assert len(holders) == 1 and len([w for w in workers if "leader" in w.holds.split()]) == 1
        holder = holders[0]
        # When the holder is killed and more mail arrives
        os.kill(holder.pid, signal.SIGKILL)
        killed = time.monotonic()
        for i in range(4, 8):
            dovecot.append(imap_user[0], samples.offline_report(unit=UNITS[i % 5], sender=f"unit{i}@163.com"))
        # Then the other worker takes the mailbox over at once and answers the new mail
        last_ack = wait_until(lambda: db.replies() == 8, timeout=60, what="eight acknowledgements")
        assert db.messages() == 8 and db.statuses() == {"accepted": 8}
        sent = collections.Counter(c.message()["Message-ID"] for c in smtp.messages)
        assert len(sent) == 8 and max(sent.values()) == 1
        survivor = next(p for p in procs if p.pid != holder.pid)
        assert stop(survivor) == 0
        dead = next(p for p in procs if p.pid == holder.pid)
        assert dead.wait(timeout=10) == -9
        texts = [log.read_text(encoding="utf-8") for log in logs]
        assert sum(t.count("polls reports") for t in texts) == 2  # the first holder, then the survivor
        print(
            f"\n[figures] two workers: messages 8, kills 1, lost 0, duplicates 0, "
            f"last kill to last acknowledgement {last_ack - killed:.1f}s"
        )
    finally:
        for p in procs:
            stop(p)
        db.close()


def test_poll_once_leaves_a_mailbox_held_by_a_running_worker(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    # Given a worker that holds the mailbox (as `intake run` does)
    holder = App.build(load(settings_path))
    try:
        assert holder.locks.try_lock("mailbox:reports")
        holder.heart.beat(" ".join(holder.locks.held()))
        deliver(samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
        # When an admin runs `intake poll --once`
        result = CliRunner().invoke(cli, ["--config", str(settings_path), "poll", "--once"], catch_exceptions=False)
        # Then the mailbox is left to its holder, and said so
        assert result.exit_code == 0
        assert f"reports: skipped: polled by worker {holder.heart.id.split(':')[0]} pid {os.getpid()}" in result.stdout
    finally:
        holder.close()
    result = CliRunner().invoke(cli, ["--config", str(settings_path), "poll", "--once"], catch_exceptions=False)
    assert "reports: fetched 1: accepted 1" in result.stdout


@pytest.mark.slow
def test_two_workers_on_postgresql_and_the_holder_killed_while_judging(
    config_file: ConfigFile,
    pg_url: str | None,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    if pg_url is None:
        pytest.skip("several workers need PostgreSQL (advisory locks); on SQLite one worker is assumed")
    config = config_file(replace={"poll_seconds = 60": "poll_seconds = 10"}, mailbox="fetch_batch = 4", tail=FAST)
    db = Db(config)

    def holds(pid: int, lock: str | None) -> bool:
        """Whether the worker of pid beats (and holds lock)."""
        with db.app.sessions() as session:
            rows = list(session.scalars(select(Worker).where(Worker.pid == pid)))
        return bool(rows) and (lock is None or any(lock in w.holds.split() for w in rows))

    # Given a worker holding the mailbox that dies when it starts judging its fourth message, and a second worker
    first = intake(config, "run", log=tmp_path / "a.log", env={"INTAKE_TEST_KILL_AT": "judging:4"})
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: holds(first.pid, "mailbox:reports"), timeout=30, what="the first worker holds the mailbox")
        second = intake(config, "run", log=tmp_path / "b.log")
        wait_until(lambda: holds(second.pid, None), timeout=30, what="the second worker beats")
        # When twelve reports arrive
        for i in range(12):
            dovecot.append(imap_user[0], samples.offline_report(unit=UNITS[i % 5], sender=f"unit{i}@163.com"))
        assert first.wait(timeout=30) == -9
        killed = time.monotonic()
        # Then the second worker takes over the mailbox, the message in hand and the replies
        last_ack = wait_until(lambda: db.replies() == 12, timeout=60, what="twelve acknowledgements")
        assert db.messages() == 12 and db.statuses() == {"accepted": 12}
        sent = collections.Counter(c.message()["Message-ID"] for c in smtp.messages)
        duplicates = sum(n - 1 for n in sent.values())
        assert len(sent) == 12 and duplicates <= 1
        assert holds(second.pid, "mailbox:reports") and holds(second.pid, "leader")
        assert stop(second) == 0
        print(
            f"\n[figures] two workers, holder killed while judging: messages 12, kills 1, lost 0, "
            f"duplicates {duplicates}, last kill to last acknowledgement {last_ack - killed:.1f}s"
        )
    finally:
        stop(first)
        if second is not None:
            stop(second)
        db.close()


def test_a_beat_in_between_keeps_the_locks_the_worker_holds(db_url: str) -> None:
    # Given a worker whose heartbeat names its locks
    engine = make_engine(db_url)
    sessions = make_sessions(engine)
    heart = Heart(sessions=sessions, stale_seconds=0.03)
    try:
        heart.beat("leader mailbox:reports")
        time.sleep(0.02)
        # When it beats in between, while sending replies (a third of the stale time has passed)
        heart.maybe_beat()
        # Then the row still names the locks it holds (others read them to tell who polls what)
        with sessions() as session:
            (row,) = session.scalars(select(Worker))
            assert row.holds == "leader mailbox:reports" and row.beat_at > row.started_at
    finally:
        engine.dispose()
