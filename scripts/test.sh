#!/usr/bin/env bash
# The static checks (scripts/lint.sh), then the whole test suite twice, side by side: on SQLite and on PostgreSQL (127.0.0.1:5432, a throwaway
# database per run, made by tests/conftest.py from INTAKE_TEST_DB). Extra arguments go to pytest.
# Exits non-zero if either run fails; the last line sums up both runs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[test] %s\n' "$*"; }

bash scripts/setup.sh || exit 1

say "static checks (scripts/lint.sh)"
bash scripts/lint.sh
lint_rc=$?

PG_URL=${INTAKE_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
RESULTS=var/test-results
mkdir -p "$RESULTS"

# Start the local PostgreSQL cluster if nothing answers on 127.0.0.1:5432, and let the test URL
# (user postgres, no password) in: Debian's default pg_hba.conf asks loopback clients for one.
ensure_postgres() {
  local version hba
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if [ -z "$version" ]; then
      say "no PostgreSQL cluster in /etc/postgresql (is the postgresql package installed?)"
      return 1
    fi
    say "starting PostgreSQL $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
    for _ in $(seq 1 60); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 0.5
    done
    pg_isready -q -h 127.0.0.1 -p 5432 || { say "PostgreSQL did not come up"; return 1; }
  fi
  if ! psql -w -X -q "${PG_URL%/*}/postgres" -c 'select 1' >/dev/null 2>&1; then
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if [ -n "$version" ] && [ -w "$hba" ] && ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
      say "allowing postgres@127.0.0.1 without password for the tests ($hba)"
      sed -i '0,/^[^#[:space:]]/s//host all postgres 127.0.0.1\/32 trust\n&/' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$version" main reload
      sleep 1
    fi
    psql -w -X -q "${PG_URL%/*}/postgres" -c 'select 1' >/dev/null || {
      say "cannot connect to PostgreSQL as ${PG_URL%/*}"
      return 1
    }
  fi
}

# run LABEL DB_SETTING: one whole pytest run; its results go to $RESULTS/LABEL.xml.
run() {
  local label=$1 setting=$2 rc
  rm -f "$RESULTS/$label.xml"
  say "pytest on $label (INTAKE_TEST_DB=$setting)"
  INTAKE_TEST_DB=$setting .venv/bin/python -m pytest --junitxml="$RESULTS/$label.xml" "${@:3}"
  rc=$?
  if [ "$rc" -eq 5 ]; then say "pytest collected no tests on $label"; fi
  return "$rc"
}

# The two runs go side by side (each has its own servers, database and temporary folders); each
# one's output is kept in $RESULTS/LABEL.log and shown when both have finished.
logged() {
  local label=$1
  shift
  run "$label" "$@" >"$RESULTS/$label.log" 2>&1
}

say "pytest on SQLite and on PostgreSQL, side by side (output follows when both have finished)"
logged sqlite sqlite "$@" &
sqlite_pid=$!
pg_pid=
if ensure_postgres; then
  logged postgresql "$PG_URL" "$@" &
  pg_pid=$!
fi
wait "$sqlite_pid"
sqlite_rc=$?
if [ -n "$pg_pid" ]; then
  wait "$pg_pid"
  pg_rc=$?
else
  pg_rc=1
fi
for label in sqlite postgresql; do
  [ -f "$RESULTS/$label.log" ] && cat "$RESULTS/$label.log"
done

# One line per run, then the sum of both in the plain form "N passed, N failed, N skipped".
.venv/bin/python - "$RESULTS" "$sqlite_rc" "$pg_rc" <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

results, codes = Path(sys.argv[1]), dict(zip(("sqlite", "postgresql"), map(int, sys.argv[2:])))
total = [0, 0, 0]
for label, code in codes.items():
    try:
        suite = ET.parse(results / f"{label}.xml").getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
        tests, failed, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "skipped"))
        failed += int(suite.get("errors", 0))
    except (OSError, ET.ParseError, IndexError):
        tests, failed, skipped = 0, 1, 0
    failed = max(failed, 1 if code else 0)
    passed = tests - failed - skipped if tests >= failed + skipped else 0
    total = [total[0] + passed, total[1] + failed, total[2] + skipped]
    verdict = "ok" if code == 0 else f"FAILED (pytest exit {code})"
    print(f"[test] {label}: {verdict}: {passed} passed, {failed} failed, {skipped} skipped")
print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
PY

if [ "$lint_rc" -ne 0 ]; then
  say "static checks FAILED (see [lint] above)"
fi
if [ "$sqlite_rc" -ne 0 ] || [ "$pg_rc" -ne 0 ] || [ "$lint_rc" -ne 0 ]; then
  exit 1
fi
