#!/usr/bin/env bash
# Set up everything from the project's own files and run the whole test suite.
#   ./scripts/test.sh            (extra pytest arguments are passed through)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
# Browser tests drive Debian's Chromium (no browser download by Playwright).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
  fi
fi
# The exchange model's cross-check runs the reference Decide package in its own Python 3.13.
if [ -x scripts/setup-decide-venv.sh ]; then
  scripts/setup-decide-venv.sh
fi
.venv/bin/detente warmup >/dev/null   # compile the optional fast kernels once
exec .venv/bin/python -m pytest "$@"
