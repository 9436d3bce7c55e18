"""The command that gives up replies held by the caps on replies: `replies drop-held`."""

from __future__ import annotations

import click

from intake.cli.base import Context, cli, pass_ctx
from intake.cli.users import cli_actor
from notify.quota import drop_held


@cli.group()
def replies() -> None:
    """Automatic replies: give up those held by the caps (see `intake status`)."""


@replies.command("drop-held")
@click.option(
    "--all",
    "everyone",
    is_flag=True,
    help="Also the replies to known senders (units); by default only those to first contacts.",
)
@click.option("--yes", is_flag=True, help="Do it: without this the command only says how many it would give up.")
@pass_ctx
def drop_held_command(ctx: Context, everyone: bool, yes: bool) -> None:
    """Give up the replies that the caps hold, after a flood of forged or unknown senders.

    \b
    By default only replies to first contacts (senders on no unit's list, whose mail named no
    unit, never answered before); --all gives up the held replies to units too. A reply given
    up is kept (status suppressed, with who gave it up) and never sent; the messages keep
    their verdicts. Without --yes nothing changes: the command says how many it would give up.
    """
    app = ctx.app()
    whom = "held replies" if everyone else "held replies to first contacts"
    with app.sessions() as session:
        count = drop_held(session, first_contacts_only=not everyone, by=cli_actor())
        if not yes:
            session.rollback()
            click.echo(f"would give up {count} {whom}; run again with --yes to do it")
            return
        session.commit()
    click.echo(f"gave up {count} {whom}: kept as suppressed, never sent")
