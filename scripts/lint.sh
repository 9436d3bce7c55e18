#!/usr/bin/env bash
# Static checks: ruff and mypy --strict (configured in pyproject.toml). Exits non-zero if either fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
echo "[lint] ruff check ."
.venv/bin/ruff check . || status=1
echo "[lint] mypy"
.venv/bin/mypy || status=1
if [ "$status" -eq 0 ]; then echo "[lint] clean"; else echo "[lint] FAILED"; fi
exit "$status"
