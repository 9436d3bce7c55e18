"""The command that checks the service before it runs: `check` the configuration, the secrets and the store."""

from __future__ import annotations

import sys

import click
from sqlalchemy import Engine

from campaign.settings import MissingSecret
from intake.cli.base import EXIT_ERROR, Context, cli, pass_ctx
from store.db import make_engine
from store.migrate import schema_problem
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
