"""A large poll is judged in worker processes beside the fetching, with nothing lost or answered twice.

On PostgreSQL (several writers at once) a poll that brings 16 messages or more hands each stored
message to a judging process while the poller goes on fetching; a judging process that dies leaves
its messages `received`, and the next poll judges them. SQLite takes one writer at a time: more
than one process is refused by the configuration there.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ConfigFile, write_offline_config
from processes import intake, wait_until
from sqlalchemy import func, select

from campaign.settings import ConfigError, Settings
from devservers import samples
from ingest.judging import JudgePool
from ingest.pipeline import Pipeline
from intake.app import App, worker_logging, worker_pipeline
from intake.config import load
from store.enums import MessageStatus
from store.models import Message, Reply

pytestmark = pytest.mark.servers

UNITS = ["西宁市总工会", "海南州总工会", "黄南州总工会", "青海省建设工会"]
TWO = "\n[service]\njudge_processes = 2\n"


def _needs_postgresql(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("judging processes need PostgreSQL; on SQLite one process judges")


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
    _needs_postgresql(db_url)
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
    _needs_postgresql(db_url)
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


def test_sqlite_refuses_several_judging_processes(tmp_path: Path) -> None:
    config = write_offline_config(tmp_path / "config.toml", db_url=f"sqlite:///{tmp_path / 'db.sqlite'}", extra=TWO)
    with pytest.raises(ConfigError) as refused:
        load(config)
    assert str(refused.value) == (
        "service.judge_processes: 2 needs PostgreSQL; SQLite takes one writer at a time "
        "(leave it out, or 0 or 1, on SQLite)"
    )


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
    _needs_postgresql(db_url)
    _deliver_reports(deliver, 20)
    mark = f"intake-judging-{os.getpid()}-{tmp_path.name}"
    # the service kills itself (SIGKILL) when it hands the 18th message to the judging processes
    proc = intake(
        config_file(tail=TWO), "run", log=tmp_path / "run.log", env={"INTAKE_TEST_KILL_AT": "judging:18", "MARK": mark}
    )
    assert proc.wait(timeout=60) == -signal.SIGKILL
    wait_until(lambda: not _processes_marked(mark), timeout=15, what="the judging processes to end")
    again = App.build(load(config_file(tail=TWO)))
    try:
        (report,) = again.poll()
        assert report.error is None
        assert _outcome(again) == ({"accepted": 20}, 20, 1)
    finally:
        again.close()
