"""The SQLite database file watched: the file a process opened is still the one at its path.

SQLite keeps writing into a database file that was deleted or replaced under it (the open
connections hold the old inode), so a store that vanishes would go unnoticed: verdicts and sent
replies recorded nowhere, and everything fetched and answered again after a restart. A `FileWatch`
remembers the file's identity (st_dev, st_ino) when the engine is made and compares it with the path's
before every transaction (an engine event); a missing or replaced file raises `StoreVanished`, every
time from then on, and tells its listeners once (the service stops on it).

Only `intake db upgrade` creates the database file (`make_engine(url, create=True)`); everything else
refuses a missing file with `StoreMissing`, so that a lost store is never silently replaced by an
empty one.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event


class StoreMissing(RuntimeError):
    """The SQLite database file does not exist (and this command does not create it)."""


class StoreVanished(RuntimeError):
    """The SQLite database file was deleted or replaced while this process used it."""


def missing(path: Path) -> StoreMissing:
    return StoreMissing(
        f"the database file {path} does not exist: `intake db upgrade` creates it "
        '(if it was lost, restore it first: see "A store that vanishes" in the README)'
    )


class FileWatch:
    """The identity of one database file, as opened, checked against its path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise missing(path) from None
        self.identity = (st.st_dev, st.st_ino)
        self.gone: str | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._guard = threading.Lock()

    def listen(self, callback: Callable[[str], None]) -> None:
        """callback(reason) once, when the file is first found missing or replaced."""
        self._listeners.append(callback)

    def problem(self) -> str | None:
        """Why the file is no longer the one opened, or None."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return f"the database file {self.path} was deleted"
        if (st.st_dev, st.st_ino) != self.identity:
            return f"the database file {self.path} was replaced by another file"
        return None

    def check(self) -> None:
        """Raise StoreVanished when the file is missing or replaced (and from then on)."""
        gone = self.gone
        if gone is None:
            reason = self.problem()
            if reason is None:
                return
            with self._guard:
                first = self.gone is None
                if first:
                    self.gone = f"{reason} while the store was in use"
                gone = self.gone or reason
            if first:
                for callback in self._listeners:
                    callback(gone)
        raise StoreVanished(gone)


_WATCHES: weakref.WeakKeyDictionary[Engine, FileWatch] = weakref.WeakKeyDictionary()


def attach(engine: Engine, path: Path) -> FileWatch:
    """Watch path for engine: every transaction begins with the check."""
    watch = FileWatch(path)

    def _before(conn: Any) -> None:
        watch.check()

    event.listen(engine, "begin", _before)
    _WATCHES[engine] = watch
    return watch


def watch_of(engine: Engine) -> FileWatch | None:
    """The engine's file watch (None for PostgreSQL and in-memory databases)."""
    return _WATCHES.get(engine)
