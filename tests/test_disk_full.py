"""A full disk while storing (a small tmpfs as blob_dir): the poll fails in one line, nothing is lost,
and once there is room again every message arrives once and is judged."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ConfigFile

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from store import queries
from tests.processes import FAST, UNITS

pytestmark = [pytest.mark.servers, pytest.mark.slow]
MESSAGES = 24


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "small"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _poll_once(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(config), "poll", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_disk_full_while_storing(
    config_file: ConfigFile,
    small_disk: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    # Given more mail than the 512 KiB disk of blob_dir holds
    raws = [
        samples.offline_report(unit=UNITS[i % len(UNITS)], sender=f"unit{i}@163.com", photos=3) for i in range(MESSAGES)
    ]
    assert sum(len(r) for r in raws) > 512 * 1024
    dovecot.append_many(imap_user[0], raws)
    config = config_file(replace={'blob_dir = "blobs"': f'blob_dir = "{small_disk}"'}, tail=FAST)
    # When a poll fills the disk
    done = _poll_once(config)
    # Then the mailbox's line says so, without a traceback, and the exit is 1
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("reports:")]
    assert line.startswith("reports: failed: ") and f"disk full writing {small_disk}" in line, done.stdout
    assert done.returncode == 1 and "Traceback" not in done.stderr
    # When there is room again
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    done = _poll_once(config)
    assert done.returncode == 0, done.stdout + done.stderr
    # Then every message is stored once and accepted, and each sender is answered once
    app = App.build(load(config))
    try:
        with app.sessions() as session:
            rows = queries.messages(session)
        assert sorted(m.uid for m in rows) == list(range(1, MESSAGES + 1))
        assert {m.status.value for m in rows} == {"accepted"}
    finally:
        app.close()
    assert sorted(c.rcpt_tos[0] for c in smtp.wait_for(MESSAGES)) == sorted(f"unit{i}@163.com" for i in range(MESSAGES))
