"""Benchmark: detente's ExchangeModel against the reference Decide package.

Generates Decide input files of 10, 30 and 60 actors x 5, 10 and 20 issues (random positions,
saliences and powers, seeded), runs Decide in its own venv (``scripts/setup-decide-venv.sh``)
through ``tests/crosscheck/decide_driver.py`` timing only its model rounds (not process start,
imports or file parsing), runs detente's default model and its ``decide`` preset on the same
file, and prints the times and ratios. Both run the same number of rounds (default 10).

    .venv/bin/python benchmarks/bench_exchange.py [--rounds 10] [--sizes 10x5,30x10,60x20]
        [--decide-timeout 1800] [--skip-decide]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crosscheck.harness import decide_python, run_decide  # noqa: E402

from detente.models.exchange import ExchangeModel  # noqa: E402
from detente.scenario.importers.decide import read_decide  # noqa: E402


def make_file(path: Path, n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [f"'#A'\t'a{i}'\t'a{i}'\t''" for i in range(n)]
    for k in range(m):
        rows += [f"'#P'\t'i{k}'\t'i{k}'\t''", f"'#M'\t'i{k}'\t0", f"'#M'\t'i{k}'\t100"]
    pos = np.round(rng.uniform(0, 100, (n, m)), 2)
    sal = np.round(rng.uniform(0.1, 1.0, (n, m)), 3)
    cap = np.round(rng.uniform(0.05, 1.0, n), 3)
    for i in range(n):
        for k in range(m):
            rows.append(f"'#D'\t'a{i}'\t'i{k}'\t{pos[i, k]}\t{sal[i, k]}\t{cap[i]}")
    path.write_text("\n".join(rows) + "\n")


def time_detente(path: Path, rounds: int, preset: str | None) -> tuple[float, float]:
    s = read_decide(path)
    stop = {"max_rounds": rounds, "tol": 0.0, "patience": 1, "detect_cycles": False}
    m = ExchangeModel(preset=preset, stop=stop) if preset else ExchangeModel(stop=stop)
    best = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not preset:
            m.forecast(s, rng=0)  # warm-up (numba compilation is cached on disk)
        for _ in range(1 if preset else 3):
            t = time.process_time()  # CPU time: robust to other load on shared machines
            m.forecast(s, rng=0)
            best = min(best, time.process_time() - t)
    return best, 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--sizes", default="10x5,10x10,10x20,30x5,30x10,30x20,60x5,60x10,60x20")
    ap.add_argument("--decide-timeout", type=float, default=3600)
    ap.add_argument("--skip-decide", action="store_true")
    ap.add_argument("--preset-sizes", default="10x5,10x10,30x5",
                    help="sizes on which to time the decide preset too (an exact Decimal "
                         "emulation of Decide, about as slow as Decide; 'none' to skip)")
    args = ap.parse_args()
    have_decide = decide_python() is not None and not args.skip_decide
    print(f"rounds={args.rounds}; Decide: {'yes' if have_decide else 'not run'}")
    print("times in CPU seconds: detente best of 3; Decide its model rounds only")
    hdr = f"{'size':>7} {'detente s':>10} {'decide-preset s':>16} {'Decide s':>10} " \
          f"{'ratio':>8} {'ratio(preset)':>14}"
    print(hdr)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            n, m = (int(v) for v in size.split("x"))
            f = Path(tmp) / f"bench_{n}x{m}.csv"
            make_file(f, n, m, seed=n * 100 + m)
            t_def, _ = time_detente(f, args.rounds, None)
            t_dec = float("nan")
            if size in args.preset_sizes.split(","):
                t_dec, _ = time_detente(f, args.rounds, "decide")
            t_ref = float("nan")
            if have_decide:
                try:
                    d = run_decide(f, rounds=args.rounds, seed=0, timeout=args.decide_timeout)
                    t_ref = d["model_time"]
                except Exception as exc:  # noqa: BLE001 - report and go on
                    print(f"  Decide failed on {size}: {str(exc)[:200]}")
            print(f"{size:>7} {t_def:10.3f} {t_dec:16.3f} {t_ref:10.2f} "
                  f"{t_ref / t_def:8.0f}x {t_ref / t_dec:13.0f}x", flush=True)


if __name__ == "__main__":
    main()
