"""A store of the release before submissions had identities (schema 0002), upgraded by `intake db upgrade`
on SQLite and on PostgreSQL: a backup first (or, on PostgreSQL, a refusal until there is one), every
row kept, identities given to the old messages so that a second delivery is a duplicate, and the
backup restores the store as it was before the upgrade."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from ingest import activities
from intake.cli import cli
from store.blobs import BlobStore
from store.db import make_engine
from store.migrate import current, head, pending, upgrade
from tests import oldstore, rowmaker
from tests.conftest import write_offline_config
from tests.scratchdb import empty_database, on_postgresql

Rows = rowmaker.Rows


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def _rows(url: str) -> Rows:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return rowmaker.read(conn, rowmaker.reflect(conn))
    finally:
        engine.dispose()


def _old_store(url: str, tmp_path: Path) -> tuple[Path, oldstore.OldStore, Rows]:
    config = write_offline_config(tmp_path / "config.toml", db_url=url)
    engine = make_engine(url)
    try:
        upgrade(engine, target="0002")
        with engine.begin() as conn:
            meta = rowmaker.reflect(conn)
            old = oldstore.build(conn, meta, blobs=BlobStore(root=tmp_path / "blobs"), folder=tmp_path / "mail")
            rowmaker.advance_sequences(conn, meta)
    finally:
        engine.dispose()
    (tmp_path / "mail").mkdir(exist_ok=True)
    return config, old, _rows(url)


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current(engine)
    finally:
        engine.dispose()


def _restore_postgresql(url: str, dump: Path) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={libpq}", str(dump)], check=True, capture_output=True)


def test_upgrading_an_old_store_keeps_every_row_and_old_mail_stays_known(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    with empty_database(tmp_path, "old") as url:
        config, old, before = _old_store(url, tmp_path)
        assert {t: len(r) for t, r in before.items()} == {
            "digests": 2,
            "mailbox_state": 1,
            "messages": 25,
            "activity_counts": 16,
            "attachments": 32,
            "replies": 22,
        }
        newest = head()
        applied = ", ".join(pending("0002"))

        # When the operator upgrades (on PostgreSQL: refused until a backup is said to exist)
        if on_postgresql():
            code, out = _run(config, "db", "upgrade")
            assert code == 1 and f"needs migrations 0002 → {newest}" in out
            assert "pg_dump --format=custom" in out and "intake db upgrade --i-have-a-backup" in out
            assert _revision(url) == "0002"
            dump = tmp_path / "before.dump"
            code, out = _run(config, "db", "backup", "--out", str(dump))
            assert code == 0 and f"backup written: {dump}" in out and "schema 0002" in out
            backup = dump
            code, out = _run(config, "db", "upgrade", "--i-have-a-backup")
        else:
            code, out = _run(config, "db", "upgrade")
            line = next(x for x in out.splitlines() if x.startswith("backup of the store at schema 0002: "))
            backup = Path(line.split(": ", 1)[1])
            assert backup.name.startswith("old.db.before-0002-") and backup.name.endswith(".bak")
        assert code == 0, out
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600

        # Then it says what it did, and every row of every table is kept
        assert f"database schema upgraded from 0002 to {newest} (applied {applied})" in out
        assert "submission identities given to 23 message(s) stored without one" in out
        assert "1 of them from the stored Message-ID and sender (raw message missing)" in out
        assert "message 16 is another copy of message 2: the identity stays with 2" in out
        assert "message 24 left without an identity: its raw message is missing and it has no Message-ID" in out
        after = _rows(url)
        # the one change made on purpose: every accepted report is read again under the newest
        # counting rule (when, under which rule and the words quoted change; its stated number and
        # the admin's correction stay as they were, and a report whose raw file is lost keeps its row)
        changed = rowmaker.kept(before, after)
        read_again = ("activity_counts.rule:", "activity_counts.read_at:", "activity_counts.phrase:")
        assert [c for c in changed if not c.startswith(read_again)] == []
        assert f"activity_counts.rule: 1 became {activities.RULE}" in changed
        (lost_before,) = [r for r in before["activity_counts"] if r["message_id"] == oldstore.RAW_MISSING]
        (lost_after,) = [r for r in after["activity_counts"] if r["message_id"] == oldstore.RAW_MISSING]
        # nothing to read it again from: kept as the old release read it (0008 says where: the body)
        assert lost_after == {**lost_before, "source": "body"}
        assert [r["stated"] for r in after["activity_counts"]] == [r["stated"] for r in before["activity_counts"]]
        assert [r["note"] for r in after["activity_counts"]] == [r["note"] for r in before["activity_counts"]]
        assert len(after["submissions"]) == 23
        assert all(m["starts"] >= m["attempts"] for m in after["messages"])

        # A second run changes nothing and says so
        code, again = _run(config, "db", "upgrade")
        assert code == 0 and again.splitlines() == [
            f"database schema already at the newest schema ({newest}): no migration run",
            "message 16 is another copy of message 2: the identity stays with 2",
            "message 24 left without an identity: its raw message is missing and it has no Message-ID",
        ]

        # The pending replies are still there to be sent, the admin's correction still explained
        code, out = _run(config, "status")
        assert "replies: 18 pending, 1 given up" in out
        code, out = _run(config, "count", str(oldstore.CORRECTED))
        assert oldstore.NOTE in out

        # Old mail delivered again (fetched, raw file lost, no Message-ID) is a duplicate, answered by nobody
        again_files = [str(old.raws[k]) for k in (1, oldstore.RAW_MISSING, oldstore.NO_MESSAGE_ID)]
        code, out = _run(config, "import", "--no-send", "--mailbox", "reports", *again_files)
        assert code == 0, out
        assert "imported: duplicate 3" in out
        code, out = _run(config, "messages")
        for k, new_id in zip((1, oldstore.RAW_MISSING, oldstore.NO_MESSAGE_ID), (26, 27, 28), strict=True):
            line = next(x for x in out.splitlines() if x.lstrip().startswith(f"{new_id} "))
            assert "duplicate" in line and f"(duplicate of {k})" in line

        # And the backup restores the store as it was before the upgrade (the previous release's schema)
        if on_postgresql():
            _restore_postgresql(url, backup)
        else:
            store = tmp_path / "old.db"
            for leftover in (store.with_name("old.db-wal"), store.with_name("old.db-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(backup, store)
        assert _revision(url) == "0002"
        assert rowmaker.kept(before, _rows(url)) == [] and set(_rows(url)) == set(before)


def test_a_new_database_is_created_without_backup_or_flag_and_can_be_backed_up(tmp_path: Path) -> None:
    with empty_database(tmp_path, "new") as url:
        config = write_offline_config(tmp_path / "config.toml", db_url=url)
        code, out = _run(config, "db", "upgrade")
        assert code == 0, out
        assert out.splitlines() == [f"database schema created at {head()} (applied {', '.join(pending(None))})"]
        assert not list(tmp_path.glob("*.bak"))
        copy = tmp_path / "copy.bak"
        code, out = _run(config, "db", "backup", "--out", str(copy))
        assert code == 0 and out.startswith(f"backup written: {copy} (") and f"schema {head()}" in out
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        code, out = _run(config, "db", "backup", "--out", str(copy))
        assert code == 1 and f"{copy} exists already: choose another file" in out


def test_an_old_schema_without_rows_is_migrated_without_the_flag(tmp_path: Path) -> None:
    with empty_database(tmp_path, "bare") as url:
        engine = make_engine(url)
        upgrade(engine, target="0002")
        engine.dispose()
        config = write_offline_config(tmp_path / "config.toml", db_url=url)
        code, out = _run(config, "db", "upgrade")
        assert code == 0 and f"database schema upgraded from 0002 to {head()}" in out
        assert ("backup of the store at schema 0002: " in out) is not on_postgresql()
