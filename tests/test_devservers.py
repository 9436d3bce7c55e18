"""The development servers really serve: Dovecot over IMAP and IMAPS, the SMTP sink, the sample mail."""

from __future__ import annotations

import email
import json
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink

USER = "wxb0626"
PASSWORD = "client-auth-code-123"  # NetEase: the client authorization code, not the web password


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    server = Dovecot.start(base_dir=tmp_path_factory.mktemp("dovecot"), users={USER: PASSWORD})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    server = SmtpSink.start(spool_dir=tmp_path_factory.mktemp("outbox"))
    yield server
    server.stop()


@pytest.mark.servers
def test_client_sends_id_selects_inbox_and_fetches_an_appended_message(dovecot: Dovecot) -> None:
    # Given a report appended to the INBOX
    raw = samples.offline_report(photos=2)
    uid = dovecot.append(USER, raw)

    # When a client logs in, identifies itself and selects the INBOX
    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client:
        client.login(USER, PASSWORD)
        client.id_({"name": "mailbox-intake", "version": "test"})
        selected = client.select_folder("INBOX", readonly=True)
        fetched = client.fetch([uid], ["BODY.PEEK[]"])

    # Then it sees the message byte for byte, and Dovecot logged the ID
    assert selected[b"EXISTS"] >= 1
    assert fetched[uid][b"BODY[]"] == raw
    assert "ID sent: name=mailbox-intake, version=test" in dovecot.log_text()


@pytest.mark.servers
def test_coremail_profile_advertises_no_idle_move_or_condstore(dovecot: Dovecot) -> None:
    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client:
        client.login(USER, PASSWORD)
        capabilities = set(client.capabilities())
        folders = {name for _flags, _sep, name in client.list_folders()}

    assert {b"ID", b"UIDPLUS", b"IMAP4REV1"} <= capabilities
    assert not {b"IDLE", b"MOVE", b"CONDSTORE"} & capabilities
    assert {"INBOX", "已发送", "已删除"} <= folders


@pytest.mark.servers
def test_imaps_with_the_instance_certificate(dovecot: Dovecot) -> None:
    context = dovecot.ssl_context()
    assert context.verify_mode.name == "CERT_REQUIRED"
    with IMAPClient(dovecot.host, port=dovecot.ssl_port, ssl=True, ssl_context=context) as client:
        client.login(USER, PASSWORD)
        assert client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"] > 0
    assert dovecot.cafile.is_file()


@pytest.mark.servers
def test_append_many_returns_consecutive_uids(dovecot: Dovecot) -> None:
    raws = [samples.no_photo(client=client) for client in samples.CLIENTS] * 30  # 120: two MULTIAPPENDs

    uids = dovecot.append_many(USER, raws)

    assert len(uids) == 120
    assert uids == list(range(uids[0], uids[0] + 120))


@pytest.mark.servers
def test_added_user_can_log_in_at_once(dovecot: Dovecot) -> None:
    dovecot.add_user("fengxingzixk", "another-code")

    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client:
        client.login("fengxingzixk", "another-code")
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.servers
def test_a_second_instance_runs_beside_the_first_below_a_private_folder(
    dovecot: Dovecot, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given a folder that only root may enter (as pytest makes them, and resets them at any time)
    private = tmp_path_factory.mktemp("private")
    private.chmod(0o700)

    # When a second instance with the full Dovecot capabilities runs below it
    with Dovecot.start(base_dir=private / "dovecot", users={"u": "p"}, profile="dovecot") as other:
        uid = other.append("u", samples.list_message())
        with IMAPClient(other.host, port=other.port, ssl=False) as client:
            client.login("u", "p")
            capabilities = set(client.capabilities())
            client.select_folder("INBOX")
            fetched = client.fetch([uid], ["RFC822.SIZE"])

    # Then it serves mail, on ports of its own, and stops without touching the first one
    assert {b"IDLE", b"MOVE"} <= capabilities
    assert fetched[uid][b"RFC822.SIZE"] > 0
    assert {other.port, other.ssl_port}.isdisjoint({dovecot.port, dovecot.ssl_port})
    assert other.pid() is None
    assert dovecot.pid() is not None
    assert private.stat().st_mode & 0o777 == 0o700


@pytest.mark.servers
def test_dovecot_cli_starts_and_stops_a_daemon(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "devservers.dovecot"]
    started = subprocess.run(
        [*command, "start", "--dir", str(tmp_path), "--user", f"{USER}:{PASSWORD}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    state = json.loads(started.stdout)
    assert state == json.loads((tmp_path / "state.json").read_text())
    assert set(state) >= {"host", "port", "ssl_port", "cafile", "conf"}
    server = Dovecot.attach(base_dir=tmp_path)
    try:
        assert server.append(USER, samples.auto_reply()) == 1
    finally:
        subprocess.run([*command, "stop", "--dir", str(tmp_path)], check=True, timeout=60)
    assert server.pid() is None


@pytest.mark.servers
def test_sink_captures_a_message_sent_with_smtplib(sink: SmtpSink) -> None:
    # Given a reply as the service would send it
    message = EmailMessage()
    message["From"] = "wxb0626@126.com"
    message["To"] = "西宁市总工会 <xnzgh@163.com>"
    message["Subject"] = "已收到：西宁市总工会线下活动汇总"
    message.set_content("您好，材料已收到。")
    before = len(sink.messages)

    # When it is sent over plain SMTP
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.send_message(message, to_addrs=["xnzgh@163.com", "copy@163.com"])

    # Then the sink has it in memory and on disk, bytes as received
    captured = sink.wait_for(before + 1, timeout=10)[-1]
    assert captured.mail_from == "wxb0626@126.com"
    assert captured.rcpt_tos == ("xnzgh@163.com", "copy@163.com")
    assert captured.message()["Subject"] == "已收到：西宁市总工会线下活动汇总"
    assert captured.message().get_content().strip() == "您好，材料已收到。"
    assert sink.spool_dir is not None
    number = f"{before + 1:04d}"
    assert (sink.spool_dir / f"{number}.eml").read_bytes() == captured.data
    envelope = json.loads((sink.spool_dir / f"{number}.json").read_text(encoding="utf-8"))
    assert envelope == {"mail_from": "wxb0626@126.com", "rcpt_tos": ["xnzgh@163.com", "copy@163.com"]}


@pytest.mark.servers
def test_sink_wait_for_times_out(sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError):
        sink.wait_for(len(sink.messages) + 1, timeout=0.2)


@pytest.mark.servers
def test_sink_cli_prints_its_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devservers.smtpsink", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = json.loads(process.stdout.readline())["port"]
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("a@example.org", ["b@example.org"], b"Subject: hi\r\n\r\nhello\r\n")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
    assert (tmp_path / "0001.eml").read_bytes() == b"Subject: hi\r\n\r\nhello\r\n"


@pytest.mark.parametrize("client", samples.CLIENTS)
def test_reports_parse_cleanly_with_distinct_photos(client: samples.Client) -> None:
    raw = samples.offline_report(client=client, photos=3)

    message = email.message_from_bytes(raw, policy=policy.default)
    photos = [part.get_content() for part in message.iter_attachments()]

    assert not message.defects
    assert "西宁市总工会线下活动汇总" in str(message["Subject"])
    assert len(photos) == 3
    assert len(set(photos)) == 3
    assert all(photo[:3] == b"\xff\xd8\xff" and 1_000 < len(photo) < 20_000 for photo in photos)
    assert message["Message-ID"] and message["Date"]


def test_foxmail_labels_gb18030_bytes_gb2312() -> None:
    raw = samples.offline_report(unit="西宁市总工会", client="foxmail")

    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")

    assert "X-Mailer: Foxmail 7.2.19.158[cn]" in head
    assert "Subject: =?gb2312?B?" in head
    # The text names 许堃: 堃 exists in GB18030 but not in GB2312.
    message = email.message_from_bytes(raw, policy=policy.default)
    text = message.get_body(("plain",))
    assert text is not None
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "许堃" in payload.decode("gb18030")


def test_mail_that_must_get_no_reply_says_so() -> None:
    auto = email.message_from_bytes(samples.auto_reply(), policy=policy.default)
    dsn = email.message_from_bytes(samples.bounce(), policy=policy.default)
    listed = email.message_from_bytes(samples.list_message(), policy=policy.default)

    assert auto["Auto-Submitted"] == "auto-replied"
    assert str(auto["Subject"]).startswith("自动回复: ")
    assert dsn.get_content_type() == "multipart/report"
    assert dsn["Return-Path"] == "<>"
    assert "MAILER-DAEMON" in str(dsn["From"])
    assert listed["List-Id"] and listed["Precedence"] == "list"
    ids = {m["Message-ID"] for m in (auto, dsn, listed)}
    assert len(ids) == 3
