"""The command group, its options, and the one way a command reports an error: one line on stderr.

Expected failures (the database unreachable or its URL wrong, the schema too old or too new, a file
or folder that cannot be written, a full disk, a missing secret) are turned into one sentence that
says what and where, exit 1; `-v` adds the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click
from alembic.util.exc import CommandError
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from campaign.settings import ConfigError, MissingSecret, Settings
from intake.app import App, SchemaOutdated
from intake.config import load
from intake.logformat import OneLineFormatter
from store.errors import one_line
from store.watch import StoreMissing, StoreVanished

DEFAULT_CONFIG = "/etc/intake/config.toml"
EXIT_ERROR, EXIT_FAILED = 1, 3


def fail(text: str) -> NoReturn:
    raise click.ClickException(text)


class Context:
    def __init__(self, config: Path, verbose: int = 0) -> None:
        self.config_path = config
        self.verbose = verbose
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load(self.config_path)
            except ConfigError as exc:
                hint = "" if self.config_path.exists() else " (give the file with --config PATH or INTAKE_CONFIG)"
                fail(f"configuration error in {self.config_path}: {exc}{hint}")
        return self._settings

    def database(self) -> str:
        """The database URL without its password, or a placeholder before the configuration is read."""
        if self._settings is None:
            return "the database"
        from sqlalchemy.engine import make_url

        try:
            return make_url(self._settings.store.url).render_as_string(hide_password=True)
        except ArgumentError:
            return repr(self._settings.store.url)

    def app(self) -> App:
        app = App.build(self.settings)
        click.get_current_context().call_on_close(app.close)
        return app


pass_ctx = click.make_pass_decorator(Context)


def explain(exc: Exception, ctx: Context | None) -> str:
    """The one line for an expected failure."""
    where = ctx.database() if ctx else "the database"
    if isinstance(exc, (SchemaOutdated, StoreMissing, StoreVanished)):
        return str(exc)
    if isinstance(exc, MissingSecret):
        return f"a password is missing: {exc}"
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}"
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return f"store.url: not a usable database URL {where}: {exc}"
    if isinstance(exc, DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None and str(exc.orig).strip() else ""
        return f"cannot use the database {where}: {first or type(exc.orig).__name__}"
    if isinstance(exc, CommandError):
        return f"database schema ({where}): {exc}"
    if isinstance(exc, OSError):
        return one_line(exc)
    return f"unexpected error: {one_line(exc)} (-v shows the traceback)"


class Group(click.Group):
    """A click group whose commands' failures come out as one sentence (see explain)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `intake messages | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(EXIT_ERROR) from None
        except Exception as exc:
            obj = ctx.find_object(Context)
            if obj is not None and obj.verbose:
                traceback.print_exc(file=sys.stderr)
            raise click.ClickException(explain(exc, obj)) from exc


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    envvar="INTAKE_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The TOML configuration (also from the environment variable INTAKE_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-v info and tracebacks, -vv debug).")
@click.version_option(package_name="mailbox-intake", prog_name="intake", message="%(prog)s %(version)s")
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
      intake --config config.toml status       is everything well? (exit 1 when not)
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(tracebacks=verbose > 0))
    logging.basicConfig(level=max(logging.WARNING - 10 * verbose, logging.DEBUG), handlers=[handler])
    ctx.obj = Context(config, verbose)
