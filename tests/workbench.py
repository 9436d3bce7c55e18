"""Helpers for the workbench tests: a configuration with a collection or two, accounts, a logged-in client."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from devservers.smtpsink import SmtpSink
from intake.cli import cli

PASSWORD = "correct horse battery"


def write_workbench_config(path: Path, *, db_url: str, smtp: SmtpSink | None = None, extra: str = "") -> Path:
    """Three mailboxes (reports, photography, micro-video) that are never polled (files are imported)."""
    smtp_lines = f'host = "{smtp.host}"\nport = {smtp.port}' if smtp else 'host = "127.0.0.1"\nport = 2525'
    boxes = ""
    for name, kind, address in (
        ("reports", "offline-activity", "wxb0626@126.com"),
        ("photos", "photography", "124111397@qq.com"),
        ("videos", "micro-video", "fengxingzixk@163.com"),
    ):
        boxes += f"""
[[mailboxes]]
name = "{name}"
kind = "{kind}"
address = "{address}"
host = "127.0.0.1"
port = 1143
security = "none"
username = "{name}"
password_env = "INTAKE_TEST_UNUSED"
deadline = 2020-08-20
"""
    units = "".join(
        f'\n[[units]]\nname = "{name}"\nactivity_quota = {quota}\n'
        for name, quota in (
            ("西宁市总工会", 10),
            ("海南州总工会", 5),
            ("黄南州总工会", 5),
            ("省能源化工机冶工会", 5),
            ("省教科文卫体工会", 5),
            ("国网青海省电力公司工会", 5),
            ("青海省建设工会", 5),
        )
    )
    path.write_text(
        f"""
[store]
url = "{db_url}"
blob_dir = "blobs"

[smtp]
{smtp_lines}
security = "none"
sender = "wxb0626@126.com"
retry_seconds = 1
{boxes}
[digest]
recipients = ["hosts@example.org"]
{units}
{extra}
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], input=input, catch_exceptions=False)


def add_user(config: Path, email: str, *args: str, password: str = PASSWORD) -> Result:
    result = run(config, "users", "add", email, *args, "--password-stdin", input=password + "\n")
    assert result.exit_code == 0, result.output
    return result


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
