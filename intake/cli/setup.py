"""Commands that prepare the service: `check` the configuration, `db upgrade` the schema."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from campaign.notice import MailboxKind
from campaign.settings import MissingSecret, Settings
from ingest import activities
from intake.cli.base import EXIT_ERROR, Context, cli, fail, pass_ctx
from store.blobs import BlobStore, holds_files
from store.db import make_engine
from store.migrate import schema_problem, upgrade
from store.watch import StoreMissing


@cli.command()
@pass_ctx
def check(ctx: Context) -> None:
    """Check the configuration, the secrets it names and the database; exit 1 on any problem."""
    settings = ctx.settings
    problems: list[str] = []
    for box in settings.mailboxes:
        try:
            box.password.read()
        except MissingSecret as exc:
            problems.append(f"mailboxes.{box.name}.{exc}")
    try:
        settings.smtp.password.read()
    except MissingSecret as exc:
        problems.append(f"smtp.{exc}")
    try:
        engine = make_engine(settings.store.url, create=False)
    except StoreMissing as exc:
        problems.append(f"store.url: {exc}")
    else:
        problems += _store_problems(engine)
    click.echo(
        f"configuration {settings.path}: {len(settings.mailboxes)} mailbox(es), "
        f"{len(settings.units)} unit(s), quota total "
        f"{sum(u.activity_quota or 0 for u in settings.units)}"
    )
    for box in settings.mailboxes:
        click.echo(f"  {box.name:<20} {box.kind.value:<17} {box.username}@{box.host}:{box.port} ({box.security})")
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    if problems:
        sys.exit(EXIT_ERROR)
    click.echo("ok")


def _store_problems(engine: Engine) -> list[str]:
    problems: list[str] = []
    try:
        schema = schema_problem(engine)
        if schema is not None:
            problems.append(f"store.url: {schema}")
    except Exception as exc:  # any database error is reported, not raised
        problems.append(f"store.url: cannot use the database: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
    return problems


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
    """Database schema commands."""


@db.command("upgrade")
@click.option(
    "--new-store",
    is_flag=True,
    help="Start a new, empty database although the blob folder holds an earlier store's files (the "
    "database was lost): mail fetched again is judged and recorded, its reply held, never sent twice.",
)
@pass_ctx
def db_upgrade(ctx: Context, new_store: bool) -> None:
    """Create the tables or bring them to the newest schema (Alembic). This is the only command that
    creates a SQLite database file.

    A database without a schema over a blob folder that holds files (the database was lost, deleted or
    moved) is refused: restore it, or start anew with --new-store.

    Accepted reports whose activity count was read under an older counting rule are read again.
    """
    settings = ctx.settings
    fresh = earlier_store(settings)
    if fresh is not None and not new_store:
        fail(fresh)
    engine = make_engine(settings.store.url)
    try:
        if fresh is not None:
            BlobStore(root=settings.store.blob_dir).mark_new_store(at=dt.datetime.now(dt.UTC))
            click.echo(
                f"new database over the blob folder {settings.store.blob_dir}: mail stored before now is "
                "judged again without a reply"
            )
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database schema is up to date")
    app = ctx.app()
    boxes = [b.name for b in app.settings.mailboxes if b.kind is MailboxKind.OFFLINE_ACTIVITY]
    read = activities.refresh(sessions=app.sessions, blobs=app.blobs, report_mailboxes=boxes)
    if read:
        click.echo(f"activity counts read again for {read} accepted reports (counting rule {activities.RULE})")
