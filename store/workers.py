"""Workers and locks: each process's heartbeat row, and named locks that are freed when their holder dies.

On PostgreSQL a lock is a session-level advisory lock (`pg_try_advisory_lock`) held on one connection
kept for it: the server frees it the moment the holder's connection closes, SIGKILL included. On SQLite
(one host, normally one worker) a lock is a row in `leases` naming its holder; it is free once the
holder's heartbeat is older than the stale time. Either way a lock is kept until released or lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
import socket
import threading
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, or_, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

from store.models import Lease, Reply, Worker, utcnow

log = logging.getLogger(__name__)
FORGET_AFTER = dt.timedelta(days=1)  # rows of workers dead this long are removed


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def live_ids(cutoff: dt.datetime) -> Select[str]:
    """The ids of workers whose last heartbeat is at or after cutoff."""
    return select(Worker.id).where(Worker.beat_at >= cutoff)


class Heart:
    """One process's heartbeat row: written at the first beat, refreshed by each beat, removed at the end."""

    def __init__(self, *, sessions: sessionmaker[Session], stale_seconds: float, worker_id: str | None = None) -> None:
        self.sessions = sessions
        self.id = worker_id or new_worker_id()
        self.stale = dt.timedelta(seconds=stale_seconds)
        self._last: dt.datetime | None = None
        self._holds = ""  # the locks the last full beat named
        self._guard = threading.Lock()

    def cutoff(self, now: dt.datetime | None = None) -> dt.datetime:
        """Heartbeats older than this belong to dead workers."""
        return (now or utcnow()) - self.stale

    def beat(self, holds: str | None = None) -> None:
        """Write the heartbeat, with the locks held (None: those of the last beat)."""
        holds = self._holds if holds is None else holds
        self._holds = holds
        now = utcnow()
        with self._guard, self.sessions.begin() as session:
            row = session.get(Worker, self.id)
            if row is None:
                host = self.id.partition(":")[0]
                session.add(Worker(id=self.id, host=host, pid=os.getpid(), started_at=now, beat_at=now, holds=holds))
            else:
                row.beat_at = now
                row.holds = holds
            session.execute(delete(Worker).where(Worker.beat_at < now - FORGET_AFTER))
            self._last = now

    def maybe_beat(self) -> None:
        """Beat unless the last beat is recent (a third of the stale time); the locks held stay as the
        last full beat wrote them."""
        if self._last is None or utcnow() - self._last > self.stale / 3:
            self.beat()

    def retire(self) -> None:
        """A clean stop: the leases of replies in hand and the row go, so nobody waits for them."""
        if self._last is None:
            return
        with self._guard, self.sessions.begin() as session:
            session.execute(update(Reply).where(Reply.leased_by == self.id).values(leased_by=None))
            session.execute(update(Lease).where(Lease.holder == self.id).values(holder=None, taken_at=None))
            session.execute(delete(Worker).where(Worker.id == self.id))
        self._last = None


class Locks(Protocol):
    def try_lock(self, name: str) -> bool:
        """True when this worker holds name now (it already did, or got it)."""

    def unlock(self, name: str) -> None: ...

    def held(self) -> list[str]: ...

    def close(self) -> None:
        """Release everything."""


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for name."""
    return int.from_bytes(hashlib.sha256(f"mailbox-intake:{name}".encode()).digest()[:8], "big", signed=True)


class AdvisoryLocks:
    """PostgreSQL session-level advisory locks on a connection of their own."""

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._held: set[str] = set()
        self._guard = threading.Lock()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _lost(self, exc: Exception) -> None:
        log.warning("the lock connection to the database broke (%s); every lock is given up", exc)
        self._held.clear()
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:  # already broken
                log.debug("closing the broken lock connection failed", exc_info=True)
            self._conn = None

    def try_lock(self, name: str) -> bool:
        with self._guard:
            try:
                conn = self._connection()
                if name in self._held:
                    conn.execute(text("SELECT 1"))  # the lock lives as long as this connection does
                    return True
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar())
            except DBAPIError as exc:
                self._lost(exc)
                return False
            if got:
                self._held.add(name)
            else:
                self._release_idle()
            return got

    def _release_idle(self) -> None:
        """The connection is kept only while it holds a lock."""
        if not self._held and self._conn is not None:
            self._conn.close()
            self._conn = None

    def unlock(self, name: str) -> None:
        with self._guard:
            if name not in self._held:
                return
            self._held.discard(name)
            try:
                self._connection().execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
            except DBAPIError as exc:
                self._lost(exc)
            self._release_idle()

    def held(self) -> list[str]:
        with self._guard:
            return sorted(self._held)

    def close(self) -> None:
        with self._guard:
            self._held.clear()
            if self._conn is not None:
                self._conn.close()  # closing the session releases its advisory locks
                self._conn = None


class LeaseLocks:
    """Lease rows whose holder must keep its heartbeat fresh (SQLite)."""

    def __init__(self, *, sessions: sessionmaker[Session], heart: Heart) -> None:
        self.sessions = sessions
        self.heart = heart
        self._held: set[str] = set()
        self._guard = threading.Lock()

    def try_lock(self, name: str) -> bool:
        me = self.heart.id
        with self._guard:
            try:
                with self.sessions.begin() as session:
                    row = session.get(Lease, name)
                    if row is None:
                        session.add(Lease(name=name, holder=me, taken_at=utcnow()))
                        session.flush()
                        got = True
                    elif row.holder == me:
                        got = True
                    else:
                        same = Lease.holder.is_(None) if row.holder is None else Lease.holder == row.holder
                        free = or_(Lease.holder.is_(None), Lease.holder.not_in(live_ids(self.heart.cutoff())))
                        result = session.execute(
                            update(Lease).where(Lease.name == name, same, free).values(holder=me, taken_at=utcnow())
                        )
                        got = result.rowcount == 1  # type: ignore[attr-defined]
            except IntegrityError:  # another worker created the row first
                got = False
            if got:
                self._held.add(name)
            else:
                self._held.discard(name)
            return got

    def unlock(self, name: str) -> None:
        with self._guard:
            self._held.discard(name)
            with self.sessions.begin() as session:
                session.execute(
                    update(Lease).where(Lease.name == name, Lease.holder == self.heart.id).values(holder=None)
                )

    def held(self) -> list[str]:
        with self._guard:
            return sorted(self._held)

    def close(self) -> None:
        for name in self.held():
            self.unlock(name)


def make_locks(*, engine: Engine, sessions: sessionmaker[Session], heart: Heart) -> Locks:
    if engine.dialect.name == "postgresql":
        return AdvisoryLocks(engine=engine)
    return LeaseLocks(sessions=sessions, heart=heart)
