"""Bring a database to the newest schema with Alembic without losing a row, and tell whether it is there.

On SQLite a migration that changes a column rebuilds the table (a new table, the rows copied, the old
table dropped, the new one renamed). With foreign keys on, dropping `messages` would delete every
row that points to it (ON DELETE CASCADE: attachments, replies, activity counts, …). So on SQLite the
migrations run with foreign keys off (set outside the transaction and read back), in one transaction
with the driver's own transaction handling turned off (so that the DDL is rolled back too), and
`PRAGMA foreign_key_check` must find nothing before the commit; then foreign keys are on again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

MIGRATIONS = Path(__file__).with_name("migrations")


class MigrationBroken(RuntimeError):
    """A migration left rows whose foreign keys point nowhere; nothing was changed."""


@dataclass(frozen=True, kw_only=True)
class Upgrade:
    """What one upgrade did: the revision before (None: no schema yet), after, and the revisions applied."""

    before: str | None
    after: str | None
    applied: tuple[str, ...]


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head() -> str:
    """The newest revision this program knows."""
    found = _script().get_current_head()
    assert found is not None
    return found


def known() -> frozenset[str]:
    """Every revision this program knows."""
    return frozenset(rev.revision for rev in _script().walk_revisions())


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def pending(revision: str | None) -> tuple[str, ...]:
    """The revisions an upgrade from `revision` applies, oldest first (empty at the newest schema)."""
    script = _script()
    newest = head()
    if revision == newest:
        return ()
    steps = [rev.revision for rev in script.iterate_revisions(newest, revision)]
    return tuple(reversed(steps))


def has_rows(engine: Engine) -> bool:
    """Whether any table of the schema (Alembic's own left out) holds a row."""
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
        preparer = conn.dialect.identifier_preparer
        return any(
            conn.exec_driver_sql(f"SELECT 1 FROM {preparer.quote(name)} LIMIT 1").first() is not None for name in names
        )


def upgrade(engine: Engine, *, target: str = "head") -> Upgrade:
    """Apply every migration not yet applied (up to target), in one transaction; says what was done."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return _upgrade_sqlite(conn, cfg, target)
        with conn.begin():
            before = MigrationContext.configure(conn).get_current_revision()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
            after = MigrationContext.configure(conn).get_current_revision()
    return _done(before, after)


def _done(before: str | None, after: str | None) -> Upgrade:
    applied = tuple(r for r in pending(before) if r not in pending(after))
    return Upgrade(before=before, after=after, applied=applied)


def _pragma(conn: Connection, name: str, value: int) -> None:
    """Set a pragma outside any transaction and read it back: SQLite ignores it silently otherwise."""
    conn.exec_driver_sql(f"PRAGMA {name}={value}")
    got = conn.exec_driver_sql(f"PRAGMA {name}").scalar()
    if got != value:
        raise MigrationBroken(f"SQLite did not take PRAGMA {name}={value} (it reads {got}): nothing was migrated")


def _upgrade_sqlite(conn: Connection, cfg: Config, target: str) -> Upgrade:
    raw: Any = conn.connection.driver_connection  # the sqlite3 connection
    saved = raw.isolation_level
    conn.commit()  # no transaction open: the pragma below is ignored inside one
    raw.isolation_level = None  # the driver begins no transaction of its own; BEGIN is sent below
    try:
        _pragma(conn, "foreign_keys", 0)
        conn.commit()
        with conn.begin():
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            before = MigrationContext.configure(conn).get_current_revision()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                tables = sorted({f"{row[0]} → {row[2]}" for row in broken})
                raise MigrationBroken(
                    f"the migration would leave {len(broken)} row(s) pointing to no row ({', '.join(tables)}): "
                    "rolled back, the database is as it was"
                )
            after = MigrationContext.configure(conn).get_current_revision()
        return _done(before, after)
    finally:
        if conn.in_transaction():
            conn.rollback()
        _pragma(conn, "foreign_keys", 1)
        conn.commit()
        raw.isolation_level = saved


def is_current(engine: Engine) -> bool:
    return current(engine) == head()


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at the newest schema; else a sentence saying what is wrong and what to do."""
    newest = head()
    now = current(engine)
    if now == newest:
        return None
    where = engine.url.render_as_string(hide_password=True)
    if now is None:
        return f"the database {where} has no schema yet: run `intake db upgrade` first"
    if now not in known():
        return (
            f"the database {where} has schema {now}, newer than this program knows (newest {newest}): "
            "run the newer version of the program"
        )
    return f"the database {where} has schema {now}, this program needs {newest}: run `intake db upgrade` first"
