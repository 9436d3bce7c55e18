"""The `intake` command as scripts and admins use it, against the real servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from wcwidth import wcwidth

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.cli import cli

pytestmark = pytest.mark.servers


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_poll_then_messages_json(settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink) -> None:
    deliver(samples.offline_report(unit="西宁市总工会", photos=1, sender="xnzgh@163.com"))
    deliver(samples.no_photo(unit="海南州总工会", sender="hnz@126.com"))
    deliver(samples.auto_reply())
    code, out = _run(settings_path, "poll", "--once")
    assert code == 0, out
    assert "reports: fetched 3: accepted 1, ignored 1, rejected 1" in out
    assert "replies: sent 2" in out
    code, out = _run(settings_path, "messages", "--json")
    assert code == 0
    data = json.loads(out)
    assert [m["status"] for m in data] == ["accepted", "rejected", "ignored"]
    good = data[0]
    assert set(good) >= {
        "id",
        "mailbox",
        "message_id",
        "sender",
        "subject",
        "unit",
        "status",
        "reasons",
        "attachments",
        "large_attachment_links",
        "reply",
    }
    assert good["unit"] == "西宁市总工会" and good["subject"] == "西宁市总工会线下活动汇总"
    assert good["reply"] == {"kind": "acknowledgement", "status": "sent"}
    (photo,) = good["attachments"]
    assert photo["kind"] == "photo" and photo["valid"] is True and len(photo["sha256"]) == 64
    assert set(photo) >= {"filename", "sha256", "size", "kind", "valid", "problems"}
    assert data[1]["reasons"] == ["邮件中没有活动照片"] and data[1]["unit"] == "海南州总工会"
    assert data[2]["reply"] is None
    code, out = _run(settings_path, "messages", "--status", "rejected")
    assert "hnz@126.com" in out and "邮件中没有活动照片" in out and "xnzgh" not in out
    code, out = _run(settings_path, "show", str(good["id"]))
    assert "JPEG" in out and "acknowledgement sent to xnzgh@163.com" in out
    # the reply the unit got, as it reads it
    assert "本邮件已登记为线下活动汇总的报送材料" in out and "| 西宁市总工会：" in out
    code, out = _run(settings_path, "show", str(data[1]["id"]))
    assert "rejection sent to hnz@126.com" in out and "修改方法：" in out
    # an auto-reply names no unit: the fields it did not give are said in words, never `None`
    code, out = _run(settings_path, "show", str(data[2]["id"]))
    assert code == 0 and "          unit: (not read)" in out and " failure_stage: (none)" in out
    assert ": None" not in out


def test_import_is_idempotent(settings_path: Path, tmp_path: Path, smtp: SmtpSink) -> None:
    eml = tmp_path / "report.eml"
    eml.write_bytes(samples.offline_report(unit="黄南州总工会", sender="hn@126.com"))
    code, out = _run(settings_path, "import", "--mailbox", "reports", str(eml))
    assert code == 0 and "accepted" in out
    code, out = _run(settings_path, "import", "--mailbox", "reports", str(eml))
    assert "already imported" in out
    assert len(smtp.wait_for(1)) == 1
    code, out = _run(settings_path, "import", "--mailbox", "nope", str(eml))
    assert code == 1 and "no mailbox named 'nope'" in out


def test_errors_are_explained(settings_path: Path, tmp_path: Path) -> None:
    code, out = _run(settings_path, "show", "999")
    assert code == 1 and "no message with id 999" in out
    code, out = _run(settings_path, "rerun")
    assert code == 1 and "name message ids or use --failed" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        settings_path.read_text(encoding="utf-8").replace('kind = "offline-activity"', 'kind = "x"'), encoding="utf-8"
    )
    code, out = _run(bad, "check")
    assert code == 1 and "mailboxes[0].kind: must be one of" in out


def test_check_reports_missing_secret(settings_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(settings_path, "check")
    assert code == 0 and out.rstrip().endswith("ok")
    monkeypatch.delenv("INTAKE_TEST_IMAP_PASSWORD")
    code, out = _run(settings_path, "check")
    assert code == 1 and "INTAKE_TEST_IMAP_PASSWORD is not set" in out


def test_digest_preview_and_send_once(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink, tmp_path: Path
) -> None:
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    _run(settings_path, "poll", "--once")
    smtp.clear()
    out_file = tmp_path / "digest.eml"
    code, out = _run(settings_path, "digest", "--preview", str(out_file), "--date", "2020-06-01")
    assert code == 0
    assert b"Auto-Submitted: auto-generated" in out_file.read_bytes()
    code, out = _run(settings_path, "digest", "--send", "--date", "2020-06-01")
    assert "sent to hosts@example.org" in out
    code, out = _run(settings_path, "digest", "--send", "--date", "2020-06-01")
    assert "already sent" in out
    (captured,) = smtp.wait_for(1)
    assert list(captured.rcpt_tos) == ["hosts@example.org"]
    text = captured.message().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "西宁市总工会：1/10" in text


def test_console_script_help() -> None:
    result = subprocess.run([sys.executable, "-m", "intake", "--help"], capture_output=True, text=True, check=True)
    for command in ("check", "db", "poll", "run", "messages", "show", "rerun", "import", "digest"):
        assert command in result.stdout


def test_messages_table_lines_up_chinese_text(
    settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    # Given messages whose units and subjects mix Chinese and Latin text of different lengths
    deliver(samples.offline_report(unit="西宁市总工会", photos=1, sender="xnzgh@163.com"))
    deliver(samples.offline_report(unit="中国铁路青藏集团有限公司工会", photos=2, sender="qzjt@qq.com"))
    deliver(samples.wrong_subject(unit="海南州总工会", sender="a@126.com"))
    assert _run(settings_path, "poll", "--once")[0] == 0
    # When an admin lists them
    code, out = _run(settings_path, "messages")
    assert code == 0, out
    rows = [line for line in out.splitlines() if not line.startswith("      - ")]
    assert rows[0].split() == ["id", "status", "mailbox", "sender", "unit", "files", "reply", "subject"]

    # Then every column starts at the same terminal column on every line (CJK characters are two wide)
    def starts(line: str) -> list[int]:
        columns, shown, previous = [], 0, " "
        for ch in line:
            if previous == " " and ch != " ":
                columns.append(shown)
            shown += max(wcwidth(ch), 0)
            previous = ch
        return columns

    header = starts(rows[0])
    for line in rows[1:]:
        assert starts(line)[: len(header) - 1] == header[:-1], line


def test_version() -> None:
    code, out = _run(Path("/nonexistent.toml"), "--version")
    assert code == 0 and out.startswith("intake ") and out.split()[1][0].isdigit()
