"""Without the corpus beside the clone its test is skipped with the folder named, except under CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from corpusdir import DEFAULT, ROOT, corpus_dir, require_corpus


def test_the_default_is_shared_corpus_beside_the_clone() -> None:
    assert corpus_dir({}) == (ROOT.parent / "shared" / "corpus").resolve()
    assert DEFAULT == "../shared/corpus"


def test_the_setting_names_the_folder(tmp_path: Path) -> None:
    assert corpus_dir({"INTAKE_CORPUS_DIR": str(tmp_path)}) == tmp_path
    assert corpus_dir({"INTAKE_CORPUS_DIR": "tests/data"}) == ROOT / "tests" / "data"
    assert require_corpus({"INTAKE_CORPUS_DIR": str(tmp_path), "CI": "true"}) == tmp_path


def test_a_missing_corpus_skips_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-corpus"
    for ci in ({}, {"CI": "false"}, {"CI": ""}):
        with pytest.raises(pytest.skip.Exception) as skipped:
            require_corpus({"INTAKE_CORPUS_DIR": str(missing), **ci})
        assert f"no mail corpus at {missing}" in str(skipped.value)
        assert "INTAKE_CORPUS_DIR" in str(skipped.value)


def test_a_missing_corpus_fails_under_ci(tmp_path: Path) -> None:
    missing = tmp_path / "no-corpus"
    for value in ("true", "TRUE", "1"):
        with pytest.raises(pytest.fail.Exception) as failed:
            require_corpus({"INTAKE_CORPUS_DIR": str(missing), "CI": value})
        assert f"no mail corpus at {missing}" in str(failed.value)
        assert "under CI=true the corpus is required" in str(failed.value)


def _pytest_corpus(missing: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | {
        "INTAKE_CORPUS_DIR": str(missing),
        "COLUMNS": "300",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_corpus.py"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_run_shows_the_skip_and_fails_under_ci(tmp_path: Path) -> None:
    missing = tmp_path / "no-corpus"
    run = _pytest_corpus(missing)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    shown = rf"SKIPPED \[1\] \S+: no mail corpus at {re.escape(str(missing))} \(set INTAKE_CORPUS_DIR"
    assert re.search(shown, run.stdout), run.stdout

    run = _pytest_corpus(missing, CI="true")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed" in run.stdout
    assert "FAILED tests/test_corpus.py::test_every_corpus_message_reaches_one_explained_outcome" in run.stdout
    assert "under CI=true the corpus is required" in run.stdout
