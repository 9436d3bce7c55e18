"""Judge stored messages in worker processes while the poller goes on fetching and storing.

Each worker process builds its own pipeline once (its own database connections and blob store)
from the settings, by a factory the shell hands down, and judges one stored message per task:
the start was counted when the message was stored, and the verdict, files and reply row are
one commit in the worker, exactly as in the poller's own process. A worker that dies (memory, a
crash) loses nothing: its message stays `received` and the next poll's backlog judges it; the
pool is then started anew.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from campaign.settings import Settings
from ingest.pipeline import Pipeline
from store.enums import MessageStatus
from store.errors import one_line

log = logging.getLogger(__name__)
Factory = Callable[[Settings], Pipeline]  # a module-level function, so that it can reach the workers
LogSetup = Callable[[int], None]

_pipeline: Pipeline | None = None  # the worker process's own


def _start(factory: Factory, settings: Settings, log_setup: LogSetup, level: int, parent: int) -> None:
    global _pipeline
    log_setup(level)
    # parent: the service's pid, given by the service itself (it may be gone before this process runs)
    threading.Thread(target=_follow_parent, args=(parent,), name="parent-watch", daemon=True).start()
    _pipeline = factory(settings)


def _follow_parent(parent: int) -> None:
    """End this process once the service that started it is gone (killed, say): a judging process
    left behind would hold its database connections for ever. The message in hand, if any, stays
    `received` and is judged again."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _judge(message_id: int) -> MessageStatus:
    if _pipeline is None:
        raise RuntimeError("the judging process was not started")
    return _pipeline.process(message_id)


class JudgePool:
    """A pool of judging processes, started at first use and kept until closed."""

    def __init__(self, *, processes: int, settings: Settings, factory: Factory, log_setup: LogSetup) -> None:
        self._guard = threading.Lock()  # the polls of several mailboxes share one pool
        self.processes = processes
        self.settings = settings
        self.factory = factory
        self.log_setup = log_setup
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._guard:
            return self._started()

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: a fork would copy the service's threads and database connections
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(
                    self.factory,
                    self.settings,
                    self.log_setup,
                    logging.getLogger().getEffectiveLevel(),
                    os.getpid(),
                ),
            )
            log.info("judging in %d processes beside the fetching", self.processes)
        return self._executor

    def submit(self, message_id: int) -> Future[MessageStatus]:
        return self._pool().submit(_judge, message_id)

    def broke(self) -> None:
        """A worker died: the pool is dropped, and a new one is started at the next use."""
        with self._guard:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def close(self) -> None:
        with self._guard:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=False)
                self._executor = None


class InFlight:
    """The messages handed to the pool during one poll, at most `limit` at a time, oldest collected first.

    Two messages of one sender are never judged at the same time: a resend, a supplement or a second
    report of the same photos is judged after the first, as the poller alone would judge it."""

    def __init__(self, *, pool: JudgePool, count: Callable[[MessageStatus], None]) -> None:
        self.pool = pool
        self.count = count
        self.limit = 2 * pool.processes
        self._waiting: deque[tuple[int, str | None, Future[MessageStatus]]] = deque()
        self.lost = 0  # messages whose process died: left `received`, judged again by the next poll

    def add(self, message_id: int, *, sender: str | None) -> None:
        while len(self._waiting) >= self.limit or (sender and any(s == sender for _, s, _ in self._waiting)):
            self._collect()
        try:
            future = self.pool.submit(message_id)
        except BrokenProcessPool:  # a process died since the last collection: the pool is started anew
            self._lose_all("found at the next message", lost=0)
            future = self.pool.submit(message_id)
        self._waiting.append((message_id, sender, future))

    def drain(self) -> None:
        while self._waiting:
            self._collect()

    def _lose_all(self, why: str, *, lost: int) -> None:
        """The pool is broken: what it had in hand stays `received` for the next poll; a new pool follows."""
        lost += len(self._waiting)
        log.warning(
            "a judging process stopped (%s); %d message(s) in hand stay received and are judged by the next poll",
            why,
            lost,
        )
        self.lost += lost
        self._waiting.clear()
        self.pool.broke()

    def _collect(self) -> None:
        message_id, _, future = self._waiting.popleft()
        try:
            self.count(future.result())
        except BrokenProcessPool as exc:
            self._lose_all(f"{exc or 'killed'}, judging message {message_id}", lost=1)
        except Exception as exc:  # the process could not judge at all (e.g. no database): our fault, kept
            self.lost += 1
            log.error("message %d could not be judged in a worker process: %s", message_id, one_line(exc))


def stderr_setup(level: int) -> None:
    """Plain logging to stderr (the default for a worker when the shell gives nothing better)."""
    logging.basicConfig(level=level, stream=sys.stderr)
