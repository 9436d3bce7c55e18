"""`intake rerun --no-send`: the verdict is recorded again, its new reply is kept for the hosts and never sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from devservers import samples
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from store.enums import MessageStatus
from store.models import Message


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_rerun_no_send_records_the_verdict_and_holds_the_reply(
    tmp_path: Path, settings_path: Path, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    # Given a report whose judging failed (an admin's template override with a mistake in it)
    override = tmp_path / "templates" / "acknowledgement"
    override.mkdir(parents=True)
    (override / "body.txt").write_text("{{ no_such_value.attribute }}", encoding="utf-8")
    text = settings_path.read_text(encoding="utf-8")
    settings_path.write_text(text + '\n[replies]\ntemplates_dir = "templates"\n', encoding="utf-8")
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    app = App.build(load(settings_path))
    app.poll()
    (msg_id,) = app.failed_ids()
    app.engine.dispose()
    (override / "body.txt").unlink()
    # When the admin judges it again without sending
    code, out = _run(settings_path, "rerun", "--no-send", str(msg_id))
    # Then the verdict is recorded, the reply is kept as suppressed with the reason, and nothing goes out
    assert code == 0, out
    assert f"{msg_id}: accepted" in out
    assert "replies: none sent (--no-send: a new reply is kept as suppressed)" in out
    code, shown = _run(settings_path, "show", str(msg_id))
    assert "acknowledgement suppressed to xnzgh@163.com" in shown
    assert "未发送：管理员重新判定时选择不发送（intake rerun --no-send）" in shown
    # and a later rerun or poll never sends it: the verdict has its reply row
    code, out = _run(settings_path, "rerun", str(msg_id))
    assert code == 0 and "replies: sent 0" in out
    code, out = _run(settings_path, "poll", "--once")
    assert "replies: sent 0" in out
    assert smtp.messages == []
    app = App.build(load(settings_path))
    with app.sessions() as session:
        msg = session.get(Message, msg_id)
        assert msg is not None and msg.status is MessageStatus.ACCEPTED and len(msg.replies) == 1
    app.engine.dispose()


def test_rerun_help_names_no_send(settings_path: Path) -> None:
    code, out = _run(settings_path, "rerun", "--help")
    assert code == 0
    assert "--no-send" in out and "never send its reply" in out.replace("\n", " ").replace("  ", " ")
