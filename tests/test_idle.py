"""IMAP IDLE against a real Dovecot: new mail is announced at once where the server offers IDLE
(Dovecot's own profile, like QQ Mail), and left to the scheduled poll where it does not (the
Coremail profile of the shared fixture, like 126/163) or where the mailbox says `idle = false`."""

from __future__ import annotations

import itertools
import logging
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.notice import MailboxKind
from campaign.settings import ConfigError, MailboxSettings, Secret, ServiceSettings
from devservers import samples
from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from ingest.fetch.idle import IdleWatcher, IdleWatchers
from intake.config import load
from store.models import MailboxState
from tests.conftest import ConfigFile, write_config
from tests.processes import FAST, Db, intake, stop, wait_until

pytestmark = [pytest.mark.servers]
PASSWORD_ENV = "INTAKE_TEST_IDLE_PASSWORD"
WAIT = 20.0  # generous: Dovecot announces new mail about half a second after it arrives
_users = itertools.count(0)
EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


@pytest.fixture(scope="module")
def idle_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A Dovecot with its own capabilities, IDLE among them (the shared fixture has Coremail's, without)."""
    users = {f"idle{i}": secrets.token_urlsafe(12) for i in range(10)}
    server = Dovecot.start(base_dir=tmp_path_factory.mktemp("dovecot-idle"), users=users, profile="dovecot")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def idle_user(idle_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"idle{next(_users)}"
    monkeypatch.setenv(PASSWORD_ENV, idle_dovecot.users[name])
    return name


def mailbox(server: Dovecot, user: str, *, env: str = PASSWORD_ENV, security: str = "none") -> MailboxSettings:
    return MailboxSettings(
        name="reports",
        kind=MailboxKind.OFFLINE_ACTIVITY,
        address="wxb0626@126.com",
        host=server.host,
        port=server.ssl_port if security == "ssl" else server.port,
        security=security,
        username=user,
        password=Secret(env=env),
        cafile=server.cafile if security == "ssl" else None,
    )


class Calls:
    """The watcher's callback: counts the calls and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()
        self._guard = threading.Lock()

    def __call__(self, box: MailboxSettings) -> None:
        with self._guard:
            self.count += 1
        self.event.set()

    def reset(self) -> None:
        self.event.clear()

    def wait(self) -> bool:
        return self.event.wait(WAIT)


@pytest.fixture
def watchers() -> Iterator[list[IdleWatcher]]:
    """Watchers a test starts; each is stopped and joined after it, whatever happened."""
    started: list[IdleWatcher] = []
    yield started
    for watcher in started:
        watcher.stop()
    assert all(w.join(10) for w in started), "a watcher did not stop"


def report() -> bytes:
    return samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com")


def idling_on(watcher: IdleWatcher, connections: int) -> bool:
    return watcher.connections >= connections and watcher.idling.is_set()


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_watcher_announces_a_new_message(
    idle_dovecot: Dovecot, idle_user: str, watchers: list[IdleWatcher], security: str
) -> None:
    calls = Calls()
    watcher = IdleWatcher(box=mailbox(idle_dovecot, idle_user, security=security), on_new=calls, timeout=10)
    watchers.append(watcher)
    watcher.start()
    assert calls.wait(), "no catch-up call after connecting"
    wait_until(lambda: idling_on(watcher, 1), timeout=WAIT, what="the watcher in IDLE")
    assert watcher.offered is True
    calls.reset()
    idle_dovecot.append(idle_user, report())
    assert calls.wait(), "the APPENDed message was not announced"


@pytest.mark.slow
def test_watcher_renews_idle_and_comes_back_after_dropped_connections(
    idle_dovecot: Dovecot, idle_user: str, watchers: list[IdleWatcher], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.fetch.idle")
    calls = Calls()
    box = mailbox(idle_dovecot, idle_user)
    watcher = IdleWatcher(
        box=box,
        on_new=calls,
        timeout=10,
        renew_seconds=0.3,  # below the configuration's minimum, to see renewals within the test
        backoff_seconds=0.2,
        backoff_max_seconds=1,
    )
    watchers.append(watcher)
    watcher.start()
    wait_until(lambda: watcher.renewals >= 3, timeout=WAIT, what="IDLE issued again three times")
    assert watcher.connections == 1

    doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/sbin:/usr/bin")
    assert doveadm is not None
    subprocess.run([doveadm, "-c", str(idle_dovecot.conf_path), "kick", idle_user], check=True, capture_output=True)
    wait_until(lambda: idling_on(watcher, 2), timeout=WAIT, what="IDLE again after the server's BYE")

    session = watcher.session  # a silent cut: the socket ends without a BYE
    assert session is not None and session.client is not None
    session.client.socket().shutdown(socket.SHUT_RDWR)
    wait_until(lambda: idling_on(watcher, 3), timeout=WAIT, what="IDLE again after the cut")

    calls.reset()
    idle_dovecot.append(idle_user, report())
    assert calls.wait(), "new mail was not announced after reconnecting"
    broke = [m for m in caplog.messages if m.startswith(f"reports: IDLE on {box.host}:{box.port} failed: ")]
    assert len(broke) == 2, broke
    assert "the server said BYE" in broke[0]
    assert all(r.levelno <= logging.WARNING and "\n" not in r.getMessage() for r in caplog.records)


def test_no_idle_on_coremail_and_with_idle_false(
    dovecot: Dovecot,
    imap_user: tuple[str, str],
    config_file: ConfigFile,
    watchers: list[IdleWatcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.fetch.idle")
    calls = Calls()
    # the shared Dovecot advertises what Coremail (126/163) does: no IDLE; the watcher says so and ends
    watcher = IdleWatcher(box=mailbox(dovecot, imap_user[0], env="INTAKE_TEST_IMAP_PASSWORD"), on_new=calls)
    watchers.append(watcher)
    watcher.start()
    assert watcher.join(WAIT)
    assert watcher.offered is False and calls.count == 0
    assert [r.getMessage() for r in caplog.records] == [
        f"reports: {dovecot.host}:{dovecot.port} offers no IDLE; the mailbox is polled every 300s"
    ]

    # a worker's watchers: one started where the server has none, said once, never started again
    settings = load(config_file())
    managed = IdleWatchers(service=ServiceSettings(), on_new=calls)
    caplog.clear()
    try:
        managed.sync(settings.mailboxes)
        wait_until(lambda: not managed.watching(), timeout=WAIT, what="the watcher ended")
        managed.sync(settings.mailboxes)
        assert managed.watching() == []
        assert len([r for r in caplog.records if "offers no IDLE" in r.getMessage()]) == 1
    finally:
        assert managed.stop_all() == []

    # idle = false: no watcher at all, and the log says so once
    settings = load(config_file(mailbox="idle = false"))
    assert settings.mailboxes[0].idle is False
    managed = IdleWatchers(service=ServiceSettings(), on_new=calls)
    caplog.clear()
    managed.sync(settings.mailboxes)
    managed.sync(settings.mailboxes)
    assert managed.watching() == []
    assert [r.getMessage() for r in caplog.records] == ["reports: idle = false; the mailbox is polled every 60s"]
    assert managed.stop_all() == []
    assert calls.count == 0


def test_watchers_follow_the_mailboxes_held(
    idle_dovecot: Dovecot, idle_user: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.fetch.idle")
    calls = Calls()
    box = mailbox(idle_dovecot, idle_user)
    managed = IdleWatchers(service=ServiceSettings(imap_timeout_seconds=10), on_new=calls)
    try:
        managed.sync([box])  # the mailbox's lock is won
        assert managed.watching() == ["reports"]
        assert calls.wait()
        managed.sync([])  # the lock is lost: the watcher stops
        wait_until(lambda: not managed.watching(), timeout=WAIT, what="the watcher stopped")
        assert "reports: no longer held by this worker; its IDLE is stopped" in caplog.messages
        managed.sync([box])  # taken over again later: watched again
        assert managed.watching() == ["reports"]
    finally:
        assert managed.stop_all() == []
    assert managed.watching() == []


@pytest.mark.slow
def test_service_answers_new_mail_without_waiting_for_the_poll(
    idle_dovecot: Dovecot, idle_user: str, db_url: str, smtp: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", db_url=db_url, dovecot=idle_dovecot, smtp=smtp, user=idle_user)
    text = config.read_text(encoding="utf-8").replace("poll_seconds = 60", "poll_seconds = 3600")
    config.write_text(text.replace('"INTAKE_TEST_IMAP_PASSWORD"', f'"{PASSWORD_ENV}"') + FAST, encoding="utf-8")
    log = tmp_path / "service.log"
    db = Db(config)
    proc = intake(config, "run", log=log)
    try:

        def first_poll_done() -> bool:
            with db.app.sessions() as session:
                state = session.scalar(select(MailboxState).where(MailboxState.mailbox == "reports"))
            return state is not None and state.last_ok_at is not None

        wait_until(
            lambda: "reports: waiting for new mail with IDLE" in log.read_text(encoding="utf-8"),
            timeout=30,
            what="the service's watcher in IDLE",
        )
        wait_until(first_poll_done, timeout=30, what="the first poll")
        idle_dovecot.append(idle_user, report())
        (reply,) = smtp.wait_for(1, timeout=30)  # the poll is an hour away: IDLE made it happen now
    finally:
        code = stop(proc)
        db.close()
    output = log.read_text(encoding="utf-8")
    assert code == 0, output
    assert "intake stopped" in output and "Traceback" not in output
    assert "reports: new mail announced" in output and "reports: fetched 1" in output
    assert reply.message()["To"] == "xnzgh@163.com"


@pytest.mark.parametrize(
    ("mailbox_keys", "message"),
    [
        ('idle = "yes"', "mailboxes[0].idle: expected true or false, got 'yes'"),
        ("idle_renew_seconds = 1800", "mailboxes[0].idle_renew_seconds: must be at most 1740"),
        ("idle_renew_seconds = 30", "mailboxes[0].idle_renew_seconds: must be at least 60, got 30"),
    ],
)
def test_idle_settings_are_checked(config_file: ConfigFile, mailbox_keys: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(config_file(mailbox=mailbox_keys))
    assert message in str(info.value)
    box = load(config_file(mailbox="idle_renew_seconds = 1740")).mailboxes[0]
    assert (box.idle, box.idle_renew_seconds) == (True, 1740)
    assert {(b.idle, b.idle_renew_seconds) for b in load(EXAMPLE).mailboxes} == {(True, 1500)}
