"""The command line as an admin meets it at a terminal: a missing configuration, a port in use, a
table piped into `head`; each is one line that says what to do, or silence, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.cli import cli

pytestmark = pytest.mark.servers


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_a_configuration_that_is_not_there_says_how_to_name_it(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    code, out = _run("--config", str(absent), "messages")
    assert code == 1
    assert out.splitlines() == [
        f"Error: configuration error in {absent}: cannot read the configuration file {absent}: "
        "No such file or directory (give the file with --config PATH or INTAKE_CONFIG)"
    ]


def test_a_workbench_address_in_use_is_one_line(settings_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = _run("--config", str(settings_path), "web", "--listen", f"127.0.0.1:{port}")
    assert code == 1
    assert out.splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(choose another address with --listen or [web] listen)"
    ]


def test_a_table_piped_into_a_reader_that_stops_ends_quietly(settings_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "intake", "--config", str(settings_path), "messages"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # like `| head -0`: nobody reads what comes
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code == 1
    assert err == ""


def test_the_help_of_users_add_shows_how_the_password_is_given() -> None:
    code, out = _run("users", "add", "--help")
    assert code == 0
    assert """printf '%s\\n' "$PW" | intake users add office@qhgh.example --role province --password-stdin""" in out
    code, out = _run("decide", "--help")
    assert "message ID (as `intake messages` lists it)" in out
