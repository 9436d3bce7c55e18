"""The service's log: one line per failure; a traceback once per distinct unexpected error, or with -v."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.app import App
from intake.config import load
from intake.logformat import OneLineFormatter
from intake.service import Worker
from tests.conftest import write_offline_config


@pytest.fixture
def worker(tmp_path: Path, db_url: str) -> Iterator[Worker]:
    app = App.build(load(write_offline_config(tmp_path / "c.toml", db_url=db_url)))
    yield Worker(app)
    app.close()


def _log(worker: Worker, *, verbose: bool, errors: list[BaseException]) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter(tracebacks=verbose))
    logger = logging.getLogger("intake.service")
    logger.addHandler(handler)
    try:
        for exc in errors:
            try:
                raise exc
            except BaseException as caught:
                worker.failed("poll reports (imap.126.com:993) failed", caught)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_expected_failures_are_one_line_and_a_bug_shows_its_traceback_once(worker: Worker) -> None:
    text = _log(
        worker,
        verbose=False,
        errors=[ConnectionRefusedError(111, "Connection refused"), KeyError("uid"), KeyError("uid"), KeyError("x")],
    )
    lines = text.splitlines()
    assert lines[0].endswith(
        "poll reports (imap.126.com:993) failed: ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert text.count("Traceback") == 2  # KeyError('uid') once, KeyError('x') once
    assert sum(1 for line in lines if line.endswith("failed: KeyError: 'uid'")) == 2


def test_with_v_every_failure_has_its_traceback(worker: Worker) -> None:
    text = _log(worker, verbose=True, errors=[TimeoutError("timed out"), TimeoutError("timed out")])
    assert text.count("Traceback") == 2 and text.count("failed: TimeoutError: timed out") == 2
