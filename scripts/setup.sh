#!/usr/bin/env bash
# Install what the project needs on Debian 12, as root: the Debian packages and the .venv.
# Idempotent: installs only what is missing; run it from anywhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[setup] %s\n' "$*"; }

# dovecot-imapd, openssl: devservers.dovecot · postgresql: scripts/test.sh · libmediainfo0v5,
# libmagic1, ffmpeg, unar, libarchive-tools: attachment checks (RAR members, loudness) and tests · mutt: sample mail ·
# chromium, chromium-l10n: looking at the rendered HTML replies, the workbench's browser test (its zh-CN locale).
PACKAGES=(dovecot-imapd libmediainfo0v5 libmagic1 ffmpeg mutt unar libarchive-tools chromium chromium-l10n fonts-wqy-microhei postgresql openssl)

if ! command -v python3 >/dev/null; then
  PACKAGES+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  PACKAGES+=(python3-venv)  # Debian's own python3 ships venv's pip bootstrap separately
fi

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  mkdir -p var
  log=var/setup-apt.log
  say "apt-get install ${missing[*]} (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
  if ! { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "apt-get failed; see $log" >&2
    exit 1
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  say "python3 is $(python3 -V 2>&1); 3.11 or later is needed" >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $(command -v python3) ($(python3 -V 2>&1))"
  python3 -m venv .venv
fi

# pip runs again only when pyproject.toml or constraints.txt changed since the last successful
# install. constraints.txt pins every version (pyproject.toml keeps the ranges).
stamp=.venv/.setup-stamp
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  mkdir -p var
  log=var/setup-pip.log
  say "pip install -c constraints.txt -e '.[dev]' (log: $log)"
  if ! .venv/bin/python -m pip install --disable-pip-version-check -c constraints.txt -e '.[dev]' >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "pip install failed; see $log" >&2
    exit 1
  fi
  printf '%s\n' "$want" >"$stamp"
fi
say "ready"
