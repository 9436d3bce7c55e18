"""Commands that show what arrived: `messages` (a table, or JSON) and `show` one message."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import click

from intake.cli.base import Context, cli, fail, pass_ctx
from intake.cli.term import table
from notify.linktext import is_netdisk, link_line
from notify.safe import clean_text
from store import queries
from store.enums import MessageStatus
from store.models import Message


def _escape_format_chars(text: str) -> str:
    """JSON with bidi, zero-width and other format characters escaped, so a terminal shows them harmlessly."""
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") and ch != "\n" else ch
        for ch in text
    )


READ_FROM_THE_MAIL = frozenset({"message_id", "sender", "subject", "unit", "title"})


def _shown(key: str, value: Any) -> str:
    """A field of `intake show`: an absent value in words, `(not read)` for what the mail did not give."""
    if value is None:
        return "(not read)" if key in READ_FROM_THE_MAIL else "(none)"
    return str(value)


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
        "remarks": list(m.remarks or []),
        "late": m.late,
        "attempts": m.attempts,
        "failure_stage": m.failure_stage.value if m.failure_stage else None,
        "received_at": m.received_at.isoformat() + "Z",
        "arrived_at": m.arrived_at.isoformat() + "Z",
        "arrival_source": m.arrival_source.value,
        "duplicate_of": m.duplicate_of,
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
                "note": a.note,
            }
            for a in m.attachments
        ],
        "large_attachment_links": list(m.large_attachment_links),
        "reply": {"kind": reply.kind.value, "status": reply.status.value} if reply else None,
    }


def _reply_cell(m: Message) -> str:
    """The reply, or for a second delivery the message it repeats (it never gets a reply)."""
    if m.duplicate_of is not None:
        return f"- (duplicate of {m.duplicate_of})"
    return f"{m.replies[0].kind.value}:{m.replies[0].status.value}" if m.replies else "-"


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
        head = ["id", "status", "mailbox", "sender", "unit", "files", "reply", "subject"]
        lines = table(
            [
                head,
                *(
                    [
                        str(m.id),
                        m.status.value,
                        m.mailbox,
                        clean_text(m.sender or "-", max_chars=30),
                        clean_text(m.unit or "-", max_chars=20),
                        str(sum(1 for a in m.attachments if a.counted)),
                        _reply_cell(m),
                        clean_text(m.subject or "", max_chars=50),
                    ]
                    for m in rows
                ),
            ]
        )
        click.echo(lines[0])
        for m, line in zip(rows, lines[1:], strict=True):
            click.echo(line)
            for reason in m.reasons:
                click.echo(f"      - {clean_text(reason, max_chars=160)}")


@cli.command()
@click.argument("message_id", type=int)
@pass_ctx
def show(ctx: Context, message_id: int) -> None:
    """Everything known about one message, traceback included."""
    app = ctx.app()
    with app.sessions() as session:
        rows = queries.messages(session, ids=[message_id])
        if not rows:
            fail(f"no message with id {message_id}")
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
            "arrived_at",
            "arrival_source",
            "duplicate_of",
            "attempts",
            "failure_stage",
            "late",
        ):
            click.echo(f"{key:>14}: {clean_text(_shown(key, data[key]), max_chars=300)}")
        click.echo(f"{'raw':>14}: {app.blobs.path(m.raw_sha256) if m.raw_sha256 else '-'} ({m.raw_size} bytes)")
        for r in m.reasons:
            click.echo(f"{'reason':>14}: {clean_text(r, max_chars=300)}")
        for n in m.notes:
            click.echo(f"{'note':>14}: {clean_text(n, max_chars=300)}")
        for r in m.remarks or []:
            click.echo(f"{'for the hosts':>14}: {clean_text(r, max_chars=300)}")
        for a in m.attachments:
            flag = "ok" if a.valid else "INVALID"
            click.echo(
                f"{'file':>14}: {a.display_name} [{a.kind.value}, {a.label}, {a.mime}, {a.size} B, {flag}"
                f"{', counted' if a.counted else ''}]{' in ' + a.container if a.container else ''}"
            )
            for p in [*a.problems, *([a.note] if a.note else [])]:
                click.echo(f"{'':>16}- {clean_text(p, max_chars=300)}")
        for link in m.large_attachment_links:
            click.echo(f"{'net-disk link' if is_netdisk(link) else 'large link':>14}: {link_line(link)}")
        for rep in m.replies:
            click.echo(
                f"{'reply':>14}: {rep.kind.value} {rep.status.value} to {rep.recipient}, attempts "
                f"{rep.attempts}{', error: ' + rep.last_error if rep.last_error else ''}"
            )
            click.echo(f"{'subject':>14}: {clean_text(rep.subject, max_chars=300)}")
            # the text the sender reads (or would have read, when suppressed), as it was rendered
            for line in rep.body_text.splitlines():
                click.echo(f"{'':>14}| {clean_text(line, max_chars=500)}")
        if m.failure_traceback:
            click.echo("traceback:")
            click.echo(m.failure_traceback)
