"""Commands for the hosts: the `digest`, the `export` (xlsx) and the activity `count` of a report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from campaign.settings import MissingSecret
from intake.cli.base import Context, cli, fail, pass_ctx
from notify.safe import clean_text
from store.enums import MessageStatus
from store.models import Message
from store.private import write_private


@cli.command()
@click.option(
    "--preview",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the digest here: FILE.html the HTML part, FILE.txt the text, anything else the .eml.",
)
@click.option("--send", "do_send", is_flag=True, help="Send it to the configured recipients (once per date).")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="The date (default: today).")
@pass_ctx
def digest(ctx: Context, preview: Path | None, do_send: bool, day: dt.datetime | None) -> None:
    """The hosts' daily digest: preview it into a file, or send it.

    A date's digest is sent once, whatever the workers do; sent after its time it is marked late.
    """
    from campaign.notice import today
    from report.digest import preview as make_preview
    from report.digest import send_digest, summary_lines

    if bool(preview) == do_send:
        fail("give exactly one of --preview FILE or --send")
    app = ctx.app()
    when = day.date() if day else today()
    if preview:
        message = make_preview(app, day=when)
        suffix = preview.suffix.lower()
        try:
            if suffix in (".html", ".htm", ".txt"):
                part = message.get_body(("html",) if suffix != ".txt" else ("plain",))
                assert part is not None
                write_private(preview, str(part.get_content()).encode("utf-8"))
            else:
                write_private(preview, bytes(message))
        except OSError as exc:
            fail(f"cannot write {preview}: {exc.strerror or exc}")
        click.echo(f"digest for {when} written to {preview}")
        return
    try:
        outcome = send_digest(app, day=when)
    except MissingSecret as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"digest for {when} not sent: {type(exc).__name__}: {exc} (it can be sent again)")
    click.echo(summary_lines(outcome, day=when, recipients=app.settings.digest.recipients))


@cli.command("count")
@click.argument("message_id", type=int)
@click.argument("activities", type=click.IntRange(0, 999), required=False)
@click.option("--auto", "automatic", is_flag=True, help="Drop the correction: count by the rule again.")
@click.option("--note", help="Why the count is corrected (kept with it and shown in the export).")
@pass_ctx
def count(ctx: Context, message_id: int, activities: int | None, automatic: bool, note: str | None) -> None:
    """Show or correct how many offline activities a report counts.

    \b
    intake count ID               the count and why (the rule, or a correction)
    intake count ID N [--note …]  count N activities for this report (0 to not count it)
    intake count ID --auto        drop the correction and count by the rule again

    The rule: an accepted report counts 1, or the number its description states
    (“开展线下活动3场”); see the README.
    """
    from ingest import activities as reading
    from report import counting
    from report.snapshot import report_mailboxes

    if automatic and activities is not None:
        fail("give either a number of activities or --auto, not both")
    app = ctx.app()
    boxes = report_mailboxes(app.settings)
    try:
        reading.read_again(sessions=app.sessions, blobs=app.blobs, report_mailboxes=boxes, message_id=message_id)
        if activities is not None or automatic:
            reading.correct(
                sessions=app.sessions, report_mailboxes=boxes, message_id=message_id, activities=activities, note=note
            )
        with app.sessions() as session:
            msg = session.get(Message, message_id)
            assert msg is not None  # read_again checked it
            now = counting.counts(session, [message_id])[message_id]
            session.expunge(msg)
    except (LookupError, reading.NotAReport) as exc:
        fail(str(exc))
    unit = clean_text(msg.unit or "unit unknown", max_chars=40)
    click.echo(
        f"message {msg.id} ({unit}, {msg.status.value}): counts {now.activities} "
        f"{'activity' if now.activities == 1 else 'activities'}: {now.explanation}"
    )
    if msg.status is not MessageStatus.ACCEPTED and now.basis is not counting.Basis.CORRECTED:
        click.echo("only accepted reports count, unless an admin sets a number")


@cli.command()
@click.option(
    "--xlsx",
    "xlsx",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the workbook here (.xlsx).",
)
@pass_ctx
def export(ctx: Context, xlsx: Path) -> None:
    """The summary table (汇总表) for the hosts: per unit and per collection, then one row per submission
    with its files, in Annex 1 order."""
    from report.export import export_xlsx

    app = ctx.app()
    try:
        done = export_xlsx(app, xlsx)
    except OSError as exc:
        fail(f"cannot write {xlsx}: {exc.strerror or exc}")
    click.echo(
        f"summary table written to {done.path}: {done.units} units, {done.collections} collections, "
        f"{done.submissions} submissions, {done.files} files"
    )
