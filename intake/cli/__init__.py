"""The `intake` command: the admins' and the scripts' way into the service, one module per command group."""

from __future__ import annotations

from intake.cli import browse, database, mail, replies, reports, setup, status, users, web, works
from intake.cli.base import cli

__all__ = [
    "browse",
    "cli",
    "database",
    "mail",
    "main",
    "replies",
    "reports",
    "setup",
    "status",
    "users",
    "web",
    "works",
]


def main() -> None:
    cli(prog_name="intake")
