"""Engines and sessions: SQLite (WAL, foreign keys) by default, PostgreSQL for several workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from store import watch
from store.private import create_private


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (0600), unless it exists already.

    SQLite gives its -wal and -shm files the mode of the database file, so they are private too.
    An existing file keeps the mode it has.
    """
    try:
        os.close(create_private(path))
    except FileExistsError:
        return


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for url; for SQLite the pragmas are set on every connection and the file is watched
    (`store.watch`): with create the folder and a private (0600) database file are made when missing,
    without it a missing file is `StoreMissing` (only `intake db upgrade` creates the store)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = None
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            path = Path(parsed.database)
            if create:
                _create_private(path)
            elif not path.is_file():
                raise watch.missing(path)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        if path is not None:
            watch.attach(engine, path)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
