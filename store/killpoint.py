"""A test hook: the process SIGKILLs itself at a named stage when INTAKE_TEST_KILL_AT names it.

`INTAKE_TEST_KILL_AT=stage` (or `stage:N`, at its Nth passage) is set only by the crash tests;
the stages are `fetched` (messages fetched, nothing stored), `stored` (the raw message committed,
not judged), `judging` (judging begun and counted, nothing of its outcome committed) and `sent` (a reply accepted by the
SMTP server, not yet marked sent). Unset, the hook does nothing.
"""

from __future__ import annotations

import os
import signal
import threading

VARIABLE = "INTAKE_TEST_KILL_AT"
STAGES = ("fetched", "stored", "judging", "sent")
_passages: dict[str, int] = {}
_guard = threading.Lock()


def kill_point(stage: str) -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != stage:
        return
    with _guard:
        _passages[stage] = _passages.get(stage, 0) + 1
        if _passages[stage] >= int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
