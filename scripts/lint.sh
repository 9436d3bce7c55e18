#!/usr/bin/env bash
# Static checks (configured in pyproject.toml): ruff check, ruff format --check, mypy --strict and the
# layers that import-linter enforces. Exits non-zero if any fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
echo "[lint] ruff check ."
.venv/bin/ruff check . || status=1
echo "[lint] ruff format --check ."
.venv/bin/ruff format --check . || status=1
echo "[lint] mypy"
.venv/bin/mypy || status=1
echo "[lint] lint-imports (layers)"
.venv/bin/lint-imports --no-cache || status=1
if [ "$status" -eq 0 ]; then echo "[lint] clean"; else echo "[lint] FAILED"; fi
exit "$status"
