#!/usr/bin/env bash
# Makes what the browser tests need and prints the virtual environment's bin directory:
# Debian's chromium and the Noto CJK fonts (so Japanese pages render), and Playwright for
# Python with axe (pinned) in a virtual environment under target/. Playwright drives the
# Debian browser through its executable path; it never downloads one. Used by
# scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  echo "browser-tools.sh: installing chromium and fonts-noto-cjk (Debian packages)" >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    chromium fonts-noto-cjk fontconfig >&2
fi

venv=target/browser-tools
stamp="$venv/.pinned-1"
if [ ! -f "$stamp" ]; then
  echo "browser-tools.sh: installing Playwright and axe into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
    "playwright==1.65.3" "axe-playwright-python==0.1.8" >&2
  touch "$stamp"
fi
echo "$PWD/$venv/bin"
