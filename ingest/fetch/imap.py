"""The one seam over imapclient: connect, LOGIN, ID, SELECT, list and fetch by UID, then flag or move.

Every call has the socket timeout given at connect. A broken or timed-out connection during a call
is raised as `LinkBroken`, so that the poller can reconnect and go on in smaller steps; a refusal by
the server (wrong password, unknown folder) is raised as it is.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import ssl
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from types import TracebackType
from typing import Any, Protocol, TypeVar

from imapclient import IMAPClient

from campaign.settings import MailboxSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
PIECE = 4 * 1024 * 1024  # bytes per partial FETCH of a large message

CLIENT_ID = {
    "name": "mailbox-intake",
    "version": "0.1.0",
    "vendor": "mailbox-intake",
    "support-email": "postmaster@localhost",
}


class Sink(Protocol):
    def write(self, chunk: bytes, /) -> None: ...


def _fetch_one(client: IMAPClient, *, uid: int, items: list[str]) -> dict[int, dict[bytes, Any]]:
    result: dict[int, dict[bytes, Any]] = client.fetch([uid], items)
    return result


class LinkBroken(ConnectionError):
    """The connection broke or timed out during an IMAP call."""


def quiet(client: IMAPClient) -> IMAPClient:
    """Switch off imaplib's debug formatting that IMAPClient turns on (10x slower, 3x memory)."""
    client._imap.debug = 0
    return client


def _close(client: IMAPClient) -> None:
    """LOGOUT, or at least close the socket when the connection is already broken."""
    try:
        client.logout()
    except Exception:
        log.debug("logout failed", exc_info=True)
        try:
            client.shutdown()
        except Exception:
            log.debug("closing the socket failed", exc_info=True)


class ImapSession:
    """A session on one folder of one mailbox (read-only unless asked); use as a context manager."""

    def __init__(self, *, settings: MailboxSettings, timeout: float = 60.0, readonly: bool = True) -> None:
        self.settings = settings
        self.timeout = timeout
        self.readonly = readonly
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.internaldates: dict[int, dt.datetime] = {}  # filled by fetch and fetch_headers
        self.capabilities: tuple[bytes, ...] = ()

    def __enter__(self) -> ImapSession:
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.cafile) if s.cafile else None)
        client = quiet(
            IMAPClient(
                s.host,
                port=s.port,
                ssl=s.security == "ssl",
                ssl_context=context if s.security == "ssl" else None,
                timeout=self.timeout,
            )
        )
        try:
            if s.security == "starttls":
                client.starttls(context)
            client.login(s.username, s.password.read())
            self.capabilities = tuple(client.capabilities())
            if b"ID" in self.capabilities:
                client.id_(CLIENT_ID)  # NetEase's Coremail refuses SELECT without it
            if s.after == "move" and s.move_to and not client.folder_exists(s.move_to):
                client.create_folder(s.move_to)
            info = client.select_folder(s.folder, readonly=self.readonly)  # EXAMINE unless we must write
            self.uidvalidity = int(info[b"UIDVALIDITY"])
        except BaseException:
            _close(client)
            raise
        self.client = client
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self.client is not None:
            _close(self.client)
            self.client = None

    def _c(self) -> IMAPClient:
        if self.client is None:
            raise RuntimeError("the IMAP session is not open")
        return self.client

    def _remember_dates(self, data: dict[int, dict[bytes, Any]]) -> None:
        """INTERNALDATE of each fetched UID: when the server received the message (imapclient gives it
        naive, in this machine's local time)."""
        for uid, item in data.items():
            value = item.get(b"INTERNALDATE")
            if isinstance(value, dt.datetime):
                self.internaldates[int(uid)] = value

    def _call(self, call: Callable[[IMAPClient], T]) -> T:
        try:
            return call(self._c())
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise LinkBroken(f"{type(exc).__name__}: {exc}") from exc

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above last_uid, ascending (`UID n:*` always answers the highest UID, so filter)."""
        found: Sequence[int] = self._call(lambda c: c.search(["UID", f"{last_uid + 1}:*"]))
        return sorted(int(u) for u in found if int(u) > last_uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        if not uids:
            return {}
        data: dict[int, dict[bytes, Any]] = self._call(lambda c: c.fetch(list(uids), ["RFC822.SIZE"]))
        return {int(uid): int(item[b"RFC822.SIZE"]) for uid, item in data.items()}

    def fetch(self, uids: Iterable[int]) -> dict[int, bytes]:
        """Whole messages, without setting \\Seen."""
        wanted = list(uids)
        if not wanted:
            return {}
        data: dict[int, dict[bytes, Any]] = self._call(lambda c: c.fetch(wanted, ["BODY.PEEK[]", "INTERNALDATE"]))
        self._remember_dates(data)
        return {int(uid): bytes(item[b"BODY[]"]) for uid, item in data.items() if b"BODY[]" in item}

    def fetch_into(self, uid: int, out: Sink, *, piece: int = PIECE) -> bool:
        """One message in pieces (`BODY.PEEK[]<offset.length>`), each handed to out as it arrives,
        so that a message of any size never sits in memory whole; False when it has vanished."""
        offset = 0
        while True:
            wanted = [f"BODY.PEEK[]<{offset}.{piece}>"] + (["INTERNALDATE"] if offset == 0 else [])
            data: dict[int, dict[bytes, Any]] = self._call(partial(_fetch_one, uid=uid, items=wanted))
            item = data.get(uid)
            if item is None:
                return False
            if offset == 0:
                self._remember_dates({uid: item})
            chunk = item.get(f"BODY[]<{offset}>".encode())
            if chunk is None:
                return offset > 0  # some servers answer a piece past the end with nothing
            chunk = bytes(chunk)
            out.write(chunk)
            offset += len(chunk)
            if len(chunk) < piece:
                return True

    def fetch_headers(self, uids: Iterable[int]) -> dict[int, bytes]:
        wanted = list(uids)
        if not wanted:
            return {}
        data: dict[int, dict[bytes, Any]] = self._call(lambda c: c.fetch(wanted, ["BODY.PEEK[HEADER]", "INTERNALDATE"]))
        self._remember_dates(data)
        return {int(uid): bytes(item[b"BODY[HEADER]"]) for uid, item in data.items() if b"BODY[HEADER]" in item}

    def mark_seen(self, uids: Sequence[int]) -> None:
        """Flag \\Seen (the session must be read-write)."""
        if uids:
            self._call(lambda c: c.add_flags(list(uids), [b"\\Seen"], silent=True))

    def move(self, uids: Sequence[int], folder: str) -> None:
        """MOVE where the server offers it, else COPY + \\Deleted + UID EXPUNGE (Coremail has no MOVE)."""
        if not uids:
            return
        wanted = list(uids)
        if b"MOVE" in self.capabilities:
            self._call(lambda c: c.move(wanted, folder))
            return
        self._call(lambda c: c.copy(wanted, folder))
        self._call(lambda c: c.add_flags(wanted, [b"\\Deleted"], silent=True))
        if b"UIDPLUS" in self.capabilities:
            self._call(lambda c: c.uid_expunge(wanted))
        else:
            self._call(lambda c: c.expunge())
