"""`intake users add|list|disable`: the workbench's accounts (hosts per collection, the province)."""

from __future__ import annotations

import getpass
import sys

import click

from campaign.notice import KIND_SHORT, MailboxKind
from intake.accounts import AccountError, add, disable, listing
from intake.cli.base import Context, cli, fail, pass_ctx
from intake.cli.term import table
from store.enums import Role

COLLECTION_KINDS = [k.value for k in MailboxKind]


def cli_actor() -> str:
    """Who made a change from the command line, as the audit log names it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@cli.group()
def users() -> None:
    """The workbench's accounts (`intake web`)."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="host or province.")
@click.option(
    "--collection",
    "collections",
    multiple=True,
    type=click.Choice(COLLECTION_KINDS),
    help="A mailbox kind the host sees (repeat for several); offline-activity gives the activity reports.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (asked for, twice and hidden, when it is a terminal).",
)
@pass_ctx
def users_add(ctx: Context, email: str, role: str, collections: tuple[str, ...], password_stdin: bool) -> None:
    """Add an account; the password (at least 10 characters) is read from standard input, or asked
    for (hidden, twice) when standard input is a terminal.

    \b
    A collection's organiser, and the provincial office (sees everything):
      printf '%s\\n' "$PW" | intake users add xu@xining.example --role host --collection micro-video --password-stdin
      printf '%s\\n' "$PW" | intake users add office@qhgh.example --role province --password-stdin
    """
    if sys.stdin.isatty():  # at a terminal: ask, rather than wait silently for a line
        password = click.prompt("Password for " + email, hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    app = ctx.app()
    try:
        account = add(
            app.sessions,
            email=email,
            role=Role(role),
            collections=tuple(MailboxKind(k) for k in collections),
            password=password,
            actor=cli_actor(),
        )
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"added {account.email} ({account.role.value}: {', '.join(sorted(account.collections)) or 'all'})")


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """Every account, its role, collections and last login."""
    rows = [
        [
            a.email,
            a.role.value,
            ", ".join(KIND_SHORT[k] for k in MailboxKind if k in a.collections) or "全部",
            "active" if a.active else "disabled",
            a.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if a.last_login_at else "-",
        ]
        for a in listing(ctx.app().sessions)
    ]
    if not rows:
        click.echo("no accounts yet: intake users add EMAIL --role host --collection KIND --password-stdin")
        return
    for line in table([["email", "role", "collections", "state", "last login"], *rows]):
        click.echo(line)


@users.command("disable")
@click.argument("email")
@pass_ctx
def users_disable(ctx: Context, email: str) -> None:
    """Disable an account: it cannot log in, and its open sessions end."""
    try:
        account = disable(ctx.app().sessions, email=email, actor=cli_actor())
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"disabled {account.email}")
