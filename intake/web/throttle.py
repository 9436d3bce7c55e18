"""Login throttling: after 5 failed logins for one address from one client within 15 minutes, that
pair waits until the oldest failure is 15 minutes old; one client gets 30 failures in all.

Kept in memory: the workbench runs as one process, and a restart forgets at most 15 minutes.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

WINDOW_SECONDS = 15 * 60
PER_ADDRESS = 5
PER_CLIENT = 30


class Throttle:
    def __init__(
        self,
        *,
        window: float = WINDOW_SECONDS,
        per_address: int = PER_ADDRESS,
        per_client: int = PER_CLIENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.limits = {"address": per_address, "client": per_client}
        self.clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, email: str, client: str) -> list[tuple[tuple[str, ...], int]]:
        return [
            (("address", email.strip().lower(), client), self.limits["address"]),
            (("client", client), self.limits["client"]),
        ]

    def wait(self, email: str, client: str) -> int:
        """Seconds before this address may try again from this client (0: now)."""
        now = self.clock()
        longest = 0.0
        with self._lock:
            for key, limit in self._keys(email, client):
                times = self._failures.get(key)
                if not times:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= limit:
                    longest = max(longest, times[0] + self.window - now)
        return int(longest) + (1 if longest else 0)

    def failed(self, email: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key, _ in self._keys(email, client):
                self._failures[key].append(now)

    def succeeded(self, email: str, client: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(email, client)[0][0], None)
