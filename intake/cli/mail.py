"""Commands that take mail in: `poll`, `run` (the service), `rerun` and `import`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from campaign.settings import ConfigError
from ingest.fetch.poller import PollReport
from intake.app import App
from intake.cli.base import EXIT_ERROR, EXIT_FAILED, Context, cli, fail, pass_ctx
from intake.cli.term import progress
from notify.replies import SendReport
from store import queries
from store.enums import MessageStatus

NO_SEND = "管理员重新判定时选择不发送（intake rerun --no-send）"


def _poll_line(r: PollReport) -> str:
    if r.skipped:
        return f"{r.mailbox}: skipped: {r.skipped}"
    counts = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items())) or "nothing new"
    done = f"fetched {r.fetched}" + (f", resumed {r.resumed}" if r.resumed else "")
    cuts = f" ({r.reconnects} reconnection{'s' if r.reconnects != 1 else ''} after cuts)" if r.reconnects else ""
    if r.error:
        return f"{r.mailbox}: failed: {r.error}" + (f" (after {done}: {counts})" if r.fetched or r.resumed else "")
    return f"{r.mailbox}: {done}: {counts}{cuts}"


def replies_line(sent: SendReport) -> str:
    held = f", held by the caps {sent.held} (see `intake status`)" if sent.held else ""
    return f"replies: sent {sent.sent}, to retry {sent.retrying}, given up {sent.given_up}{held}"


def _print_poll(app: App, mailbox: str | None) -> tuple[int, int]:
    """Poll, print one line per mailbox and the replies; returns (mailboxes failed, messages failed)."""
    reports = app.poll(mailbox)
    for r in reports:
        click.echo(_poll_line(r))
    sent = app.send_replies()
    click.echo(replies_line(sent))
    return sum(1 for r in reports if r.error), sum(r.statuses.get(MessageStatus.FAILED.value, 0) for r in reports)


@cli.command()
@click.option("--once", is_flag=True, help="Poll once, process, send pending replies and exit.")
@click.option("--mailbox", help="Only this mailbox (its name in the configuration).")
@pass_ctx
def poll(ctx: Context, once: bool, mailbox: str | None) -> None:
    """Fetch new messages (BODY.PEEK: they stay unread), judge them and send the replies."""
    if not once:
        fail("use `intake poll --once` for a single poll, or `intake run` for the service")
    app = ctx.app()
    if mailbox:
        try:
            app.settings.mailbox(mailbox)
        except ConfigError as exc:
            fail(str(exc))
    boxes, messages = _print_poll(app, mailbox)
    if messages:
        click.echo(f"{messages} message(s) failed: see `intake messages --status failed`", err=True)
    if boxes:
        click.echo(f"{boxes} mailbox(es) could not be polled (see above); they are tried again", err=True)
        sys.exit(EXIT_ERROR)
    if messages:
        sys.exit(EXIT_FAILED)


@cli.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Run the service: polls every mailbox on its schedule, sends replies and the daily digest.

    SIGTERM finishes the message in hand, then exits. A SQLite database file deleted or replaced under
    the service stops it at once with one line and exit 1: nothing more is judged or sent.
    """
    from intake.service import run as run_service

    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    if run_service(ctx.app()) is not None:
        sys.exit(EXIT_ERROR)


@cli.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Every message whose processing failed.")
@click.option(
    "--no-send",
    is_flag=True,
    help="Record the new verdict, but never send its reply: the reply is kept as suppressed "
    "(reason: rerun --no-send by an admin), for the hosts to read.",
)
@pass_ctx
def rerun(ctx: Context, ids: tuple[int, ...], all_failed: bool, no_send: bool) -> None:
    """Judge messages again from their stored raw bytes (like Mailman's unshunt).

    A verdict that was already answered is never answered twice. With --no-send a message not yet
    answered gets its reply written but held (status suppressed), and nothing is sent.
    """
    app = ctx.app()
    targets = list(ids) + (app.failed_ids() if all_failed else [])
    if not targets:
        fail("name message ids or use --failed")
    with app.sessions() as session:
        known = {m.id for m in queries.messages(session, ids=targets)}
    missing = [i for i in targets if i not in known]
    if missing:
        fail(f"no message with id {', '.join(map(str, missing))}")
    results: dict[int, MessageStatus] = {}
    with progress(targets, label="judging again") as items:
        for target in items:
            results.update(app.rerun([target], hold=NO_SEND if no_send else None))
    for msg_id, status in results.items():
        click.echo(f"{msg_id}: {status.value}")
    if no_send:
        click.echo("replies: none sent (--no-send: a new reply is kept as suppressed)")
    else:
        click.echo(replies_line(app.send_replies()))
    if any(s is MessageStatus.FAILED for s in results.values()):
        sys.exit(EXIT_FAILED)


@cli.command("import")
@click.option("--mailbox", required=True, help="The mailbox the files count as arriving in.")
@click.option("--no-send", is_flag=True, help="Do not send the replies now (they stay pending).")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_(ctx: Context, mailbox: str, no_send: bool, files: tuple[Path, ...]) -> None:
    """Process .eml files as if they had arrived in MAILBOX (the fallback when IMAP is down)."""
    app = ctx.app()
    try:
        app.settings.mailbox(mailbox)
    except ConfigError as exc:
        fail(str(exc))
    counts: dict[str, int] = {}
    with progress(files, label="importing") as items:
        for path in items:
            msg_id, status = app.import_file(mailbox=mailbox, path=path)
            key = status.value if status else "already imported"
            counts[key] = counts.get(key, 0) + 1
            if len(files) <= 20:
                click.echo(f"{path}: {key}{f' (id {msg_id})' if msg_id else ''}")
    click.echo("imported: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if not no_send:
        sent = app.send_replies()
        click.echo(replies_line(sent))
    failed = counts.get(MessageStatus.FAILED.value, 0)
    if failed:
        click.echo(f"{failed} message(s) failed: see `intake messages --status failed`", err=True)
        sys.exit(EXIT_FAILED)
