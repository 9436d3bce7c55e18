"""Where the public mail corpus is: INTAKE_CORPUS_DIR, by default ../shared/corpus beside the clone.

A relative INTAKE_CORPUS_DIR is taken from the repository's root. Without the corpus its test is
skipped, and the skip names the folder looked at; under CI (CI=true) a missing corpus fails instead,
so that a CI run never passes without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[1]
SETTING: Final = "INTAKE_CORPUS_DIR"
DEFAULT: Final = "../shared/corpus"


def corpus_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder the corpus is looked for in (whether or not it exists)."""
    return (ROOT / environ.get(SETTING, DEFAULT)).resolve()


def under_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_corpus(environ: Mapping[str, str] = os.environ) -> Path:
    """The corpus folder; skips the calling test when it is missing, or fails it under CI."""
    path = corpus_dir(environ)
    if path.is_dir():
        return path
    reason = f"no mail corpus at {path} (set {SETTING} to its folder; default {DEFAULT} beside the clone)"
    if under_ci(environ):
        pytest.fail(f"{reason}; under CI=true the corpus is required", pytrace=False)
    pytest.skip(reason)
