"""The command group, its options, and the one way a command reports an error."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import NoReturn

import click

from campaign.settings import ConfigError, Settings
from intake.app import App, SchemaOutdated
from intake.config import load

DEFAULT_CONFIG = "/etc/intake/config.toml"
EXIT_ERROR, EXIT_FAILED = 1, 3


def fail(text: str) -> NoReturn:
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
                fail(f"configuration error in {self.config_path}: {exc}")
        return self._settings

    def app(self) -> App:
        try:
            app = App.build(self.settings)
        except SchemaOutdated as exc:
            fail(str(exc))
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
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = Context(config)
