"""The measurements: the floor, one intake poll, IDLE latency, peak memory and a profile."""

from __future__ import annotations

import cProfile
import hashlib
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import select

from bench.env import say
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from ingest.fetch.imap import quiet
from intake.app import App
from intake.config import load
from store.db import make_engine
from store.models import MailboxState

ROOT = Path(__file__).resolve().parents[1]
FLOOR_BATCH = 20  # messages per FETCH: the intake's default fetch_batch


@dataclass(frozen=True, kw_only=True)
class Timed:
    messages: int
    bytes: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "msg_per_s": round(self.rate, 1),
            "mb_per_s": round(self.bytes / self.seconds / 1e6, 2) if self.seconds else 0.0,
        }


def floor(dovecot: Dovecot, user: str, out_dir: Path) -> Timed:
    """The least any intake must do: one connection, `BODY.PEEK[]` in batches of 20 with imaplib's
    debug formatting off, a sha256 of each message and an fsync'd file of each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    client = quiet(IMAPClient(dovecot.host, port=dovecot.port, ssl=False))
    client.login(user, dovecot.users[user])
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    count = size = 0
    for i in range(0, len(uids), FLOOR_BATCH):
        data: dict[int, dict[bytes, Any]] = client.fetch(uids[i : i + FLOOR_BATCH], ["BODY.PEEK[]"])
        for item in data.values():
            raw = bytes(item[b"BODY[]"])
            digest = hashlib.sha256(raw).hexdigest()
            fd = os.open(out_dir / digest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(raw)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            count += 1
            size += len(raw)
    client.logout()
    return Timed(messages=count, bytes=size, seconds=time.perf_counter() - start)


@dataclass(frozen=True, kw_only=True)
class Polled:
    poll: Timed
    statuses: dict[str, int]
    replies_sent: int
    replies_seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            **self.poll.as_json(),
            "statuses": self.statuses,
            "replies_sent": self.replies_sent,
            "replies_seconds": round(self.replies_seconds, 3),
        }


def intake_poll(config: Path, *, size: int, profile: cProfile.Profile | None = None) -> Polled:
    """`intake poll --once` in this process: App.poll timed (fetch, store, judge, reply rows), then
    the pending replies sent to the SMTP sink, timed apart."""
    app = App.build(load(config))
    try:
        start = time.perf_counter()
        if profile is not None:
            profile.enable()
        try:
            (report,) = app.poll()
        finally:
            if profile is not None:
                profile.disable()
        polled = time.perf_counter() - start
        if report.error or report.skipped:
            raise RuntimeError(f"the poll failed: {report.error or report.skipped}")
        start = time.perf_counter()
        sent = app.send_replies()
        sending = time.perf_counter() - start
    finally:
        app.close()
    return Polled(
        poll=Timed(messages=report.fetched, bytes=size, seconds=polled),
        statuses=dict(report.statuses),
        replies_sent=sent.sent,
        replies_seconds=sending,
    )


def profile_text(profile: cProfile.Profile, sort: str, *, top: int = 15) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    return out.getvalue().strip()


# --------------------------------------------------------------------------------- child processes
def intake_command(config: Path | None, *args: str) -> list[str]:
    return [sys.executable, "-m", "intake", *(["--config", str(config)] if config else []), *args]


@dataclass(frozen=True, kw_only=True)
class ChildRun:
    returncode: int
    peak_rss: int  # bytes: ru_maxrss of the command (and of any child it waited for)
    seconds: float


def run_measured(command: Sequence[str], *, log: Path) -> ChildRun:
    """Run a fresh child to its end and read its peak RSS from wait4's resource usage.

    The child is forked by `bench.rss`, a small process of its own (see there why)."""
    report = log.with_name(f"{log.stem}-{time.monotonic_ns()}.json")
    start = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.rss", str(report), *command],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: bench.rss passes SIGTERM on to the command
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"bench.rss exited {proc.returncode}; see {log}")
    data = json.loads(report.read_text(encoding="utf-8"))
    return ChildRun(returncode=int(data["returncode"]), peak_rss=int(data["maxrss_kib"]) * 1024, seconds=seconds)


# ------------------------------------------------------------------------------------ IDLE latency
@dataclass(kw_only=True)
class Latency:
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, for the acknowledged ones
    missing: list[int] = field(default_factory=list)  # indexes without an acknowledgement in time
    timeout: float = 20.0
    poll_seconds: int = 3600
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "acknowledged": len(self.latencies),
            "latencies_s": [round(x, 3) for x in self.latencies],
            "median_s": round(statistics.median(self.latencies), 3) if self.latencies else None,
            "max_s": round(max(self.latencies), 3) if self.latencies else None,
            "no_ack": self.missing,
            "timeout_s": self.timeout,
            "poll_seconds": self.poll_seconds,
            "note": self.note,
        }


def idle_latency(
    *,
    config: Path,
    dovecot: Dovecot,
    sink: SmtpSink,
    user: str,
    reports: Sequence[tuple[str, bytes]],
    timeout: float,
    poll_seconds: int,
    log: Path,
) -> Latency:
    """A real `intake run`; each report APPENDed alone, timed from APPEND's completion to the
    acknowledgement reaching the SMTP sink (matched by its recipient). Two misses in a row end it."""
    result = Latency(timeout=timeout, poll_seconds=poll_seconds)
    engine = make_engine(str(load(config).store.url))
    with log.open("ab") as out:
        proc = subprocess.Popen(
            intake_command(config, "run"), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    client: Any = None
    try:
        deadline = time.monotonic() + 30
        while True:  # ready: its first poll of the (empty) mailbox is recorded
            with engine.connect() as conn:
                if conn.scalar(select(MailboxState.last_poll_at)) is not None:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"intake run exited {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"intake run did not poll within 30 s; see {log}")
            time.sleep(0.05)
        time.sleep(1.0)  # let it settle into waiting (IDLE, when it has it)
        client = dovecot.client(user)
        misses = 0
        for index, (sender, raw) in enumerate(reports):
            seen = len(sink.messages)
            client.append("INBOX", raw)
            arrived = time.monotonic()
            result.delivered += 1
            acked = _wait_ack(sink, sender, seen=seen, until=arrived + timeout)
            if acked is None:
                result.missing.append(index)
                misses += 1
                say(f"idle: report {index + 1}: no acknowledgement within {timeout:.0f} s")
                if misses == 2:
                    result.note = "stopped after two reports in a row got no acknowledgement"
                    break
            else:
                misses = 0
                result.latencies.append(acked - arrived)
                say(f"idle: report {index + 1}: acknowledged after {acked - arrived:.2f} s")
    finally:
        if client is not None:
            client.logout()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        engine.dispose()
    return result


def _wait_ack(sink: SmtpSink, recipient: str, *, seen: int, until: float) -> float | None:
    """The monotonic time a message to recipient reached the sink, or None by `until`."""
    while True:
        count = len(sink.messages)
        if any(recipient in m.rcpt_tos for m in sink.messages[seen:count]):
            return time.monotonic()
        left = until - time.monotonic()
        if left <= 0:
            return None
        try:
            sink.wait_for(count + 1, timeout=left)
        except TimeoutError:
            return None
