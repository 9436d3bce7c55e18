"""The README's "Try it yourself" steps, run as written in a copy of the tree, then a second demo.

The copy holds the repository's files (as `git ls-files` lists them, uncommitted changes included)
and links the set-up `.venv`, so the demo's set-up step finds everything installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.servers, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@@ step: "


def readme_steps() -> list[str]:
    """The command lines of the first `sh` block under "## Try it yourself" in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Try it yourself\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def project_files() -> list[str]:
    """The tree's files: as git lists them (untracked ones too, ignored ones not), or, outside a git
    checkout (an unpacked sdist), every file but the set-up and run-time folders."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]
    skipped = {".venv", "var", "build", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    return [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if path.is_file() and not skipped & set(path.relative_to(ROOT).parts)
    ]


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """A copy of the working tree in a temporary folder; the demo's servers are stopped afterwards."""
    # The copy shares the .venv: its set-up step must find it up to date, or pip would install the
    # copy into it (scripts/setup.sh writes this stamp after each install).
    stamp = (ROOT / ".venv" / ".setup-stamp").read_text(encoding="utf-8").strip()
    wanted = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in ("pyproject.toml", "constraints.txt")))
    assert stamp == wanted.hexdigest(), "the .venv is not set up for this tree: run bash scripts/setup.sh first"
    copy = tmp_path / "clone"
    for name in project_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    try:
        yield copy
    finally:
        subprocess.run(["bash", "scripts/demo.sh", "--stop"], cwd=copy, capture_output=True, timeout=60, check=False)


def run_steps(clone: Path, steps: list[str]) -> dict[str, str]:
    """Runs the steps in one bash session, as a user types them; returns each step's output."""
    script = "set -e\n" + "".join(f"printf '\\n%s\\n' {shlex.quote(MARK + step)}\n{step}\n" for step in steps)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_") and k != "VIRTUAL_ENV"}
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=clone,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    outputs = {}
    for chunk in done.stdout.split("\n" + MARK)[1:]:
        step, _, output = chunk.partition("\n")
        outputs[step] = output
    assert done.returncode == 0, done.stdout[-4000:]
    assert list(outputs) == steps, done.stdout[-4000:]
    return outputs


def output_of(outputs: dict[str, str], command: str) -> str:
    (found,) = [out for step, out in outputs.items() if step.split("#")[0].strip() == command]
    return found


def json_port(path: Path) -> int:
    return int(json.loads(path.read_text(encoding="utf-8"))["port"])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_try_it_yourself_as_written(clone: Path) -> None:
    steps = readme_steps()
    config = "intake --config var/demo/config.toml"
    assert steps[0].startswith("bash scripts/demo.sh --keep") and steps[-1].startswith("bash scripts/demo.sh --stop")
    assert "source .venv/bin/activate" in steps[1]
    assert any(step.startswith("export INTAKE_DEMO_PASSWORD=") for step in steps)

    outputs = run_steps(clone, steps)

    demo = output_of(outputs, "bash scripts/demo.sh --keep")
    assert "keep running" in demo and "an earlier demo" not in demo
    assert "Subject: 回复：西宁市总工会线下活动汇总（已收到）" in demo  # the replies, decoded
    messages = output_of(outputs, f"{config} messages")
    assert re.search(r"^\s*1\s+accepted\s+offline-activity\s+xnzgh@163\.com", messages, re.M), messages
    assert re.search(r"^\s*2\s+rejected\s+offline-activity\s+hnzzgh@126\.com", messages, re.M), messages
    assert "rejection sent to hnzzgh@126.com" in output_of(outputs, f"{config} show 2")
    reply = output_of(outputs, "python -m devservers.showmail var/demo/outbox/0002.eml")
    assert "Subject: 回复：线下活动图片（未通过，请修改后重新发送）" in reply
    assert "To: hnzzgh@126.com" in reply
    assert "1. 邮件标题“线下活动图片”不符合格式“单位+线下活动汇总”" in reply
    appended = "python -m devservers.dovecot append --dir var/demo/dovecot --user wxb0626 var/demo/resubmission.eml"
    assert output_of(outputs, appended).startswith("UID 7: var/demo/resubmission.eml")
    polled = output_of(outputs, f"{config} poll --once")
    assert "offline-activity: fetched 1: accepted 1" in polled and "replies: sent 1," in polled
    digest = (clone / "var/demo/digest.txt").read_text(encoding="utf-8")
    assert "2020年8月20日（已过" in digest  # the campaign's deadline, not 20 August of this year
    stopped = output_of(outputs, "bash scripts/demo.sh --stop")
    assert "stopped the SMTP capture server" in stopped and "stopped Dovecot" in stopped

    # Then both servers are really gone
    for state in ("dovecot.json", "smtpsink.json"):
        assert not listening(json_port(clone / "var/demo" / state)), state

    # and a second demo keeps what was done: the earlier folder is moved aside, and the demo says so
    again = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=clone,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    moved = re.search(r"an earlier demo was in var/demo/: moved to (var/demo\.previous-\d{8}T\d{6}Z\S*)", again.stdout)
    assert moved, again.stdout[:2000]
    kept = clone / moved.group(1)
    assert (kept / "digest.txt").read_text(encoding="utf-8") == digest
    assert len(list((kept / "outbox").glob("*.eml"))) == 5
    assert len(list((clone / "var/demo/outbox").glob("*.eml"))) == 4
    assert "the servers are being stopped" in again.stdout
