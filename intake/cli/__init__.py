"""The `intake` command: the admins' and the scripts' way into the service."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

import click

from campaign.settings import ConfigError, MissingSecret, Settings
from intake.app import App, SchemaOutdated
from intake.config import load
from notify.safe import clean_text
from store import queries
from store.db import make_engine
from store.enums import MessageStatus
from store.migrate import is_current, upgrade
from store.models import Message

DEFAULT_CONFIG = "/etc/intake/config.toml"
EXIT_ERROR, EXIT_FAILED = 1, 3


def _fail(text: str) -> NoReturn:
    raise click.ClickException(text)


class Context:
    def __init__(self, config: Path) -> None:
        self.config_path = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load(self.config_path)
            except ConfigError as exc:
                _fail(f"configuration error in {self.config_path}: {exc}")
        return self._settings

    def app(self) -> App:
        try:
            app = App.build(self.settings)
        except SchemaOutdated as exc:
            _fail(str(exc))
        click.get_current_context().call_on_close(app.engine.dispose)
        return app


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    envvar="INTAKE_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The TOML configuration (also from the environment variable INTAKE_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, config: Path, verbose: int) -> None:
    """Mailbox intake: collects campaign submissions from IMAP mailboxes, checks them, answers the
    senders and reports to the hosts.

    \b
    First steps:
      intake --config config.toml check        check the configuration and the database
      intake --config config.toml db upgrade   create or update the database schema
      intake --config config.toml poll --once  fetch and judge what is new, send replies
      intake --config config.toml run          run the service (polls on a schedule)
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = Context(config)


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
        if not is_current(engine):
            problems.append("store.url: the database schema is not up to date; run `intake db upgrade`")
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
    """Create the tables or bring them to the newest schema (Alembic)."""
    engine = make_engine(ctx.settings.store.url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database schema is up to date")


def _print_poll(app: App, mailbox: str | None) -> int:
    failed = 0
    try:
        reports = app.poll(mailbox)
    except MissingSecret as exc:
        _fail(str(exc))
    for r in reports:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items())) or "nothing new"
        click.echo(f"{r.mailbox}: fetched {r.fetched}: {counts}")
        failed += r.statuses.get(MessageStatus.FAILED.value, 0)
    sent = app.send_replies()
    click.echo(f"replies: sent {sent.sent}, to retry {sent.retrying}, given up {sent.given_up}")
    return failed


@cli.command()
@click.option("--once", is_flag=True, help="Poll once, process, send pending replies and exit.")
@click.option("--mailbox", help="Only this mailbox (its name in the configuration).")
@pass_ctx
def poll(ctx: Context, once: bool, mailbox: str | None) -> None:
    """Fetch new messages (BODY.PEEK: they stay unread), judge them and send the replies."""
    if not once:
        _fail("use `intake poll --once` for a single poll, or `intake run` for the service")
    app = ctx.app()
    if mailbox:
        try:
            app.settings.mailbox(mailbox)
        except ConfigError as exc:
            _fail(str(exc))
    if _print_poll(app, mailbox):
        click.echo("some messages failed: see `intake messages --status failed`", err=True)


@cli.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Run the service: polls every mailbox on its schedule, sends replies and the daily digest.

    SIGTERM finishes the message in hand, then exits.
    """
    from intake.service import run as run_service

    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    run_service(ctx.app())


def _escape_format_chars(text: str) -> str:
    """JSON with bidi, zero-width and other format characters escaped, so a terminal shows them harmlessly."""
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") and ch != "\n" else ch
        for ch in text
    )


def message_json(m: Message) -> dict[str, Any]:
    reply = m.replies[0] if m.replies else None
    return {
        "id": m.id,
        "mailbox": m.mailbox,
        "uidvalidity": m.uidvalidity,
        "uid": m.uid,
        "message_id": m.message_id,
        "sender": m.sender,
        "subject": m.subject,
        "unit": m.unit,
        "title": m.title,
        "status": m.status.value,
        "reasons": list(m.reasons),
        "notes": list(m.notes),
        "late": m.late,
        "attempts": m.attempts,
        "failure_stage": m.failure_stage.value if m.failure_stage else None,
        "received_at": m.received_at.isoformat() + "Z",
        "attachments": [
            {
                "filename": a.filename,
                "display_name": a.display_name,
                "container": a.container,
                "sha256": a.sha256,
                "size": a.size,
                "mime": a.mime,
                "kind": a.kind.value,
                "inline": a.inline,
                "valid": a.valid,
                "counted": a.counted,
                "problems": list(a.problems),
            }
            for a in m.attachments
        ],
        "large_attachment_links": list(m.large_attachment_links),
        "reply": {"kind": reply.kind.value, "status": reply.status.value} if reply else None,
    }


@cli.command()
@click.option("--status", type=click.Choice([s.value for s in MessageStatus]), help="Only this status.")
@click.option("--mailbox", help="Only this mailbox.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list, for scripts.")
@pass_ctx
def messages(ctx: Context, status: str | None, mailbox: str | None, as_json: bool) -> None:
    """List stored messages and their verdicts."""
    app = ctx.app()
    with app.sessions() as session:
        rows = queries.messages(session, status=MessageStatus(status) if status else None, mailbox=mailbox)
        if as_json:
            click.echo(_escape_format_chars(json.dumps([message_json(m) for m in rows], ensure_ascii=False, indent=2)))
            return
        if not rows:
            click.echo("no messages")
            return
        for m in rows:
            files = sum(1 for a in m.attachments if a.counted)
            reply = f"{m.replies[0].kind.value}:{m.replies[0].status.value}" if m.replies else "-"
            click.echo(
                f"{m.id:>5}  {m.status.value:<8}  {m.mailbox:<16}  {clean_text(m.sender or '-', max_chars=30):<30}  "
                f"{clean_text(m.unit or '-', max_chars=20):<20} files {files:<3} reply {reply:<24} "
                f"{clean_text(m.subject or '', max_chars=50)}"
            )
            for reason in m.reasons:
                click.echo(f"         - {clean_text(reason, max_chars=160)}")


@cli.command()
@click.argument("message_id", type=int)
@pass_ctx
def show(ctx: Context, message_id: int) -> None:
    """Everything known about one message, traceback included."""
    app = ctx.app()
    with app.sessions() as session:
        rows = queries.messages(session, ids=[message_id])
        if not rows:
            _fail(f"no message with id {message_id}")
        m = rows[0]
        data = message_json(m)
        for key in (
            "id",
            "status",
            "mailbox",
            "uidvalidity",
            "uid",
            "message_id",
            "sender",
            "subject",
            "unit",
            "title",
            "received_at",
            "attempts",
            "failure_stage",
            "late",
        ):
            click.echo(f"{key:>14}: {clean_text(str(data[key]), max_chars=300)}")
        click.echo(f"{'raw':>14}: {app.blobs.path(m.raw_sha256) if m.raw_sha256 else '-'} ({m.raw_size} bytes)")
        for r in m.reasons:
            click.echo(f"{'reason':>14}: {clean_text(r, max_chars=300)}")
        for n in m.notes:
            click.echo(f"{'note':>14}: {clean_text(n, max_chars=300)}")
        for a in m.attachments:
            flag = "ok" if a.valid else "INVALID"
            click.echo(
                f"{'file':>14}: {a.display_name} [{a.kind.value}, {a.label}, {a.mime}, {a.size} B, {flag}"
                f"{', counted' if a.counted else ''}]{' in ' + a.container if a.container else ''}"
            )
            for p in a.problems:
                click.echo(f"{'':>16}- {clean_text(p, max_chars=300)}")
        for link in m.large_attachment_links:
            click.echo(
                f"{'large link':>14}: {link.get('filename')} {link.get('size')} {link.get('expires')} {link.get('url')}"
            )
        for rep in m.replies:
            click.echo(
                f"{'reply':>14}: {rep.kind.value} {rep.status.value} to {rep.recipient}, attempts "
                f"{rep.attempts}{', error: ' + rep.last_error if rep.last_error else ''}"
            )
        if m.failure_traceback:
            click.echo("traceback:")
            click.echo(m.failure_traceback)


@cli.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Every message whose processing failed.")
@pass_ctx
def rerun(ctx: Context, ids: tuple[int, ...], all_failed: bool) -> None:
    """Judge messages again from their stored raw bytes (like Mailman's unshunt).

    A verdict that was already answered is never answered twice.
    """
    app = ctx.app()
    targets = list(ids) + (app.failed_ids() if all_failed else [])
    if not targets:
        _fail("name message ids or use --failed")
    with app.sessions() as session:
        known = {m.id for m in queries.messages(session, ids=targets)}
    missing = [i for i in targets if i not in known]
    if missing:
        _fail(f"no message with id {', '.join(map(str, missing))}")
    results = app.rerun(targets)
    for msg_id, status in results.items():
        click.echo(f"{msg_id}: {status.value}")
    sent = app.send_replies()
    click.echo(f"replies: sent {sent.sent}, to retry {sent.retrying}, given up {sent.given_up}")
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
        _fail(str(exc))
    counts: dict[str, int] = {}
    with (
        click.progressbar(files, label="importing", file=sys.stderr, show_pos=True)
        if len(files) > 20
        else _plain(files) as items
    ):
        for path in items:
            msg_id, status = app.import_file(mailbox=mailbox, path=path)
            key = status.value if status else "already imported"
            counts[key] = counts.get(key, 0) + 1
            if len(files) <= 20:
                click.echo(f"{path}: {key}{f' (id {msg_id})' if msg_id else ''}")
    click.echo("imported: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if not no_send:
        sent = app.send_replies()
        click.echo(f"replies: sent {sent.sent}, to retry {sent.retrying}, given up {sent.given_up}")


class _plain:
    def __init__(self, items: tuple[Path, ...]) -> None:
        self.items = items

    def __enter__(self) -> tuple[Path, ...]:
        return self.items

    def __exit__(self, *exc: object) -> None:
        return None


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
        _fail("give exactly one of --preview FILE or --send")
    app = ctx.app()
    when = day.date() if day else today()
    if preview:
        message = make_preview(app, day=when)
        suffix = preview.suffix.lower()
        if suffix in (".html", ".htm", ".txt"):
            part = message.get_body(("html",) if suffix != ".txt" else ("plain",))
            assert part is not None
            preview.write_text(str(part.get_content()), encoding="utf-8")
        else:
            preview.write_bytes(bytes(message))
        click.echo(f"digest for {when} written to {preview}")
        return
    try:
        outcome = send_digest(app, day=when)
    except MissingSecret as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"digest for {when} not sent: {type(exc).__name__}: {exc} (it can be sent again)")
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
        _fail("give either a number of activities or --auto, not both")
    app = ctx.app()
    boxes = report_mailboxes(app.settings)
    try:
        reading.read_again(sessions=app.sessions, blobs=app.blobs, report_mailboxes=boxes, message_id=message_id)
        if activities is not None or automatic:
            reading.correct(sessions=app.sessions, report_mailboxes=boxes, message_id=message_id, activities=activities, note=note)
        with app.sessions() as session:
            msg = session.get(Message, message_id)
            assert msg is not None  # read_again checked it
            now = counting.counts(session, [message_id])[message_id]
            session.expunge(msg)
    except (LookupError, reading.NotAReport) as exc:
        _fail(str(exc))
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
        _fail(f"cannot write {xlsx}: {exc.strerror or exc}")
    click.echo(
        f"summary table written to {done.path}: {done.units} units, {done.collections} collections, "
        f"{done.submissions} submissions, {done.files} files"
    )


def main() -> None:
    cli(prog_name="intake")
