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
