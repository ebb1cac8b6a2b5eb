#!/usr/bin/env bash
# Set up detente and forecast the bundled default scenario (ukraine-2025) with every model.
#   ./scripts/run-default.sh     (extra arguments go to `detente run`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[all]"
.venv/bin/detente warmup >/dev/null   # compile the optional fast kernels once
exec .venv/bin/detente run "$@"
