"""A micro-film of 100 MiB arrives whole: through IMAP and through `intake import`, stored byte for byte.

The video is a real MP4 (three minutes, 16:9, with sound) grown to 100 MiB by a `free` box, which
players skip; the message that carries it is about 135 MiB. It is fetched in pieces, parsed from
its file and decoded into the blob store, and the stored file has the sha256 of the one sent.
A file above the mailbox's size limit is refused on import as it is on a poll, without being read.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import mediafactory as mf
import pytest
from click.testing import CliRunner
from conftest import ConfigFile

from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.cli import cli
from intake.config import load
from store import queries
from store.enums import MessageStatus

pytestmark = [pytest.mark.servers, pytest.mark.slow]

MIB = 1024 * 1024
TITLE = "战疫路上的劳动者"
BIG_MAILBOX = {'kind = "offline-activity"': 'kind = "micro-film"'}


def _big_video(tmp_path: Path, size: int) -> Path:
    """A real MP4 followed by a `free` box of random bytes, size bytes in all."""
    video = mf.make_video(tmp_path, name=f"{TITLE}.mp4", seconds=600, width=1280, height=720)
    data = video.read_bytes()
    pad = size - len(data)
    with video.open("ab") as out:
        out.write(struct.pack(">I4s", pad, b"free"))
        left = pad - 8
        while left:
            piece = os.urandom(min(left, 8 * MIB))
            out.write(piece)
            left -= len(piece)
    return video


def _message(video: Path) -> bytes:
    msg = EmailMessage()
    msg["From"] = "xnzgh@163.com"
    msg["To"] = "films@example.org"
    msg["Subject"] = f"西宁市总工会《{TITLE}》"
    msg["Message-ID"] = make_msgid(domain="163.com")
    msg["Date"] = "Thu, 18 Jun 2020 10:00:00 +0800"
    msg.set_content("现报送我单位职工创作的微电影，请查收。")
    msg.add_attachment(video.read_bytes(), maintype="video", subtype="mp4", filename=video.name)
    return msg.as_bytes(policy=policy.SMTP)  # CR LF, as the server keeps it


def _stored_video(app: App) -> tuple[MessageStatus, str, str, int]:
    """The verdict, the raw message's sha256, and the stored video's sha256 (recomputed from its file) and size."""
    with app.sessions() as session:
        (msg,) = queries.messages(session)
        (film,) = [a for a in msg.attachments if a.filename == f"{TITLE}.mp4"]
        with app.blobs.path(film.sha256).open("rb") as fh:
            on_disk = hashlib.file_digest(fh, "sha256").hexdigest()
        assert on_disk == film.sha256
        return msg.status, msg.raw_sha256 or "", film.sha256, film.size


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path, str]:
    """The 100 MiB video and its sha256, and the message carrying it (written to a file) and its sha256."""
    tmp = tmp_path_factory.mktemp("film")
    video = _big_video(tmp, 100 * MIB)
    raw = _message(video)
    eml = tmp / "film.eml"
    eml.write_bytes(raw)
    return video, hashlib.sha256(video.read_bytes()).hexdigest(), eml, hashlib.sha256(raw).hexdigest()


def test_a_100_mib_video_through_imap_is_stored_byte_identical(
    config_file: ConfigFile, deliver: Callable[[bytes], int], smtp: SmtpSink, film: tuple[Path, str, Path, str]
) -> None:
    _, video_sha, eml, raw_sha = film
    deliver(eml.read_bytes())
    app = App.build(load(config_file(replace=BIG_MAILBOX, mailbox="max_message_bytes = 209715200")))
    try:
        (report,) = app.poll()
        assert report.error is None and report.fetched == 1
        status, stored_raw, stored_video, size = _stored_video(app)
        assert (status, stored_raw, stored_video, size) == (MessageStatus.ACCEPTED, raw_sha, video_sha, 100 * MIB)
        app.send_replies()
        (reply,) = smtp.wait_for(1)
        assert "已收到" in str(reply.message().get_body(("plain",)).get_content())  # type: ignore[union-attr]
    finally:
        app.close()


def test_a_100_mib_video_through_import_is_stored_byte_identical(
    config_file: ConfigFile, film: tuple[Path, str, Path, str]
) -> None:
    _, video_sha, eml, raw_sha = film
    config = config_file(replace=BIG_MAILBOX, mailbox="max_message_bytes = 209715200")
    result = CliRunner().invoke(cli, ["--config", str(config), "import", "--no-send", "--mailbox", "reports", str(eml)])
    assert result.exit_code == 0, result.output
    assert "accepted 1" in result.output
    app = App.build(load(config))
    try:
        assert _stored_video(app) == (MessageStatus.ACCEPTED, raw_sha, video_sha, 100 * MIB)
    finally:
        app.close()


def test_an_import_above_the_size_limit_is_refused_without_reading_it(
    config_file: ConfigFile, film: tuple[Path, str, Path, str]
) -> None:
    _, _, eml, _ = film
    config = config_file(replace=BIG_MAILBOX, mailbox="max_message_bytes = 62914560")
    result = CliRunner().invoke(cli, ["--config", str(config), "import", "--no-send", "--mailbox", "reports", str(eml)])
    assert result.exit_code == 0, result.output
    app = App.build(load(config))
    try:
        with app.sessions() as session:
            (msg,) = queries.messages(session)
            assert msg.status is MessageStatus.REJECTED and msg.oversize
            assert msg.raw_size == eml.stat().st_size
            assert any("超过本邮箱的上限 60 MB" in r for r in msg.reasons), msg.reasons
            assert msg.subject == f"西宁市总工会《{TITLE}》"  # the header was kept: who sent what
            assert app.blobs.path(msg.raw_sha256 or "").stat().st_size < 4096  # only the header
    finally:
        app.close()
