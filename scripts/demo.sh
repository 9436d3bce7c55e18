#!/usr/bin/env bash
# The demo: a real Dovecot holding six realistic submissions and an SMTP capture server, both on
# 127.0.0.1 under var/demo/; the intake polls once, prints its verdicts, and the replies it sent
# are listed from the capture server's outbox. Both servers are stopped at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n[demo] %s\n' "$*"; }

bash scripts/setup.sh

ROOT=$(pwd)
DEMO=$ROOT/var/demo
PY=$ROOT/.venv/bin/python
export INTAKE_DEMO_PASSWORD=${INTAKE_DEMO_PASSWORD:-demo-secret}
SINK_PID=

stop_servers() {
  if [ -n "$SINK_PID" ] && kill -0 "$SINK_PID" 2>/dev/null; then
    kill -TERM "$SINK_PID" && wait "$SINK_PID" 2>/dev/null || true
  fi
  if [ -f "$DEMO/dovecot/state.json" ]; then
    "$PY" -m devservers.dovecot stop --dir "$DEMO/dovecot" || true
  fi
}

# What an interrupted earlier run may have left running.
if [ -f "$DEMO/smtpsink.pid" ]; then
  old=$(cat "$DEMO/smtpsink.pid")
  if grep -qs devservers.smtpsink "/proc/$old/cmdline"; then kill -TERM "$old" || true; fi
fi
if [ -f "$DEMO/dovecot/state.json" ]; then "$PY" -m devservers.dovecot stop --dir "$DEMO/dovecot" || true; fi
rm -rf "$DEMO"
mkdir -p "$DEMO/outbox"
trap stop_servers EXIT

say "starting Dovecot (user wxb0626) and the SMTP capture server under var/demo/"
"$PY" -m devservers.dovecot start --dir "$DEMO/dovecot" --user "wxb0626:$INTAKE_DEMO_PASSWORD" >"$DEMO/dovecot.json"
"$PY" -m devservers.smtpsink --dir "$DEMO/outbox" >"$DEMO/smtpsink.json" 2>"$DEMO/smtpsink.log" &
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
PY

INTAKE=("$ROOT/.venv/bin/intake" --config "$DEMO/config.toml")
say "intake db upgrade"
"${INTAKE[@]}" db upgrade
say "intake poll --once"
"${INTAKE[@]}" poll --once
say "intake messages"
"${INTAKE[@]}" messages

say "replies captured in var/demo/outbox/ (one .eml per message, envelope in the .json beside it)"
"$PY" - "$DEMO/outbox" <<'PY'
"""List the captured replies with their envelope and decoded subject."""
import email
import json
import sys
from email import policy
from pathlib import Path

outbox = Path(sys.argv[1])
files = sorted(outbox.glob("*.eml"))
for path in files:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    envelope = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    print(f"  {path}")
    print(f"      to {', '.join(envelope['rcpt_tos'])}: {message['Subject']}")
if not files:
    print(f"  none: nothing was sent to the capture server ({outbox} is empty)")
PY
say "done; the servers are being stopped"
