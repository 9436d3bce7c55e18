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


PHOTO_UNITS = (
    "西宁市总工会",
    "海南州总工会",
    "黄南州总工会",
    "省能源化工机冶工会",
    "省教科文卫体工会",
    "国网青海省电力公司工会",
)


def eml(*files: Path, subject: str, body: str = "作品说明：拍摄于2020年6月，反映一线职工风采。", sender: str) -> bytes:
    from email.message import EmailMessage
    from email.utils import make_msgid

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "works@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="163.com")
    msg["Date"] = "Thu, 18 Jun 2020 10:00:00 +0800"
    msg.set_content(body)
    for path in files:
        msg.add_attachment(path.read_bytes(), maintype="application", subtype="octet-stream", filename=path.name)
    return msg.as_bytes()


def populate(app: object, tmp_path: Path, *, video_seconds: float = 20) -> dict[str, int]:
    """Six accepted photography works, one rejected (too small), a rejected 20-second micro-video, a report.

    Returns the message ids by name: photo1..photo6, small, video, report."""
    import mediafactory as mf

    from intake.app import App

    assert isinstance(app, App)
    ids: dict[str, int] = {}
    folder = tmp_path / "mail"
    folder.mkdir()

    def put(name: str, mailbox: str, raw: bytes) -> None:
        path = folder / f"{name}.eml"
        path.write_bytes(raw)
        msg_id, _ = app.import_file(mailbox=mailbox, path=path)
        assert msg_id is not None
        ids[name] = msg_id

    for i, unit in enumerate(PHOTO_UNITS, start=1):
        photo = mf.make_jpeg(tmp_path, name=f"光影{i}.jpg", size=(2000, 1500))
        files = [photo]
        if i == 1:
            files.append(mf.make_docx(tmp_path, name="作品说明.docx", text="拍摄说明"))
        put(f"photo{i}", "photos", eml(*files, subject=f"{unit}《光影{i}》", sender=f"unit{i}@163.com"))
    small = mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600))
    put("small", "photos", eml(small, subject="青海省建设工会《工地清晨》", sender="jsgh@163.com"))
    video = mf.make_video(tmp_path, name="战疫.mp4", seconds=video_seconds, width=1280, height=720)
    put("video", "videos", eml(video, subject="西宁市总工会《战疫路上》", sender="xnzgh@163.com"))
    photo = mf.make_jpeg(tmp_path, name="活动.jpg", size=(1600, 1200))
    put(
        "report",
        "reports",
        eml(
            photo,
            subject="西宁市总工会线下活动汇总",
            body="六月在西宁开展线下活动3场，职工踊跃参加。",
            sender="xnzgh@163.com",
        ),
    )
    return ids


def attachment_ids(app: object, message_id: int) -> list[int]:
    from sqlalchemy import select

    from intake.app import App
    from store.models import Attachment

    assert isinstance(app, App)
    with app.sessions() as session:
        return list(
            session.scalars(
                select(Attachment.id).where(Attachment.message_id == message_id).order_by(Attachment.position)
            )
        )
