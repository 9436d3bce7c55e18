"""A SQLite store deleted or replaced under `intake run`: one line, the service stops, nothing more is
sent; a restart never answers anybody twice (only `intake db upgrade` creates a store, and a new store
over an earlier store's files holds the replies of the mail it fetches again).

These tests are about the SQLite file, so they use one whatever INTAKE_TEST_DB says.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ConfigFile

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.cli import cli
from store.enums import ReplyStatus
from tests.processes import FAST, UNITS, Db, intake, stop, wait_until

pytestmark = [pytest.mark.servers, pytest.mark.slow]


def _cli(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _sqlite_config(config_file: ConfigFile, tmp_path: Path) -> tuple[Path, Path]:
    """This test's configuration with its own SQLite file (not yet created)."""
    database = tmp_path / "state" / "intake.db"
    config = config_file(tail=FAST)
    text = config.read_text(encoding="utf-8")
    start = text.index('url = "') + len('url = "')
    end = text.index('"', start)
    config.write_text(text[:start] + f"sqlite:///{database}" + text[end:], encoding="utf-8")
    return config, database


def _problems(log: Path, since: int) -> list[str]:
    """The lines above INFO that the service wrote after offset since."""
    text = log.read_bytes()[since:].decode("utf-8")
    return [line for line in text.splitlines() if any(f" {lvl} " in line for lvl in ("WARNING", "ERROR", "CRITICAL"))]


def _deliver(dovecot: Dovecot, user: str, numbers: range) -> None:
    for i in numbers:
        dovecot.append(user, samples.offline_report(unit=UNITS[i % len(UNITS)], sender=f"unit{i}@163.com"))


def _answered(config: Path, wanted: int, *, held: int = 0) -> None:
    db = Db(config)
    try:
        wait_until(
            lambda: db.replies() == wanted and db.replies(ReplyStatus.SUPPRESSED) == held,
            timeout=60,
            what=f"{wanted} acknowledgements sent, {held} held",
        )
    finally:
        db.close()


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_that_vanishes_stops_the_service_in_one_line(
    config_file: ConfigFile,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    how: str,
) -> None:
    # Given a running service that answered three reports
    config, database = _sqlite_config(config_file, tmp_path)
    assert _cli(config, "db", "upgrade")[0] == 0
    _deliver(dovecot, imap_user[0], range(3))
    log = tmp_path / "run.log"
    service = intake(config, "run", log=log)
    try:
        _answered(config, 3)
        # When its database file is deleted, or replaced by a copy (another file at the same path)
        since = log.stat().st_size
        if how == "deleted":
            database.unlink()
        else:
            shutil.copy(database, tmp_path / "copy.db")
            os.replace(tmp_path / "copy.db", database)
        _deliver(dovecot, imap_user[0], range(3, 5))  # mail that comes after: IDLE announces it
        # Then the service stops by itself with exit 1 and says why in one line
        code = service.wait(timeout=30)
    finally:
        stop(service)
    assert code == 1, log.read_text(encoding="utf-8")
    lines = _problems(log, since)
    assert len(lines) == 1, lines
    assert f"the database file {database} was {how}" in lines[0]
    assert "intake stops, nothing more is judged or sent" in lines[0]
    # and nothing was sent after that moment
    assert sorted(c.rcpt_tos[0] for c in smtp.messages) == [f"unit{i}@163.com" for i in range(3)]


def test_a_restart_after_the_store_was_lost_answers_nobody_twice(
    config_file: ConfigFile,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
) -> None:
    # Given a service that answered four reports and whose database file was then deleted
    config, database = _sqlite_config(config_file, tmp_path)
    assert _cli(config, "db", "upgrade")[0] == 0
    _deliver(dovecot, imap_user[0], range(4))
    log = tmp_path / "run.log"
    service = intake(config, "run", log=log)
    try:
        _answered(config, 4)
        database.unlink()
        assert service.wait(timeout=30) == 1
    finally:
        stop(service)
    _deliver(dovecot, imap_user[0], range(4, 7))  # three more come while it is down
    # When it is started again as before, nothing creates an empty store behind the operator's back
    code, _, err = _cli(config, "run")
    assert code == 1 and err.strip() == (
        f"Error: the database file {database} does not exist: `intake db upgrade` creates it "
        '(if it was lost, restore it first: see "A store that vanishes" in the README)'
    )
    assert not database.exists()
    code, _, err = _cli(config, "check")
    assert code == 1 and f"problem: store.url: the database file {database} does not exist" in err
    # a backup taken now copies nothing, and leaves no empty file that would pass for the store
    code, out, err = _cli(config, "db", "backup")
    assert code == 1 and "backup written" not in out
    assert err.startswith(f"Error: the database file {database} does not exist")
    assert not database.exists()
    # and `intake db upgrade` (which the systemd unit runs at every start) refuses to start anew by itself
    code, _, err = _cli(config, "db", "upgrade")
    assert code == 1 and "holds the files of an earlier store" in err and "--new-store" in err
    assert not database.exists()
    # Then with --new-store the service reads the mailbox again: the four answered reports are judged
    # and recorded without a reply, the three new ones are answered, nobody twice
    code, out, _ = _cli(config, "db", "upgrade", "--new-store")
    assert code == 0 and "judged again without a reply" in out
    again = intake(config, "run", log=log)
    try:
        _answered(config, 3, held=4)
    finally:
        assert stop(again) == 0
    sent = collections.Counter(c.rcpt_tos[0] for c in smtp.messages)
    assert sent == {f"unit{i}@163.com": 1 for i in range(7)}, sent
    code, out, _ = _cli(config, "messages", "--json")
    assert code == 0
    rows = sorted(json.loads(out), key=lambda r: r["sender"])
    assert [r["status"] for r in rows] == ["accepted"] * 7
    held = [r for r in rows if r["reply"]["status"] == "suppressed"]
    assert [r["sender"] for r in held] == [f"unit{i}@163.com" for i in range(4)]
    assert "当时可能已经回复，不再自动回复" in held[0]["notes"][-1]
