"""The command line as an admin meets it at a terminal: a missing configuration, a port in use, a
table piped into `head`; each is one line that says what to do, or silence, never a traceback."""

from __future__ import annotations

import os
import pty
import select
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


def _converse(args: list[str], answers: list[tuple[str, str]]) -> str:
    """Run the CLI on a pseudo-terminal; after each prompt seen, type its answer; everything it printed."""
    main, side = pty.openpty()
    seen = b""
    with subprocess.Popen(args, stdin=side, stdout=side, stderr=side) as proc:
        os.close(side)
        pending = list(answers)
        while True:
            ready, _, _ = select.select([main], [], [], 60)
            if not ready:  # a guard against a hang, never a measure
                proc.kill()
                break
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal's other side closed: the command ended
                break
            if not chunk:
                break
            seen += chunk
            if pending and pending[0][0].encode() in seen.rsplit(b"\n", 1)[-1]:
                os.write(main, pending.pop(0)[1].encode() + b"\n")
        proc.wait(timeout=60)
    os.close(main)
    return seen.decode()


def test_users_add_at_a_terminal_asks_for_the_password_hidden_and_twice(settings_path: Path) -> None:
    base = [sys.executable, "-m", "intake", "--config", str(settings_path), "users", "add"]
    out = _converse(
        [*base, "tty@example.org", "--role", "province", "--password-stdin"],
        [("Password for tty@example.org:", "long enough pw"), ("Repeat for confirmation:", "long enough pw")],
    )
    assert "Password for tty@example.org:" in out and "Repeat for confirmation:" in out
    assert "long enough pw" not in out  # hidden as typed
    assert "added tty@example.org (province: all)" in out
    code, listed = _run("--config", str(settings_path), "users", "list")
    assert code == 0 and "tty@example.org" in listed
    # a pipe still works as before
    piped = subprocess.run(
        [*base, "pipe@example.org", "--role", "province", "--password-stdin"],
        input=b"another long pw\n",
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0 and piped.stdout.decode() == "added pipe@example.org (province: all)\n"
