"""SIGKILL of `intake run` at each stage, then a restart: every message judged and answered once.

The kill comes from the process itself (the INTAKE_TEST_KILL_AT hook in store.killpoint) at the
third passage of the stage, so it falls in the middle of the work. The only duplicate allowed is the
reply whose SMTP send succeeded just before the kill: it is sent once more by the next worker.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

import pytest
from conftest import ConfigFile

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from store.killpoint import STAGES
from tests.processes import FAST, UNITS, Db, intake, stop, wait_until

pytestmark = [pytest.mark.servers, pytest.mark.slow]
MESSAGES = 6


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_at_each_stage_then_restart(
    config_file: ConfigFile,
    stage: str,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    # Given six reports in the mailbox, fetched two per FETCH
    config = config_file(mailbox="fetch_batch = 2", tail=FAST)
    for i in range(MESSAGES):
        dovecot.append(imap_user[0], samples.offline_report(unit=UNITS[i % len(UNITS)], sender=f"unit{i}@163.com"))
    log = tmp_path / "run.log"
    # When `intake run` is killed at the stage, the third time it gets there
    first = intake(config, "run", log=log, env={"INTAKE_TEST_KILL_AT": f"{stage}:3"})
    code = first.wait(timeout=60)
    killed_at = time.monotonic()
    assert code == -9, log.read_text(encoding="utf-8")
    # and started again
    second = intake(config, "run", log=log)
    db = Db(config)
    try:
        wanted = MESSAGES
        last_ack = wait_until(
            lambda: len({c.message()["Message-ID"] for c in smtp.messages}) >= wanted and db.replies() == wanted,
            timeout=60,
            what=f"{wanted} acknowledgements",
        )
        assert stop(second) == 0
        # Then every message is stored once and judged, each answered, at most one reply twice
        assert db.messages() == MESSAGES
        assert db.statuses() == {"accepted": MESSAGES}
        sent = collections.Counter(c.message()["Message-ID"] for c in smtp.messages)
        duplicates = sum(n - 1 for n in sent.values())
        assert len(sent) == MESSAGES
        assert duplicates == (1 if stage == "sent" else 0), sent
        assert {c.rcpt_tos[0] for c in smtp.messages} == {f"unit{i}@163.com" for i in range(MESSAGES)}
        print(
            f"\n[figures] kill at {stage}: messages {MESSAGES}, kills 1, lost 0, duplicates {duplicates}, "
            f"last kill to last acknowledgement {last_ack - killed_at:.1f}s"
        )
    finally:
        stop(second)
        db.close()


def test_a_message_that_kills_every_start_is_given_up_and_shown(
    config_file: ConfigFile,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    # Given three reports, and a worker that dies whenever it starts judging (three times: max_attempts)
    config = config_file(tail=FAST + "max_attempts = 3\n")
    for i in range(3):
        dovecot.append(imap_user[0], samples.offline_report(unit=UNITS[i], sender=f"unit{i}@163.com"))
    log = tmp_path / "run.log"
    for _ in range(3):
        assert intake(config, "run", log=log, env={"INTAKE_TEST_KILL_AT": "judging"}).wait(timeout=60) == -9
    # When the service runs again
    again = intake(config, "run", log=log)
    db = Db(config)
    try:
        wait_until(lambda: db.replies() == 2, timeout=60, what="two acknowledgements")
        assert stop(again) == 0
        # Then the first message stays failed after its three starts, and the poll went on to the others
        assert db.statuses() == {"accepted": 2, "failed": 1}
        assert sorted(c.rcpt_tos[0] for c in smtp.messages) == ["unit1@163.com", "unit2@163.com"]
        code, out = _cli(config, "messages", "--status", "failed")
        assert code == 0 and "unit0@163.com" in out and "failed" in out
        code, out = _cli(config, "show", "1")
        assert "judging was started 3 times and never finished" in out and "intake rerun 1" in out
        code, out = _cli(config, "status")
        assert code == 1 and "attention: 1 message(s) failed" in out
        preview = tmp_path / "digest.txt"
        assert _cli(config, "digest", "--preview", str(preview))[0] == 0
        assert "处理失败（reports" in preview.read_text(encoding="utf-8")
        # and `intake rerun` replays it (no kill any more): accepted and answered
        code, out = _cli(config, "rerun", "1")
        assert code == 0 and "1: accepted" in out and "replies: sent 1" in out
    finally:
        stop(again)
        db.close()


def _cli(config: Path, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from intake.cli import cli

    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_repeated_kills_while_mail_arrives(
    config_file: ConfigFile,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    # Given mail arriving in waves, and after each wave a worker killed at the next stage in turn
    config = config_file(mailbox="fetch_batch = 3", tail=FAST)
    log = tmp_path / "run.log"
    waves, per_wave, kills = 8, 5, 0
    killed_at = time.monotonic()
    for wave in range(waves):
        for i in range(per_wave):
            n = wave * per_wave + i
            dovecot.append(imap_user[0], samples.offline_report(unit=UNITS[n % len(UNITS)], sender=f"unit{n}@163.com"))
        stage = STAGES[wave % len(STAGES)]
        nth = 2 if stage == "fetched" else 2 + wave % 3  # a wave of five is two FETCHes of three
        proc = intake(config, "run", log=log, env={"INTAKE_TEST_KILL_AT": f"{stage}:{nth}"})
        assert proc.wait(timeout=60) == -9, f"wave {wave}: not killed at {stage}"
        killed_at = time.monotonic()
        kills += 1
    total = waves * per_wave
    # When the service runs again
    last = intake(config, "run", log=log)
    db = Db(config)
    try:
        last_ack = wait_until(lambda: db.replies() == total, timeout=90, what=f"{total} acknowledgements")
        assert stop(last) == 0
        # Then every message is stored once, judged and answered; the reply in flight at a kill may go out
        # once more (one sender per process: at most one extra copy per kill)
        assert db.messages() == total and db.statuses() == {"accepted": total}
        sent = collections.Counter(c.message()["Message-ID"] for c in smtp.messages)
        duplicates = sum(n - 1 for n in sent.values())
        assert len(sent) == total and duplicates <= kills
        print(
            f"\n[figures] repeated kills: messages {total}, kills {kills}, lost 0, duplicates {duplicates} "
            f"(most copies of one reply {max(sent.values())}), "
            f"last kill to last acknowledgement {last_ack - killed_at:.1f}s"
        )
    finally:
        stop(last)
        db.close()
