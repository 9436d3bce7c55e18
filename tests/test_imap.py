"""The IMAP seam against the real Dovecot: ID before SELECT, no debug formatting, PEEK only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from campaign.settings import Settings
from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from ingest.fetch.imap import ImapSession
from intake.app import App
from store import queries
from store.enums import MessageStatus

pytestmark = pytest.mark.servers


def test_session_sends_id_and_keeps_imaplib_debug_off(
    settings: Settings, dovecot: Dovecot, deliver: Callable[[bytes], int]
) -> None:
    uid = deliver(samples.offline_report())
    box = settings.mailboxes[0]
    with ImapSession(settings=box) as imap:
        assert imap.client is not None
        assert imap.client._imap.debug == 0
        assert b"IDLE" not in imap.client.capabilities()  # the Coremail-like profile
        assert imap.uids_after(0) == [uid]
        assert imap.uids_after(uid) == []  # `UID n:*` answers the last message; it is filtered out
        assert imap.fetch([uid])[uid].startswith(b"")
        assert imap.client._imap.debug == 0
    assert 'name="mailbox-intake"' in dovecot.log_text() or "mailbox-intake" in dovecot.log_text()


def test_oversize_message_is_not_downloaded_and_sender_told_once(
    settings_path: object, dovecot: Dovecot, deliver: Callable[[bytes], int], smtp: SmtpSink
) -> None:
    from pathlib import Path

    from intake.config import load

    path = Path(str(settings_path))
    path.write_text(
        path.read_text(encoding="utf-8").replace("poll_seconds = 60", "poll_seconds = 60\nmax_message_bytes = 20000"),
        encoding="utf-8",
    )
    deliver(samples.offline_report(unit="西宁市总工会", sender="big@163.com", photos=8))
    app = App.build(load(path))
    app.poll()
    app.send_replies()
    app.poll()
    app.send_replies()
    with app.sessions() as session:
        (msg,) = queries.messages(session)
    app.engine.dispose()
    assert msg.oversize and msg.status is MessageStatus.REJECTED
    assert msg.unit == "西宁市总工会"
    assert msg.reasons[0].startswith("邮件大小") and "超过本邮箱的上限" in msg.reasons[0]
    assert msg.attachments == []
    assert len(smtp.wait_for(1)) == 1 and len(smtp.messages) == 1


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_connections_verify_the_server(
    settings_path: object, dovecot: Dovecot, deliver: Callable[[bytes], int], security: str
) -> None:
    from pathlib import Path

    from intake.config import load

    path = Path(str(settings_path))
    port = dovecot.ssl_port if security == "ssl" else dovecot.port
    text = path.read_text(encoding="utf-8").replace(
        f'port = {dovecot.port}\nsecurity = "none"',
        f'port = {port}\nsecurity = "{security}"\ncafile = "{dovecot.cafile}"',
    )
    path.write_text(text, encoding="utf-8")
    deliver(samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com"))
    app = App.build(load(path))
    (report,) = app.poll()
    app.engine.dispose()
    assert report.fetched == 1 and report.statuses == {"accepted": 1}
    # without the CA the certificate is refused, and the error is recorded for the digest
    path.write_text(text.replace(f'cafile = "{dovecot.cafile}"', ""), encoding="utf-8")
    app = App.build(load(path))
    (failed,) = app.poll()
    assert failed.error is not None and "CERTIFICATE_VERIFY_FAILED" in failed.error
    from store.models import MailboxState

    with app.sessions() as session:
        state = session.get(MailboxState, "reports")
        assert state is not None and state.last_error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in state.last_error
    app.engine.dispose()
