"""The SQLite database holds senders' addresses and texts: its file is created readable by its owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_offline_config
from sqlalchemy import text

from devservers import samples
from intake.cli import cli
from store.db import make_engine


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most shells have (022): without care, new files are world-readable under it."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.mark.usefixtures("usual_umask")
def test_db_upgrade_creates_the_database_file_private(tmp_path: Path) -> None:
    database = tmp_path / "state" / "intake.db"
    config = write_offline_config(tmp_path / "config.toml", db_url=f"sqlite:///{database}")
    result = CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert database.stat().st_size > 0
    assert _mode(database) == "0o600"


@pytest.mark.usefixtures("usual_umask")
def test_the_write_ahead_log_is_private_too(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
            conn.execute(text("INSERT INTO t VALUES ('西宁市总工会')"))
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            for companion in ("intake.db-wal", "intake.db-shm"):
                assert _mode(tmp_path / companion) == "0o600", companion
        assert _mode(database) == "0o600"
    finally:
        engine.dispose()


@pytest.mark.usefixtures("usual_umask")
def test_an_existing_database_file_keeps_its_mode(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    database.touch(mode=0o640)
    os.chmod(database, 0o640)
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
    finally:
        engine.dispose()
    assert _mode(database) == "0o640"


@pytest.mark.usefixtures("usual_umask")
def test_every_file_the_service_writes_is_private(tmp_path: Path, db_url: str) -> None:
    # Given a store on either database and the usual umask 022
    config = write_offline_config(tmp_path / "c.toml", db_url=db_url)
    mail = tmp_path / "report.eml"
    mail.write_bytes(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    runner = CliRunner()

    def run(*args: str) -> None:
        result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    # When a report is imported (raw message and photos stored), the digest previewed and the table exported
    run("import", "--no-send", "--mailbox", "reports", str(mail))
    (tmp_path / "out").mkdir()
    run("digest", "--preview", str(tmp_path / "out" / "digest.html"))
    run("digest", "--preview", str(tmp_path / "out" / "digest.eml"))
    run("export", "--xlsx", str(tmp_path / "new" / "folder" / "汇总表.xlsx"))
    # Then every file is the owner's only (0600), every folder made for them too (0700)
    blobs = tmp_path / "blobs"
    files = [p for p in blobs.rglob("*") if p.is_file()]
    folders = [blobs, *(p for p in blobs.rglob("*") if p.is_dir())]
    assert len(files) >= 2  # the raw message and its photo
    assert {_mode(p) for p in files} == {"0o600"}, {str(p): _mode(p) for p in files}
    assert {_mode(p) for p in folders} == {"0o700"}, {str(p): _mode(p) for p in folders}
    for written in ("out/digest.html", "out/digest.eml", "new/folder/汇总表.xlsx"):
        assert _mode(tmp_path / written) == "0o600", written
    assert _mode(tmp_path / "new") == _mode(tmp_path / "new" / "folder") == "0o700"


@pytest.mark.usefixtures("usual_umask")
def test_a_preview_written_over_a_readable_file_becomes_private(tmp_path: Path, db_url: str) -> None:
    config = write_offline_config(tmp_path / "c.toml", db_url=db_url)
    preview = tmp_path / "digest.txt"
    preview.write_text("old", encoding="utf-8")
    os.chmod(preview, 0o644)
    result = CliRunner().invoke(cli, ["--config", str(config), "digest", "--preview", str(preview)])
    assert result.exit_code == 0, result.output
    assert _mode(preview) == "0o600" and "old" not in preview.read_text(encoding="utf-8")
