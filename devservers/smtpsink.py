"""Capture every message sent to a local SMTP server (aiosmtpd), in memory and optionally on disk.

The sink accepts plain SMTP on 127.0.0.1 without AUTH or TLS (the service's ``security = "none"``).
With a spool folder each message is kept byte for byte as ``<n>.eml`` (n = 0001, 0002, ...), and
its envelope as ``<n>.json`` beside it.

CLI (foreground until SIGTERM or Ctrl-C; prints ``{"host": ..., "port": ...}`` once listening)::

    python -m devservers.smtpsink --dir DIR [--port P]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST: Final = "127.0.0.1"
SERVER_NAME: Final = "smtpsink.localhost"
DATA_SIZE_LIMIT: Final = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Captured:
    """One message as the sink received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> EmailMessage:
        """The message parsed with ``policy.default``."""
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Handler:
    """aiosmtpd handler: hands each DATA to the sink."""

    def __init__(self, *, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._sink.delay_seconds:  # a server that keeps the client waiting
            await asyncio.sleep(self._sink.delay_seconds)
        if self._sink.answer is not None:  # a server that refuses: e.g. "451 4.3.0 try later", "550 5.7.1 no"
            return self._sink.answer
        data = envelope.original_content
        assert data is not None
        self._sink._record(
            Captured(mail_from=str(envelope.mail_from), rcpt_tos=tuple(envelope.rcpt_tos), data=bytes(data))
        )
        return "250 OK captured"


class _BoundController(Controller):
    """A Controller serving on a socket bound beforehand, so that port 0 (any free port) works."""

    def __init__(self, handler: _Handler, *, sock: socket.socket) -> None:
        self._sock = sock
        super().__init__(
            handler,
            hostname=HOST,
            port=int(sock.getsockname()[1]),
            server_hostname=SERVER_NAME,
            data_size_limit=DATA_SIZE_LIMIT,
        )

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class SmtpSink:
    """A running capture server; ``messages`` grows as mail arrives."""

    def __init__(self, *, controller: _BoundController | None, spool_dir: Path | None) -> None:
        self._controller = controller
        self.spool_dir = spool_dir
        self.messages: list[Captured] = []
        self.answer: str | None = None  # answer DATA with this instead of capturing (tests of refusals)
        self.delay_seconds: float = 0.0  # wait this long before answering DATA (tests of timeouts)
        self._arrived = threading.Condition()
        self._next_number = _next_spool_number(spool_dir) if spool_dir is not None else 1

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        assert self._controller is not None, "sink not started"
        return int(self._controller.port)

    @classmethod
    def start(cls, *, spool_dir: Path | None = None, port: int = 0) -> SmtpSink:
        """Listen on 127.0.0.1:``port`` (0: any free port) in a background thread."""
        if spool_dir is not None:
            spool_dir.mkdir(parents=True, exist_ok=True)
        sink = cls(controller=None, spool_dir=spool_dir)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            raise
        controller = _BoundController(_Handler(sink=sink), sock=sock)
        try:
            controller.start()
        except BaseException:
            sock.close()
            raise
        sink._controller = controller
        return sink

    def stop(self) -> None:
        """Stop listening (captured messages stay available)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Captured]:
        """Wait until at least ``count`` messages have arrived; return them all (TimeoutError if not)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.messages)} of {count} messages arrived within {timeout}s")
                self._arrived.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        """Forget the messages captured so far (the spool files stay), and answer normally again."""
        with self._arrived:
            self.messages.clear()
        self.answer = None
        self.delay_seconds = 0.0

    def _record(self, captured: Captured) -> None:
        with self._arrived:
            if self.spool_dir is not None:
                self._spool(captured, self._next_number)
                self._next_number += 1
            self.messages.append(captured)
            self._arrived.notify_all()

    def _spool(self, captured: Captured, number: int) -> None:
        assert self.spool_dir is not None
        stem = f"{number:04d}"
        envelope = {"mail_from": captured.mail_from, "rcpt_tos": list(captured.rcpt_tos)}
        # The sidecar first, then the message, each renamed into place whole.
        _write_atomically(self.spool_dir / f"{stem}.json", (json.dumps(envelope, ensure_ascii=False) + "\n").encode())
        _write_atomically(self.spool_dir / f"{stem}.eml", captured.data)


def _next_spool_number(spool_dir: Path) -> int:
    numbers = [int(path.stem) for path in spool_dir.glob("*.eml") if path.stem.isdigit()]
    return max(numbers, default=0) + 1


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sink in the foreground until SIGTERM/SIGINT; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m devservers.smtpsink", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="spool folder for <n>.eml and <n>.json")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with SmtpSink.start(spool_dir=args.dir, port=args.port) as sink:
        print(json.dumps({"host": sink.host, "port": sink.port, "spool_dir": str(args.dir)}), flush=True)
        while not stopping.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
