"""A bad link: a proxy between the intake and Dovecot cuts or stalls transfers midway; every message arrives."""

from __future__ import annotations

import random

import pytest
from conftest import ConfigFile

from devservers import samples
from devservers.dovecot import Dovecot
from intake.app import App
from intake.config import load
from store import queries
from tests.linkproxy import Fault, LinkProxy
from tests.processes import UNITS

pytestmark = [pytest.mark.servers, pytest.mark.slow]
MESSAGES = 20


def test_cut_transfers_lose_at_most_the_message_in_flight(
    config_file: ConfigFile,
    dovecot: Dovecot,
    imap_user: tuple[str, str],
) -> None:
    # Given twenty reports of about 60 KB, and a link where a connection is cut (or goes silent) after
    # letting through one to four messages' worth of bytes, four connections in five
    raws = [
        samples.offline_report(unit=UNITS[i % len(UNITS)], sender=f"unit{i}@163.com", photos=3) for i in range(MESSAGES)
    ]
    dovecot.append_many(imap_user[0], raws)
    size = sum(len(r) for r in raws) // MESSAGES
    rng = random.Random(9)

    def plan(number: int) -> Fault | None:
        if rng.random() < 0.2:
            return None
        return Fault(after_bytes=int(size * rng.uniform(1.0, 4.0)), stall=rng.random() < 0.25)

    proxy = LinkProxy(target=(dovecot.host, dovecot.port), plan=plan)
    config = config_file(
        replace={f"port = {dovecot.port}": f"port = {proxy.port}"}, tail="\n[service]\nimap_timeout_seconds = 1\n"
    )
    app = App.build(load(config))
    try:
        # When the intake polls (a few times at most: each poll goes on after the last stored UID)
        polls = []
        for _ in range(6):
            (report,) = app.poll()
            polls.append(report)
            with app.sessions() as session:
                if len(queries.messages(session)) == MESSAGES and report.error is None:
                    break
        # Then every message arrived once and was judged, and each cut cost at most a reconnection
        with app.sessions() as session:
            rows = queries.messages(session)
        assert sorted(m.uid for m in rows) == list(range(1, MESSAGES + 1))
        assert {m.status.value for m in rows} == {"accepted"}
        assert sum(r.fetched for r in polls) == MESSAGES  # nothing fetched and stored twice
        assert proxy.cuts >= 5 and sum(r.reconnects for r in polls) >= 5
        assert len(polls) <= 3, [(r.fetched, r.reconnects, r.error) for r in polls]
        print(
            f"\n[figures] bad link: messages {MESSAGES}, connections {proxy.connections}, cuts {proxy.cuts}, "
            f"polls {len(polls)}, lost 0, stored twice 0"
        )
    finally:
        app.close()
        proxy.close()
