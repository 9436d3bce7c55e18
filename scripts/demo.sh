#!/usr/bin/env bash
# The demo: a real Dovecot holding six realistic submissions and an SMTP capture server, both on
# 127.0.0.1 under var/demo/; the intake polls once, prints its verdicts and the text of every reply
# it sent (decoded from the capture server's .eml files).
#
#   bash scripts/demo.sh          the demo; both servers are stopped at the end
#   bash scripts/demo.sh --keep   the demo, then both servers stay up for trying the command line
#   bash scripts/demo.sh --stop   stops the servers that --keep left running (var/demo/ stays)
#
# A new demo never deletes an earlier one: an existing var/demo/ is moved to
# var/demo.previous-<UTC time> first, and the script says so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n[demo] %s\n' "$*"; }
usage() { sed -n '6,8s/^#   //p' "$0"; }

MODE=demo
case "${1:-}" in
  "") ;;
  --keep) MODE=keep ;;
  --stop) MODE=stop ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }

ROOT=$(pwd)
DEMO=$ROOT/var/demo
PY=$ROOT/.venv/bin/python
SINK_PID=
WEB_LISTEN=${INTAKE_DEMO_WEB:-127.0.0.1:8088}
WEB_USER=demo@example.org
WEB_PASSWORD=demo-workbench

# Stops the servers of a demo left running (by --keep or an interrupted run); quiet if none.
stop_left_running() {
  local pid
  if [ -f "$DEMO/web.pid" ]; then
    pid=$(cat "$DEMO/web.pid")
    if grep -qs "intake" "/proc/$pid/cmdline" && grep -qs "web" "/proc/$pid/cmdline"; then
      kill -TERM "$pid" || true
      for _ in $(seq 1 50); do
        [ -e "/proc/$pid" ] || break
        sleep 0.1
      done
      echo "stopped the workbench (pid $pid)"
    fi
    rm -f "$DEMO/web.pid"
  fi
  if [ -f "$DEMO/smtpsink.pid" ]; then
    pid=$(cat "$DEMO/smtpsink.pid")
    if grep -qs devservers.smtpsink "/proc/$pid/cmdline"; then
      kill -TERM "$pid" || true
      for _ in $(seq 1 50); do
        grep -qs devservers.smtpsink "/proc/$pid/cmdline" || break
        sleep 0.1
      done
      echo "stopped the SMTP capture server (pid $pid)"
    fi
    rm -f "$DEMO/smtpsink.pid"
  fi
  if [ -f "$DEMO/dovecot/state.json" ] && [ -x "$PY" ]; then
    "$PY" -m devservers.dovecot stop --dir "$DEMO/dovecot" || true
  fi
}

if [ "$MODE" = stop ]; then
  stop_left_running
  if [ -d "$DEMO" ]; then
    echo "no demo server is running now; the demo's data stays in var/demo/"
  else
    echo "there is no demo in var/demo/ (bash scripts/demo.sh --keep starts one)"
  fi
  exit 0
fi

bash scripts/setup.sh

export INTAKE_DEMO_PASSWORD=${INTAKE_DEMO_PASSWORD:-demo-secret}

stop_servers() {
  if [ -n "$SINK_PID" ] && kill -0 "$SINK_PID" 2>/dev/null; then
    kill -TERM "$SINK_PID" && wait "$SINK_PID" 2>/dev/null || true
  fi
  rm -f "$DEMO/smtpsink.pid"
  if [ -f "$DEMO/dovecot/state.json" ]; then
    "$PY" -m devservers.dovecot stop --dir "$DEMO/dovecot" || true
  fi
}

# What an earlier run left: its servers are stopped and its folder is kept under another name.
stop_left_running
if [ -e "$DEMO" ]; then
  previous=$DEMO.previous-$(date -u +%Y%m%dT%H%M%SZ)
  n=1
  while [ -e "$previous" ]; do n=$((n + 1)); previous=${previous%-[0-9]}-$n; done
  mv "$DEMO" "$previous"
  say "an earlier demo was in var/demo/: moved to ${previous#"$ROOT"/} (delete it when no longer needed)"
fi
mkdir -p "$DEMO/outbox"
if [ "$MODE" = demo ]; then
  trap stop_servers EXIT
else
  # --keep: stop them only if the demo itself fails.
  trap 'rc=$?; if [ "$rc" -ne 0 ]; then stop_servers; fi' EXIT
fi

say "starting Dovecot (user wxb0626) and the SMTP capture server under var/demo/"
"$PY" -m devservers.dovecot start --dir "$DEMO/dovecot" --user "wxb0626:$INTAKE_DEMO_PASSWORD" >"$DEMO/dovecot.json"
# In a session of its own, so that closing the terminal does not end it after --keep.
setsid "$PY" -m devservers.smtpsink --dir "$DEMO/outbox" </dev/null >"$DEMO/smtpsink.json" 2>"$DEMO/smtpsink.log" &
SINK_PID=$!
echo "$SINK_PID" >"$DEMO/smtpsink.pid"
for _ in $(seq 1 100); do
  [ -s "$DEMO/smtpsink.json" ] && break
  kill -0 "$SINK_PID" 2>/dev/null || { cat "$DEMO/smtpsink.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$DEMO/smtpsink.json" ] || { echo "the SMTP capture server did not start" >&2; exit 1; }
echo "IMAP: $(cat "$DEMO/dovecot.json")"
echo "SMTP: $(cat "$DEMO/smtpsink.json")"

say "writing var/demo/config.toml (roster and digest from config.example.toml)"
"$PY" - "$DEMO" <<'PY'
"""Write the demo configuration: the example's roster and digest, local servers, a local store."""
import json
import sys
import tomllib
from pathlib import Path

demo = Path(sys.argv[1])
example = tomllib.loads(Path("config.example.toml").read_text(encoding="utf-8"))
imap = json.loads((demo / "dovecot.json").read_text())
smtp = json.loads((demo / "smtpsink.json").read_text())
offline = next(m for m in example["mailboxes"] if m["kind"] == "offline-activity")


def value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(value(item) for item in v) + "]"
    return str(v)  # dates and times: TOML's own literal form


def table(header: str, items: dict[str, object]) -> str:
    return header + "\n" + "".join(f"{key} = {value(v)}\n" for key, v in items.items()) + "\n"


config = "# The demo's configuration, written by scripts/demo.sh. Servers and store are local.\n\n"
config += table("[store]", {"url": f"sqlite:///{demo / 'intake.db'}", "blob_dir": str(demo / "blobs")})
config += "# The local capture server: plain SMTP without login (security none).\n"
config += table(
    "[smtp]",
    {"host": smtp["host"], "port": smtp["port"], "security": "none", "sender": "wxb0626@126.com"},
)
config += "# The campaign's deadline for this mailbox, as in config.example.toml (the digest counts the days to it).\n"
config += table(
    "[[mailboxes]]",
    {
        "name": "offline-activity",
        "kind": "offline-activity",
        "address": "wxb0626@126.com",
        "host": imap["host"],
        "port": imap["port"],
        "security": "none",
        "username": "wxb0626",
        "password_env": "INTAKE_DEMO_PASSWORD",
        "folder": "INBOX",
        "poll_seconds": 60,
        "deadline": offline["deadline"],
    },
)
config += table("[digest]", example["digest"])
for unit in example["units"]:
    config += table("[[units]]", unit)
(demo / "config.toml").write_text(config, encoding="utf-8")
PY

say "delivering six submissions to the INBOX"
"$PY" - "$DEMO" <<'PY'
"""Append the demo's submissions, each as a different client writes it."""
import sys
from pathlib import Path

from devservers import samples
from devservers.dovecot import Dovecot

mail = [
    ("good report, 2 photos (Foxmail)", samples.offline_report(unit="西宁市总工会", sender="xnzgh@163.com", photos=2)),
    ("wrong subject (NetEase webmail)", samples.wrong_subject(unit="海南州总工会", sender="hnzzgh@126.com", client="netease")),
    ("unknown unit (QQ Mail)", samples.offline_report(unit="湟中区总工会", sender="1838201234@qq.com", client="qq")),
    ("no photo (Outlook)", samples.no_photo(unit="青海省建设工会", sender="qhjsgh@163.com", client="outlook")),
    ("auto-reply", samples.auto_reply(sender="hnzgh@163.com")),
    ("bounce", samples.bounce()),
]
uids = Dovecot.attach(base_dir=Path(sys.argv[1]) / "dovecot").append_many("wxb0626", [raw for _, raw in mail])
for uid, (label, raw) in zip(uids, mail):
    print(f"  UID {uid}: {label}, {len(raw):,} bytes")
# Kept for trying it yourself: 海南州总工会 sends its report again, now with the right subject.
resubmission = samples.offline_report(unit="海南州总工会", sender="hnzzgh@126.com", client="netease", photos=2)
(Path(sys.argv[1]) / "resubmission.eml").write_bytes(resubmission)
PY

INTAKE=("$ROOT/.venv/bin/intake" --config "$DEMO/config.toml")
say "intake db upgrade"
"${INTAKE[@]}" db upgrade
say "intake poll --once"
"${INTAKE[@]}" poll --once
say "intake messages"
"${INTAKE[@]}" messages

say "the replies, as the senders read them (captured in var/demo/outbox/: one .eml per message, envelope in the .json beside it)"
replies=("$DEMO"/outbox/*.eml)
if [ -e "${replies[0]}" ]; then
  "$PY" -m devservers.showmail "${replies[@]#"$ROOT"/}"
else
  echo "  none: nothing was sent to the capture server (var/demo/outbox/ is empty)"
fi

if [ "$MODE" = keep ]; then
  say "the hosts' workbench (intake web): a demo login for the province, which sees everything"
  printf '%s\n' "$WEB_PASSWORD" | "${INTAKE[@]}" users add "$WEB_USER" --role province --password-stdin
  setsid "${INTAKE[@]}" web --listen "$WEB_LISTEN" </dev/null >"$DEMO/web.log" 2>&1 &
  echo "$!" >"$DEMO/web.pid"
  "$PY" - "$WEB_LISTEN" <<'PY' || { cat "$DEMO/web.log" >&2; exit 1; }
"""Wait until the workbench answers (at most 30 s)."""
import sys
import time
import urllib.request

for _ in range(300):
    try:
        urllib.request.urlopen(f"http://{sys.argv[1]}/login", timeout=2)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the workbench did not start")
PY
  echo "  http://$WEB_LISTEN/   email $WEB_USER   password $WEB_PASSWORD"
  say "done; Dovecot, the SMTP capture server and the workbench keep running (the README's \"Try it yourself\" goes on from here)"
  cat <<EOF
  source .venv/bin/activate                  # intake on PATH (or call .venv/bin/intake)
  export INTAKE_DEMO_PASSWORD=$INTAKE_DEMO_PASSWORD       # the password var/demo/config.toml names
  intake --config var/demo/config.toml messages
  bash scripts/demo.sh --stop                # stops the servers and the workbench; var/demo/ stays
EOF
else
  say "done; the servers are being stopped (bash scripts/demo.sh --keep leaves them running)"
fi
