"""Every schema revision, filled with rows in every table, upgraded to the newest schema: every row of
every table keeps the value of every column it had, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import make_engine
from store.migrate import head, pending, upgrade
from tests import rowmaker
from tests.scratchdb import empty_database

EARLIER = pending(None)[:-1]  # every revision from the first to the one before the newest


@pytest.mark.parametrize("revision", EARLIER)
def test_an_upgrade_from_each_revision_keeps_every_row(revision: str, tmp_path: Path) -> None:
    with empty_database(tmp_path, f"r{revision}") as url:
        engine = make_engine(url)
        try:
            upgrade(engine, target=revision)
            with engine.begin() as conn:
                schema = rowmaker.reflect(conn)
                made = rowmaker.fill(conn, schema)
            with engine.connect() as conn:
                before = rowmaker.read(conn, schema)
            assert all(len(rows) == rowmaker.ROWS for rows in before.values()) and len(before) >= 5

            done = upgrade(engine)

            assert (done.before, done.after) == (revision, head())
            assert done.applied == pending(revision)
            with engine.connect() as conn:
                after = rowmaker.read(conn, rowmaker.reflect(conn))
        finally:
            engine.dispose()
    assert rowmaker.kept(before, after) == []
    assert {t: len(r) for t, r in made.items()} == {t: len(after[t]) for t in made}
