"""Commands on the works: `intake decide` (overrule a verdict) and `intake package` (the download upward)."""

from __future__ import annotations

import click

from intake.cli.base import Context, cli, fail, pass_ctx
from intake.cli.users import cli_actor
from store.enums import MessageStatus


@cli.command()
@click.argument("message_id", metavar="ID", type=int)
@click.argument("verdict", type=click.Choice(["accept", "reject"]))
@click.option("--reason", required=True, help="Why (told to the unit in the correction, kept in the audit log).")
@click.option("--no-send", is_flag=True, help="Change the verdict without telling the unit.")
@pass_ctx
def decide(ctx: Context, message_id: int, verdict: str, reason: str, no_send: bool) -> None:
    """Overrule the verdict of message ID: accept or reject it, with a reason.

    The unit gets a correction in the style of the other replies (sent now, like rerun's replies),
    unless --no-send; counts, the digest and the export follow the new verdict.
    """
    from ingest.decide import DecisionRefused, overrule

    app = ctx.app()
    try:
        outcome = overrule(
            sessions=app.sessions,
            settings=app.settings,
            renderer=app.renderer,
            message_id=message_id,
            verdict=MessageStatus.ACCEPTED if verdict == "accept" else MessageStatus.REJECTED,
            reason=reason,
            actor=cli_actor(),
            send=not no_send,
        )
    except DecisionRefused as exc:
        fail(str(exc))
    click.echo(f"message {outcome.message_id}: {outcome.before.value} -> {outcome.after.value}")
    if outcome.reply is None:
        click.echo("the unit is not told (--no-send)" if no_send else "no correction: the sender has no usable address")
        return
    sent = app.send_replies()
    click.echo(f"replies: sent {sent.sent}, to retry {sent.retrying}, given up {sent.given_up}")
