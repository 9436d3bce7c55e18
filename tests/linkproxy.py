"""A TCP proxy on 127.0.0.1 that cuts (or stalls) connections midway through what the server sends."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

Plan = Callable[[int], "Fault | None"]  # connection number (0, 1, ...) -> what happens to it


@dataclass(frozen=True, kw_only=True)
class Fault:
    after_bytes: int  # server-to-client bytes let through before the fault
    stall: bool = False  # hold the connection open, silent, instead of closing it


class LinkProxy:
    """Forwards 127.0.0.1:port to target; each connection may be cut or stalled as the plan says."""

    def __init__(self, *, target: tuple[str, int], plan: Plan) -> None:
        self.target = target
        self.plan = plan
        self.connections = 0
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: list[socket.socket] = []
        self._guard = threading.Lock()
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._guard:
            for s in self._open:
                _close(s)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._guard:
                number = self.connections
                self.connections += 1
                self._open += [client, upstream]
            fault = self.plan(number)
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, fault), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, fault: Fault | None) -> None:
        left = fault.after_bytes if fault is not None else -1
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if fault is not None and len(data) >= left:
                    sink.sendall(data[:left])
                    with self._guard:
                        self.cuts += 1
                    if fault.stall:
                        self._closed.wait(30)
                    break
                sink.sendall(data)
                left -= len(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()
