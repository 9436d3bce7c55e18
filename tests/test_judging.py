"""A large poll is judged in worker processes beside the fetching, with nothing lost or answered twice.

A poll that brings 16 messages or more hands each stored message to a judging process while the
poller goes on fetching (on SQLite and PostgreSQL alike: a verdict's transaction writes only while it
commits); a judging process that dies leaves its messages `received`, and the next poll judges them;
two copies of one message judged at once give one verdict and one duplicate.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ConfigFile, write_offline_config
from processes import intake, wait_until
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.settings import ConfigError, Settings
from devservers import samples
from ingest import seen
from ingest.fetch.poller import PollReport
from ingest.judging import JudgePool
from ingest.pipeline import Pipeline
from intake.app import App, worker_logging, worker_pipeline
from intake.config import load
from store.enums import MessageStatus
from store.models import Message, Reply

pytestmark = pytest.mark.servers

UNITS = ["西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会"]
TWO = "\n[service]\njudge_processes = 2\n"


def _deliver_reports(deliver: Callable[[bytes], int], count: int) -> None:
    for i in range(count):
        deliver(samples.offline_report(unit=UNITS[i % 4], sender=f"unit{i}@163.com"))


def _outcome(app: App) -> tuple[dict[str, int], int, int]:
    """Messages by status, replies in all, and the most replies any one message has."""
    with app.sessions() as session:
        statuses = {s: n for s, n in session.execute(select(Message.status, func.count()).group_by(Message.status))}
        replies = session.scalar(select(func.count()).select_from(Reply)) or 0
        most = session.scalar(
            select(func.count()).select_from(Reply).group_by(Reply.message_id).order_by(func.count().desc()).limit(1)
        )
    return {s.value: n for s, n in statuses.items()}, replies, most or 0


class DyingPipeline(Pipeline):
    """A pipeline whose process is killed when it takes every fifth message (the kernel's OOM killer, say)."""

    def process(self, message_id: int) -> MessageStatus:
        if message_id % 5 == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().process(message_id)


def dying_pipeline(settings: Settings) -> Pipeline:
    """The factory the judging processes import by name."""
    made = worker_pipeline(settings)
    return DyingPipeline(settings=settings, sessions=made.sessions, blobs=made.blobs, renderer=made.renderer)


def test_a_large_poll_is_judged_in_processes_beside_the_fetching(
    db_url: str, config_file: ConfigFile, deliver: Callable[[bytes], int], caplog: pytest.LogCaptureFixture
) -> None:
    _deliver_reports(deliver, 20)
    caplog.set_level(logging.INFO)
    app = App.build(load(config_file(tail=TWO)))
    try:
        (report,) = app.poll()
        assert (report.error, report.fetched, report.statuses) == (None, 20, {"accepted": 20})
        assert _outcome(app) == ({"accepted": 20}, 20, 1)
        assert "judging in 2 processes beside the fetching" in caplog.text
    finally:
        app.close()


def test_a_judging_process_that_dies_loses_nothing(
    db_url: str, config_file: ConfigFile, deliver: Callable[[bytes], int], caplog: pytest.LogCaptureFixture
) -> None:
    _deliver_reports(deliver, 20)
    config = config_file(tail=TWO)
    app = App.build(load(config))
    app._pool = JudgePool(processes=2, settings=app.settings, factory=dying_pipeline, log_setup=worker_logging)
    try:
        (first,) = app.poll()
        assert first.error is None and first.fetched == 20
        assert "a judging process stopped" in caplog.text and "are judged by the next poll" in caplog.text
        statuses, _, most = _outcome(app)
        assert statuses.get("received", 0) >= 4 and most == 1  # every fifth message at least, none answered twice
    finally:
        app.close()
    again = App.build(load(config))
    try:
        (second,) = again.poll()
        assert second.resumed == statuses["received"]
        assert _outcome(again) == ({"accepted": 20}, 20, 1)
    finally:
        again.close()


def test_a_copy_in_a_large_poll_is_a_duplicate_not_a_second_verdict(
    config_file: ConfigFile, deliver: Callable[[bytes], int]
) -> None:
    # Given the same report delivered twice (one Message-ID), and 16 reports of other units around it
    copy = samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com")
    deliver(copy)
    _deliver_reports(deliver, 16)
    deliver(copy)
    app = App.build(load(config_file(tail=TWO)))
    try:
        (report,) = app.poll()
        assert report.statuses == {"accepted": 17, "duplicate": 1}
        assert _outcome(app) == ({"accepted": 17, "duplicate": 1}, 17, 1)
    finally:
        app.close()


def test_two_copies_judged_at_the_same_moment_give_one_verdict(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two stored copies of one report, each judged by its own thread, both past the identity
    # check before either holds it
    raw = samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com")
    ids = [app.pipeline.store_raw(mailbox="reports", uidvalidity=1, uid=uid, raw=raw) for uid in (1, 2)]
    both_checked = threading.Barrier(2, timeout=30)
    claim = seen.claim

    def claim_together(session: Session, msg: Message, key: str) -> None:
        if msg.attempts == 1:  # the first try of each; the second try of the loser goes straight on
            both_checked.wait()
        claim(session, msg, key)

    monkeypatch.setattr(seen, "claim", claim_together)
    results: dict[int, MessageStatus] = {}
    threads = [threading.Thread(target=lambda i=i: results.update({i: app.pipeline.process(i)})) for i in ids if i]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then one is accepted and answered, the other is its duplicate
    assert sorted(s.value for s in results.values()) == ["accepted", "duplicate"]
    assert _outcome(app) == ({"accepted": 1, "duplicate": 1}, 1, 1)


def _processes_marked(mark: str) -> list[int]:
    """Processes whose environment carries mark (the service and whatever it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_a_killed_service_leaves_no_judging_process_behind(
    db_url: str, config_file: ConfigFile, deliver: Callable[[bytes], int], tmp_path: Path
) -> None:
    _deliver_reports(deliver, 20)
    mark = f"intake-judging-{os.getpid()}-{tmp_path.name}"
    # the service kills itself (SIGKILL) when it hands the 18th message to the judging processes
    proc = intake(
        config_file(tail=TWO + "heartbeat_seconds = 1\n"),
        "run",
        log=tmp_path / "run.log",
        env={"INTAKE_TEST_KILL_AT": "judging:18", "MARK": mark},
    )
    assert proc.wait(timeout=60) == -signal.SIGKILL
    wait_until(lambda: not _processes_marked(mark), timeout=15, what="the judging processes to end")
    again = App.build(load(config_file(tail=TWO + "heartbeat_seconds = 1\n")))
    try:
        # once the killed worker's lock is free (at once on PostgreSQL; on SQLite when its heartbeat is stale)
        reports: list[PollReport] = []
        wait_until(lambda: not reports.extend(again.poll()) and reports[-1].skipped is None, timeout=30, what="a poll")
        assert reports[-1].error is None
        assert _processes_marked(mark) == []  # also none that was still starting when the service died
        assert _outcome(again) == ({"accepted": 20}, 20, 1)
    finally:
        again.close()


def test_judge_processes_is_checked(tmp_path: Path) -> None:
    config = write_offline_config(
        tmp_path / "config.toml",
        db_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        extra="\n[service]\njudge_processes = 17\n",
    )
    with pytest.raises(ConfigError) as refused:
        load(config)
    assert str(refused.value) == "service.judge_processes: must be at most 16, got 17"
