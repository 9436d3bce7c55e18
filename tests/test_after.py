"""After processing, per mailbox: leave the message, flag it \\Seen, or move it; only once its outcome is
committed (a message that failed stays where it is until it is judged)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load
from tests.conftest import write_config

pytestmark = pytest.mark.servers


def _config(tmp_path: Path, db_url: str, server: Dovecot, smtp: SmtpSink, user: str, after: str) -> Path:
    config = write_config(tmp_path / "config.toml", db_url=db_url, dovecot=server, smtp=smtp, user=user)
    config.write_text(
        config.read_text(encoding="utf-8").replace("poll_seconds = 60", f"poll_seconds = 60\n{after}"),
        encoding="utf-8",
    )
    return config


def _folder(server: Dovecot, user: str, folder: str) -> dict[int, tuple[bytes, ...]]:
    """UID -> flags of the messages in folder."""
    client = server.client(user)
    try:
        client.select_folder(folder, readonly=True)
        return {int(uid): tuple(flags) for uid, flags in client.get_flags(client.search(["ALL"])).items()}
    finally:
        client.logout()


def test_seen_flags_each_judged_message(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
    config = _config(tmp_path, db_url, dovecot, smtp, imap_user[0], 'after = "seen"')
    dovecot.append(imap_user[0], samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
    dovecot.append(imap_user[0], samples.no_photo(unit="海南州总工会", sender="hn@163.com"))
    app = App.build(load(config))
    try:
        (report,) = app.poll()
    finally:
        app.close()
    assert report.statuses == {"accepted": 1, "rejected": 1}
    flags = _folder(dovecot, imap_user[0], "INBOX")
    assert len(flags) == 2 and all(b"\\Seen" in f for f in flags.values())


def test_move_without_move_capability_copies_deletes_and_expunges_after_the_outcome(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    smtp: SmtpSink,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Coremail-like server (no MOVE), a report whose acknowledgement cannot be written (a broken
    # template: it fails) and a report that is rejected
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
    config = _config(tmp_path, db_url, dovecot, smtp, imap_user[0], 'after = "move"\nmove_to = "Done"')
    override = tmp_path / "templates" / "acknowledgement"
    override.mkdir(parents=True)
    (override / "body.txt").write_text("{{ no_such_value.attribute }}", encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8") + '\n[replies]\ntemplates_dir = "templates"\n')
    good = dovecot.append(imap_user[0], samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
    dovecot.append(imap_user[0], samples.no_photo(unit="海南州总工会", sender="hn@163.com"))
    app = App.build(load(config))
    try:
        (report,) = app.poll()
        assert report.statuses == {"failed": 1, "rejected": 1}
        # Then only the judged one was moved; the failed one waits in the INBOX
        assert list(_folder(dovecot, imap_user[0], "INBOX")) == [good]
        assert len(_folder(dovecot, imap_user[0], "Done")) == 1
        # When the template is mended, the next poll judges it again, and then moves it
        (override / "body.txt").unlink()
        (report,) = app.poll()
        assert report.statuses == {"accepted": 1} and report.resumed == 1
        assert _folder(dovecot, imap_user[0], "INBOX") == {}
        assert len(_folder(dovecot, imap_user[0], "Done")) == 2
    finally:
        app.close()


@pytest.fixture(scope="module")
def standard_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A Dovecot with its own capabilities (MOVE among them)."""
    server = Dovecot.start(
        base_dir=tmp_path_factory.mktemp("standard"), users={"plain": secrets.token_urlsafe(12)}, profile="dovecot"
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_move_uses_move_where_offered(
    tmp_path: Path, db_url: str, standard_dovecot: Dovecot, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = standard_dovecot
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", server.users["plain"])
    client = server.client("plain")
    try:
        assert b"MOVE" in client.capabilities()
    finally:
        client.logout()
    config = _config(tmp_path, db_url, server, smtp, "plain", 'after = "move"\nmove_to = "Done"')
    server.append("plain", samples.offline_report(unit="西宁市总工会", sender="xn@163.com"))
    app = App.build(load(config))
    try:
        (report,) = app.poll()
    finally:
        app.close()
    assert report.statuses == {"accepted": 1}
    assert _folder(server, "plain", "INBOX") == {}
    assert len(_folder(server, "plain", "Done")) == 1
