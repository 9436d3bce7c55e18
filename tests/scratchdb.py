"""Empty databases for tests that build a schema of their own: a SQLite file, or a new PostgreSQL
database beside the run's (INTAKE_TEST_DB), dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def on_postgresql() -> bool:
    return os.environ.get("INTAKE_TEST_DB", "sqlite") != "sqlite"


@contextmanager
def empty_database(folder: Path, name: str) -> Iterator[str]:
    """The URL of a new, empty database (no schema), named after name."""
    setting = os.environ.get("INTAKE_TEST_DB", "sqlite")
    if setting == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    base = make_url(setting).set(drivername="postgresql+psycopg")
    database = f"intake_up_{name}_{uuid.uuid4().hex[:8]}".lower()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        yield base.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
