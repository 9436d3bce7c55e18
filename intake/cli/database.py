"""The database commands: `db upgrade` (a backup first, the migrations, the backfills) and `db backup`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from campaign.notice import MailboxKind
from campaign.settings import Settings
from ingest import activities
from ingest.backfill import Backfilled, backfill_identities
from intake.cli.base import Context, cli, fail, pass_ctx
from store import backup
from store.blobs import BlobStore, holds_files
from store.db import make_engine
from store.migrate import MigrationBroken, current, has_rows, head, known, pending, upgrade

SHOWN = 10  # copies and left-alone messages listed one by one, the rest counted


def earlier_store(settings: Settings) -> str | None:
    """Why a new database may not be started here (the blob folder holds an earlier store's files), or None."""
    url = make_url(settings.store.url)
    if url.get_backend_name() == "sqlite" and url.database and Path(url.database).exists():
        return None  # an existing file: its schema says the rest
    blob_dir = settings.store.blob_dir
    if not holds_files(blob_dir):
        return None
    if url.get_backend_name() != "sqlite":
        engine = make_engine(settings.store.url)
        try:
            with engine.connect() as conn:
                if MigrationContext.configure(conn).get_current_revision() is not None:
                    return None
        finally:
            engine.dispose()
    where = url.render_as_string(hide_password=True)
    return (
        f"the database {where} does not exist or has no schema, but the blob folder {blob_dir} holds the files "
        "of an earlier store: restore the database, or start a new one with `intake db upgrade --new-store` "
        '(see "A store that vanishes" in the README)'
    )


@cli.group()
def db() -> None:
    """Database commands: bring the schema up to date, take a backup."""


def _before_upgrade(ctx: Context, engine: Engine, *, revision: str, todo: tuple[str, ...], have_backup: bool) -> None:
    """A SQLite store is copied beside itself; a PostgreSQL database with rows needs --i-have-a-backup."""
    url = ctx.settings.store.url
    db_file = backup.sqlite_file(url)
    if db_file is not None:
        out = backup.backup_sqlite(db_file, backup.before_upgrade_path(db_file, revision))
        click.echo(f"backup of the store at schema {revision}: {out}")
        return
    if make_url(url).get_backend_name() == "postgresql" and not have_backup and has_rows(engine):
        fail(
            f"the database {ctx.database()} holds data and needs migrations {revision} → {todo[-1]}: "
            f"back it up first (`intake db backup`, or {backup.pg_dump_line(url)}), "
            "then run `intake db upgrade --i-have-a-backup`"
        )


def _report_backfill(done: Backfilled) -> None:
    if done.given:
        click.echo(f"submission identities given to {done.given} message(s) stored without one")
    if done.without_raw:
        click.echo(f"  {done.without_raw} of them from the stored Message-ID and sender (raw message missing)")
    for message, holder in done.copies[:SHOWN]:
        click.echo(f"message {message} is another copy of message {holder}: the identity stays with {holder}")
    if len(done.copies) > SHOWN:
        click.echo(f"… and {len(done.copies) - SHOWN} more copies of earlier messages")
    for message, why in done.left[:SHOWN]:
        click.echo(f"message {message} left without an identity: {why}")
    if len(done.left) > SHOWN:
        click.echo(f"… and {len(done.left) - SHOWN} more left without an identity")


@db.command("upgrade")
@click.option(
    "--i-have-a-backup",
    "have_backup",
    is_flag=True,
    help="PostgreSQL: migrate a database that holds data (it is refused without this flag; see `intake db backup`).",
)
@click.option(
    "--new-store",
    is_flag=True,
    help="Start a new, empty database although the blob folder holds an earlier store's files (the "
    "database was lost): mail fetched again is judged and recorded, its reply held, never sent twice.",
)
@pass_ctx
def db_upgrade(ctx: Context, have_backup: bool, new_store: bool) -> None:
    """Create the tables or bring them to the newest schema (Alembic), then backfill what old rows lack.

    \b
    Before migrating a schema that exists, a SQLite store is copied beside itself
    (<store>.before-<schema>-<UTC time>.bak, by SQLite's online backup API); a PostgreSQL database
    that holds data is migrated only with --i-have-a-backup. A new, empty database needs neither.
    Messages stored before submissions had an identity get theirs (a second delivery of them is a
    duplicate), and accepted reports read under an older counting rule are read again.

    This is the only command that creates a SQLite database file. A database without a schema over a
    blob folder that holds files (the database was lost, deleted or moved) is refused: restore it, or
    start anew with --new-store.
    """
    settings = ctx.settings
    fresh = earlier_store(settings)
    if fresh is not None and not new_store:
        fail(fresh)
    if fresh is not None:
        BlobStore(root=settings.store.blob_dir).mark_new_store(at=dt.datetime.now(dt.UTC))
        click.echo(
            f"new database over the blob folder {settings.store.blob_dir}: mail stored before now is "
            "judged again without a reply"
        )
    engine = make_engine(settings.store.url)
    try:
        revision = current(engine)
        if revision is not None and revision not in known():
            fail(
                f"the database {ctx.database()} has schema {revision}, newer than this program knows "
                f"(newest {head()}): run the newer release, or restore the backup taken before its upgrade"
            )
        todo = pending(revision)
        if todo and revision is not None:
            _before_upgrade(ctx, engine, revision=revision, todo=todo, have_backup=have_backup)
        try:
            done = upgrade(engine)
        except MigrationBroken as exc:
            fail(str(exc))
    finally:
        engine.dispose()
    applied = ", ".join(done.applied)
    if not done.applied:
        click.echo(f"database schema already at the newest schema ({done.after}): no migration run")
    elif done.before is None:
        click.echo(f"database schema created at {done.after} (applied {applied})")
    else:
        click.echo(f"database schema upgraded from {done.before} to {done.after} (applied {applied})")
    app = ctx.app()
    addresses = {b.name: b.address for b in app.settings.mailboxes}
    _report_backfill(backfill_identities(sessions=app.sessions, blobs=app.blobs, addresses=addresses))
    boxes = [b.name for b in app.settings.mailboxes if b.kind is MailboxKind.OFFLINE_ACTIVITY]
    read = activities.refresh(sessions=app.sessions, blobs=app.blobs, report_mailboxes=boxes)
    if read:
        click.echo(f"activity counts read again for {read} accepted reports (counting rule {activities.RULE})")


@db.command("backup")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The new file to write (default: beside a SQLite store, or intake-<UTC time>.dump here).",
)
@pass_ctx
def db_backup(ctx: Context, out: Path | None) -> None:
    """Copy the database into a new private file (0600) while the service may run.

    \b
    SQLite: SQLite's online backup API; restore by copying the file over the store (service stopped).
    PostgreSQL: pg_dump --format=custom (the PostgreSQL client must be installed); restore with
    pg_restore --clean --if-exists --dbname=URL FILE.
    """
    url = ctx.settings.store.url
    db_file = backup.sqlite_file(url)
    engine = make_engine(url, create=False)  # a lost store is not replaced by an empty one
    try:
        revision = current(engine)
    finally:
        engine.dispose()
    try:
        if db_file is not None:
            target = out or db_file.with_name(f"{db_file.name}.backup-{backup.stamp()}.bak")
            written = backup.backup_sqlite(db_file, target)
        elif make_url(url).get_backend_name() == "postgresql":
            written = backup.backup_postgresql(url, out or Path(f"intake-{backup.stamp()}.dump"))
        else:
            fail(f"the database {ctx.database()} is no SQLite file nor PostgreSQL: use its own tools")
    except backup.BackupFailed as exc:
        fail(str(exc))
    click.echo(f"backup written: {written} ({written.stat().st_size} bytes, schema {revision or 'none'})")
