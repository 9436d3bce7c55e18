"""`python -m devservers.showmail` prints captured mail as its reader sees it, whatever its encodings."""

from __future__ import annotations

import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from devservers import samples
from devservers.showmail import render

ROOT = Path(__file__).resolve().parents[1]


def test_a_foxmail_report_is_shown_decoded() -> None:
    # Foxmail: GB18030 bytes labelled gb2312, base64 body, encoded-word subject and file names
    raw = samples.offline_report(unit="西宁市总工会", photos=2, description="开展线下活动3场，许堃")
    assert "西宁市总工会".encode() not in raw and "许堃".encode("gb18030") not in raw  # nothing readable as is
    shown = render(raw)
    assert "Subject: 西宁市总工会线下活动汇总\n" in shown
    assert "From: 西宁市总工会 <xnzgh@163.com>\n" in shown
    assert "\n开展线下活动3场，许堃\n" in shown
    (attachments,) = [line for line in shown.splitlines() if line.startswith("Attachments: ")]
    assert attachments.count(".jpg") == 2


def test_html_only_mail_says_so() -> None:
    message = EmailMessage()
    message["Subject"] = "回复：仅有网页版"
    message.set_content("<p>你好</p>", subtype="html")
    shown = render(message.as_bytes())
    assert "Subject: 回复：仅有网页版\n" in shown and "(no plain-text part)" in shown


def test_the_command_shows_each_file_with_its_envelope(tmp_path: Path) -> None:
    reply = EmailMessage()
    reply["From"] = "wxb0626@126.com"
    reply["To"] = "hnzzgh@126.com"
    reply["Subject"] = "回复：线下活动图片（未通过，请修改后重新发送）"
    reply.set_content("邮件标题“线下活动图片”不符合格式“单位+线下活动汇总”", cte="base64")
    (tmp_path / "0001.eml").write_bytes(reply.as_bytes())
    (tmp_path / "0001.json").write_text(json.dumps({"rcpt_tos": ["hnzzgh@126.com"]}), encoding="utf-8")
    shown = subprocess.run(
        [sys.executable, "-m", "devservers.showmail", str(tmp_path / "0001.eml"), str(tmp_path / "0002.eml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 1  # the second file is missing
    assert f"cannot read {tmp_path / '0002.eml'}: No such file or directory" in shown.stderr
    assert shown.stdout.startswith(f"==> {tmp_path / '0001.eml'} <==\nEnvelope-To: hnzzgh@126.com\n")
    assert "Subject: 回复：线下活动图片（未通过，请修改后重新发送）\n" in shown.stdout
    assert "\n邮件标题“线下活动图片”不符合格式“单位+线下活动汇总”\n" in shown.stdout
