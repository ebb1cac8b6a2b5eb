#!/usr/bin/env bash
# Create .venv-decide: a separate Python 3.13 virtualenv holding the reference
# `decide-exchange-model` package (GPL-3.0), used ONLY by the exchange-model cross-check
# (tests/models/test_exchange_crosscheck.py) and benchmarks/bench_exchange.py. detente never
# imports it. Usage: scripts/setup-decide-venv.sh [python3.13]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${1:-${DECIDE_PYTHON313:-}}"
if [ -z "$PY" ]; then
  for cand in /root/.pyenv/versions/3.13.0/bin/python3.13 "$(command -v python3.13 || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ]; then PY="$cand"; break; fi
  done
fi
if [ -z "$PY" ]; then
  echo "setup-decide-venv: no python3.13 found (Decide needs Python >= 3.13)" >&2
  exit 1
fi
if [ ! -x "$ROOT/.venv-decide/bin/python" ]; then
  "$PY" -m venv "$ROOT/.venv-decide"
fi
"$ROOT/.venv-decide/bin/python" -m pip install --quiet "decide-exchange-model>=2025.3.1"
"$ROOT/.venv-decide/bin/python" -c "import decide.model.equalgain; print('decide ready')"
