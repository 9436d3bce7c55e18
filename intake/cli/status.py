"""The `status` command: is the service well? One screen for admins, `--json` for scripts, exit 1 when not."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from intake.cli.base import EXIT_ERROR, Context, cli, pass_ctx
from notify.safe import clean_text
from report.health import health
from store.models import utcnow


def _ago(when: dt.datetime | None, now: dt.datetime) -> str:
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _in(when: dt.datetime | None, now: dt.datetime) -> str:
    if when is None:
        return "never"
    seconds = int((when - now).total_seconds())
    if seconds <= 0:
        return "now"
    return f"in {seconds // 60} min" if seconds >= 120 else f"in {seconds}s"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts and health checks.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Each mailbox's last good poll and error, the backlog, the replies, the digest and the workers.

    Exit 0 when all is well, 1 when something needs attention (thresholds in [status]).
    """
    app = ctx.app()
    found = health(settings=app.settings, sessions=app.sessions, stale_seconds=app.settings.service.stale_seconds)
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
    else:
        now = utcnow()
        for b in found.mailboxes:
            error = f", last error: {clean_text(b.last_error, max_chars=160)}" if b.last_error else ""
            failures = f", {b.consecutive_failures} failed in a row" if b.consecutive_failures else ""
            click.echo(f"mailbox {b.name} ({b.server}): last good poll {_ago(b.last_ok_at, now)}{failures}{error}")
        click.echo(f"messages: {found.received} received (not yet judged), {found.failed} failed")
        click.echo(f"replies: {found.replies_pending} pending, {found.replies_given_up} given up")
        if found.replies_held:
            click.echo(
                f"replies held: {found.replies_held} by the caps on replies ({found.held_first_contacts} to first "
                f"contacts), since {found.oldest_held_at:%Y-%m-%d %H:%M} UTC ({_ago(found.oldest_held_at, now)}), "
                f"next try {_in(found.next_held_at, now)}"
            )
        last = (
            f"{found.last_digest_day} (sent {_ago(found.last_digest_sent_at, now)})"
            if found.last_digest_day
            else "none"
        )
        click.echo(f"last digest sent: {last}")
        for w in found.workers:
            if w.alive:
                holds = f", holds {' '.join(w.holds)}" if w.holds else ""
                click.echo(f"worker {w.host} pid {w.pid}: beat {_ago(w.beat_at, now)}{holds}")
        for p in found.problems:
            click.echo(f"attention: {p}")
        click.echo("ok" if found.healthy else f"needs attention: {len(found.problems)} problem(s)")
    if not found.healthy:
        sys.exit(EXIT_ERROR)
