"""Commands that prepare the service: `check` the configuration, `db upgrade` the schema."""

from __future__ import annotations

import sys

import click

from campaign.notice import MailboxKind
from campaign.settings import MissingSecret
from ingest import activities
from intake.cli.base import EXIT_ERROR, Context, cli, pass_ctx
from store.db import make_engine
from store.migrate import schema_problem, upgrade


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
    engine = make_engine(settings.store.url)
    try:
        schema = schema_problem(engine)
        if schema is not None:
            problems.append(f"store.url: {schema}")
    except Exception as exc:  # any database error is reported, not raised
        problems.append(f"store.url: cannot use the database: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
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


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create the tables or bring them to the newest schema (Alembic).

    Accepted reports whose activity count was read under an older counting rule are read again.
    """
    engine = make_engine(ctx.settings.store.url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database schema is up to date")
    app = ctx.app()
    boxes = [b.name for b in app.settings.mailboxes if b.kind is MailboxKind.OFFLINE_ACTIVITY]
    read = activities.refresh(sessions=app.sessions, blobs=app.blobs, report_mailboxes=boxes)
    if read:
        click.echo(f"activity counts read again for {read} accepted reports (counting rule {activities.RULE})")
