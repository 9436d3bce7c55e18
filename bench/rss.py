"""`python -m bench.rss OUT.json COMMAND...`: run COMMAND and write its peak RSS (and exit code) to OUT.json.

A small process of its own forks the command, so that the figure is the command's own: Linux carries
the RSS a process had before exec into its ru_maxrss, and a child forked straight from the benchmark
(which holds the test messages) would report the benchmark's size instead. SIGTERM and SIGINT are
passed on to the command.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import types
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print("usage: python -m bench.rss OUT.json COMMAND...", file=sys.stderr)
        return 2
    out, command = args[0], args[1:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)

    def forward(signum: int, frame: types.FrameType | None) -> None:
        os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"returncode": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
