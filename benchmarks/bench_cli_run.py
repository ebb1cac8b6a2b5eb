"""How long `detente run` takes on the bundled default scenario, against baselines measured
in the same run (Python start-up, `detente --help`) and the 5-second budget of issue 2.

    .venv/bin/python benchmarks/bench_cli_run.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
BUDGET_S = 5.0


def timed(cmd: list[str], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    detente = str(BIN / "detente")
    cases = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        ("detente --help", [detente, "--help"]),
        ("detente run (ukraine-2025, every model)", [detente, "run", "--no-store"]
         if _has_no_store(detente) else [detente, "run"]),
        ("detente run --format json", [detente, "run", "--format", "json"]),
    ]
    subprocess.run(cases[2][1], check=True, capture_output=True)  # warm caches (numba, pyc)
    base = None
    print(f"{'command':45s} {'median s':>9s} {'max s':>7s} {'x python':>9s} {'/ budget':>9s}")
    for label, cmd in cases:
        med, worst = timed(cmd, args.repeats)
        base = base or med
        print(f"{label:45s} {med:9.3f} {worst:7.3f} {med / base:9.1f} {worst / BUDGET_S:9.2f}")
    print(f"budget: {BUDGET_S:.0f} s for `detente run` once installed (issue 2)")


def _has_no_store(detente: str) -> bool:
    out = subprocess.run([detente, "run", "--help"], capture_output=True, text=True)
    return "--no-store" in out.stdout


if __name__ == "__main__":
    main()
