"""IMAP IDLE: learn at once that a mailbox has new mail, where its server offers IDLE.

An `IdleWatcher` is one thread per mailbox: it opens an `ImapSession` (LOGIN, ID, EXAMINE), checks
CAPABILITY for IDLE (Coremail at 126/163 has none: the watcher says so once and ends, and the
mailbox is polled on its schedule as before), then waits in IDLE and calls `on_new(box)` for every
EXISTS or RECENT the server sends, and once after each (re)connect to catch up on what came while
it was away. It never fetches: the poll does that. IDLE is ended and issued again every
`idle_renew_seconds` (RFC 2177: within 29 minutes); the stop event is looked at every second. A
broken connection is one log line and a new connection after a backoff; it never ends the thread.
`IdleWatchers` keeps one worker's watchers in step with the mailboxes it holds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from campaign.settings import MailboxSettings, ServiceSettings
from ingest.fetch.imap import ImapSession
from ingest.fetch.poller import backoff_delay
from store.errors import one_line

log = logging.getLogger(__name__)
NewMail = Callable[[MailboxSettings], None]
CHECK_SECONDS = 1.0  # the longest wait in IDLE before the stop event is looked at again
STOP_TIMEOUT = 3.0  # seconds DONE and LOGOUT may take when stopping
NEW_MAIL = (b"EXISTS", b"RECENT")


class ServerHungUp(ConnectionError):
    """The server ended the connection (BYE, or the socket reached its end)."""


def _new_mail(responses: Iterable[Any]) -> bool:
    """Whether IDLE responses announce mail (`* 3 EXISTS`, `* 1 RECENT`); BYE raises ServerHungUp."""
    found = False
    for response in responses:
        if not isinstance(response, tuple) or len(response) < 2:
            continue
        if response[0] == b"BYE":
            words = b" ".join(w for w in response[1:] if isinstance(w, bytes)).decode("ascii", "replace")
            raise ServerHungUp(f"the server said BYE: {words}")
        if response[1] in NEW_MAIL:
            found = True
    return found


class IdleWatcher:
    """Waits in IDLE on one mailbox in a thread of its own; `on_new` is called from that thread."""

    def __init__(
        self,
        *,
        box: MailboxSettings,
        on_new: NewMail,
        timeout: float = 60.0,
        backoff_seconds: float = 30.0,
        backoff_max_seconds: float = 1800.0,
        renew_seconds: float | None = None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.box = box
        self.on_new = on_new
        self.timeout = timeout
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.renew_seconds = float(renew_seconds if renew_seconds is not None else box.idle_renew_seconds)
        self.check_seconds = check_seconds
        self.offered: bool | None = None  # whether the server offers IDLE; None until it was asked
        self.connections = 0  # sessions opened that reached IDLE's capability check
        self.renewals = 0  # times IDLE was ended and issued again on one connection
        self.idling = threading.Event()  # set while the server is in IDLE for us
        self.session: ImapSession | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name=f"idle {box.name}", daemon=True)

    @property
    def where(self) -> str:
        return f"{self.box.host}:{self.box.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end (DONE, LOGOUT); `join` waits for it."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def run(self) -> None:
        """Connect, IDLE, reconnect after a backoff, until stopped or the server has no IDLE."""
        failures = 0
        while not self._stop.is_set():
            reached = self.connections
            try:
                if not self._connection():
                    return
            except Exception as exc:
                failures = 1 if self.connections > reached else failures + 1  # a connection that worked starts anew
                delay = backoff_delay(failures, base=self.backoff_seconds, cap=self.backoff_max_seconds)
                if self._stop.is_set():
                    return
                # A server that cannot be reached at all is the poll's to report (once per poll, with
                # its backoff); a connection that broke while in IDLE is this watcher's own news.
                log.log(
                    logging.WARNING if self.connections > reached else logging.DEBUG,
                    "%s: IDLE on %s failed: %s (%d in a row); connecting again in %.0fs, polled on schedule meanwhile",
                    self.box.name,
                    self.where,
                    one_line(exc),
                    failures,
                    delay,
                )
                self._stop.wait(delay)

    def _connection(self) -> bool:
        """One session in IDLE until stopped (True) or the server offers no IDLE (False); a break raises."""
        with ImapSession(settings=self.box, timeout=self.timeout) as session:
            self.session = session
            try:
                self.offered = b"IDLE" in session.capabilities
                if not self.offered:
                    log.info(
                        "%s: %s offers no IDLE; the mailbox is polled every %ds",
                        self.box.name,
                        self.where,
                        self.box.poll_seconds,
                    )
                    return False
                self.connections += 1
                self._notify()  # catch up on what came while there was no IDLE
                self._idle(session)
                return True
            finally:
                self.idling.clear()
                self.session = None

    def _notify(self) -> None:
        try:
            self.on_new(self.box)
        except Exception as exc:  # the callback's trouble is not the connection's
            log.error("%s: reacting to new mail failed: %s", self.box.name, one_line(exc))

    def _idle(self, session: ImapSession) -> None:
        client = session.client
        assert client is not None
        client.idle()
        self.idling.set()
        if self.connections == 1:
            log.info("%s: waiting for new mail with IDLE on %s", self.box.name, self.where)
        else:
            log.info("%s: IDLE on %s again", self.box.name, self.where)
        since = time.monotonic()
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                responses = client.idle_check(timeout=self.check_seconds)
                if _new_mail(responses):
                    log.info("%s: new mail announced", self.box.name)
                    self._notify()
                # imapclient answers an empty list at once, forever, once the socket has reached its end;
                # a quick empty answer is checked by ending IDLE, which raises on a dead connection
                hurried = not responses and time.monotonic() - started < self.check_seconds / 2
                if hurried or time.monotonic() - since >= self.renew_seconds:
                    self._renew(client)
                    since = time.monotonic()
        finally:
            if self._stop.is_set():
                self._leave(client)

    def _renew(self, client: Any) -> None:
        """DONE, then IDLE again; what came in between is looked at."""
        _text, responses = client.idle_done()
        if _new_mail(responses):
            self._notify()
        client.idle()
        self.renewals += 1

    def _leave(self, client: Any) -> None:
        """DONE before LOGOUT, both quickly: the service is stopping."""
        try:
            client.socket().settimeout(STOP_TIMEOUT)
            client.idle_done()
        except Exception:
            log.debug("%s: ending IDLE failed", self.box.name, exc_info=True)


class IdleWatchers:
    """One worker's watchers: one for each mailbox it holds that wants IDLE (`sync`), all stopped at the end."""

    def __init__(self, *, service: ServiceSettings, on_new: NewMail) -> None:
        self.service = service
        self.on_new = on_new
        self._watchers: dict[str, IdleWatcher] = {}
        self._stopping: list[IdleWatcher] = []
        self._no_idle: set[str] = set()  # mailboxes whose server offers no IDLE (said once)
        self._told: set[str] = set()  # mailboxes whose `idle = false` was logged
        self._guard = threading.Lock()

    def sync(self, boxes: Iterable[MailboxSettings]) -> None:
        """Watch exactly these mailboxes: start watchers for new ones, stop those of mailboxes no longer held."""
        wanted = {box.name: box for box in boxes}
        with self._guard:
            self._no_idle.update(n for n, w in self._watchers.items() if w.offered is False)
            for name in [n for n in self._watchers if n not in wanted]:
                watcher = self._watchers.pop(name)
                if watcher.alive:
                    watcher.stop()
                    self._stopping.append(watcher)
                    log.info("%s: no longer held by this worker; its IDLE is stopped", name)
            self._stopping = [w for w in self._stopping if w.alive]
            for name, box in wanted.items():
                if not box.idle:
                    if name not in self._told:
                        self._told.add(name)
                        log.info("%s: idle = false; the mailbox is polled every %ds", name, box.poll_seconds)
                    continue
                current = self._watchers.get(name)
                if name in self._no_idle or (current is not None and current.alive):
                    continue
                watcher = IdleWatcher(
                    box=box,
                    on_new=self.on_new,
                    timeout=self.service.imap_timeout_seconds,
                    backoff_seconds=self.service.backoff_seconds,
                    backoff_max_seconds=self.service.backoff_max_seconds,
                )
                self._watchers[name] = watcher
                watcher.start()

    def watching(self) -> list[str]:
        """The mailboxes whose watcher runs."""
        with self._guard:
            return sorted(name for name, w in self._watchers.items() if w.alive)

    def stop_all(self, timeout: float = 5.0) -> list[str]:
        """Stop every watcher and wait up to timeout in all; the names of those still running."""
        with self._guard:
            watchers = [*self._watchers.values(), *self._stopping]
            self._watchers.clear()
            self._stopping = []
        for watcher in watchers:
            watcher.stop()
        deadline = time.monotonic() + timeout
        left = [w.box.name for w in watchers if not w.join(max(0.0, deadline - time.monotonic()))]
        if left:
            log.warning("IDLE of %s did not end within %.0fs", ", ".join(left), timeout)
        return left
