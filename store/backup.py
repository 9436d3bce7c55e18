"""Copies of the database that an operator can restore: SQLite by its online backup API, PostgreSQL by pg_dump.

A SQLite copy is taken while the service may be running (the backup API copies a consistent state,
page by page); it is a plain database file, private (0600), in rollback-journal mode, so that it is
one self-contained file: restoring it is copying it over the store with the service stopped.
PostgreSQL is copied by its own tool, `pg_dump --format=custom`, restored by `pg_restore`.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from store.private import create_private


class BackupFailed(RuntimeError):
    """The copy could not be made; the text says why."""


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or None (another database, or one in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def stamp(now: dt.datetime | None = None) -> str:
    """The UTC time in a file name: 20200801T093000Z."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def before_upgrade_path(db: Path, revision: str | None, now: dt.datetime | None = None) -> Path:
    """Where the copy taken before an upgrade goes: beside the store, named by its schema and the time."""
    return db.with_name(f"{db.name}.before-{revision or 'empty'}-{stamp(now)}.bak")


def _private_new(path: Path) -> None:
    """Create path, empty and readable by its owner only, whatever the umask; refuse to overwrite."""
    try:
        os.close(create_private(path))
    except FileExistsError:
        raise BackupFailed(f"{path} exists already: choose another file") from None


def backup_sqlite(db: Path, out: Path) -> Path:
    """Copy the SQLite store db into the new file out (0600) with the online backup API."""
    if not db.is_file():
        raise BackupFailed(f"no database file at {db}")
    _private_new(out)
    try:
        source = sqlite3.connect(db, timeout=30)
        try:
            target = sqlite3.connect(out)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                check = target.execute("PRAGMA quick_check").fetchone()
                if check is None or check[0] != "ok":
                    raise BackupFailed(f"the copy {out} does not check out: {check}")
            finally:
                target.close()
        finally:
            source.close()
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def _libpq(url: str) -> URL:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql")


def pg_dump_line(url: str, out: Path | str = "intake-$(date -u +%Y%m%dT%H%M%SZ).dump") -> str:
    """The pg_dump command an operator runs for this database (its password left out: PGPASSWORD)."""
    target = _libpq(url).render_as_string(hide_password=True).replace(":***@", "@")
    return f"pg_dump --format=custom --file={out} {shlex.quote(target)}"


def backup_postgresql(url: str, out: Path) -> Path:
    """Dump the database into the new file out (0600) with pg_dump --format=custom."""
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupFailed(f"pg_dump is not on PATH: install the PostgreSQL client and run: {pg_dump_line(url)}")
    parsed = _libpq(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    _private_new(out)
    target = parsed.set(password=None).render_as_string(hide_password=False)
    done = subprocess.run(
        [program, "--format=custom", f"--file={out}", f"--dbname={target}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise BackupFailed(f"pg_dump failed: {reason}")
    os.chmod(out, 0o600)
    return out
