"""Benchmark: detente's ExchangeModel against the reference Decide package.

Generates Decide input files of 10, 30 and 60 actors x 5, 10 and 20 issues (random positions,
saliences and powers, seeded), runs Decide in its own venv (``scripts/setup-decide-venv.sh``)
through ``tests/crosscheck/decide_driver.py`` timing only its model rounds (not process start,
imports or file parsing), runs detente's default model and its ``decide`` preset on the same
file, and prints the times and ratios. Both run the same number of rounds (default 10).

Random rate (``random_rate=p``): times the compiled loop (numba) against the NumPy path, both
measured in this run, on the generated files (``--random-sizes``) and on the DEU development
proposals (``--deu-seeds`` seeds each, as the Monte Carlo use runs them), checks that both give
the same forecasts and prints the ratio. ``--random-only`` skips the Decide table.

    .venv/bin/python benchmarks/bench_exchange.py [--rounds 10] [--sizes 10x5,30x10,60x20]
        [--decide-timeout 1800] [--skip-decide] [--random-only] [--random-rate 0.5]
        [--random-sizes 10x5,30x10,60x20] [--deu-seeds 10]
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

from tests.conftest import SHARED_DATA  # noqa: E402
from tests.crosscheck.harness import decide_python, run_decide  # noqa: E402

from detente.models import _exchange_engine as engine  # noqa: E402
from detente.models import _exchange_numba as nb  # noqa: E402
from detente.models.exchange import ExchangeModel  # noqa: E402
from detente.scenario.importers.decide import read_decide  # noqa: E402
from detente.scenario.schema import Scenario  # noqa: E402


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


def time_runs(scenarios: list[Scenario], model: ExchangeModel, seeds: int, *,
              compiled: bool, repeat: int) -> tuple[float, list[np.ndarray]]:
    """CPU seconds of forecasting every scenario with seeds 0..seeds-1 (best of ``repeat``)
    on the compiled loop or the NumPy path, and the forecasts' positions."""
    old = engine.USE_NUMBA
    engine.USE_NUMBA = compiled
    best = float("inf")
    out: list[np.ndarray] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if compiled:
                model.forecast(scenarios[0], rng=0)  # warm-up (compilation cached on disk)
            for _ in range(repeat):
                out = []
                t = time.process_time()
                for s in scenarios:
                    for seed in range(seeds):
                        out.append(model.forecast(s, rng=seed).positions)
                best = min(best, time.process_time() - t)
    finally:
        engine.USE_NUMBA = old
    return best, out


def random_rate_table(args: argparse.Namespace, tmp: Path) -> None:
    p = args.random_rate
    print(f"\nrandom rate p={p}: compiled loop vs NumPy path, both measured in this run "
          "(CPU s; compiled best of 3, NumPy path 1 run; equal gain p=0 compiled for scale)")
    if not nb.AVAILABLE:
        print("  numba is not installed (detente[fast]): nothing to compare")
        return
    print(f"{'input':>24} {'p=0 compiled':>13} {'compiled':>9} {'NumPy path':>11} "
          f"{'ratio':>7} {'identical':>10}")
    cases: list[tuple[str, list[Scenario], int, dict]] = []
    stop = {"max_rounds": args.rounds, "tol": 0.0, "patience": 1, "detect_cycles": False}
    for size in [v for v in args.random_sizes.split(",") if v and v != "none"]:
        n, m = (int(v) for v in size.split("x"))
        f = tmp / f"bench_{n}x{m}.csv"
        make_file(f, n, m, seed=n * 100 + m)
        cases.append((f"{size}, 1 seed", [read_decide(f)], 1, {"stop": stop}))
    deu = SHARED_DATA / "deu" / "deu_dev.csv"
    if args.deu_seeds > 0 and deu.exists():
        from detente.scenario.importers.deu import read_deu

        props = read_deu(deu, by="proposal")
        cases.append((f"DEU {len(props)} proposals x {args.deu_seeds}", props, args.deu_seeds,
                      {}))  # the model's default stopping rule, as the backtest runs it
    for label, scs, seeds, kw in cases:
        t_eq, _ = time_runs(scs, ExchangeModel(**kw), seeds, compiled=True, repeat=3)
        model = ExchangeModel(random_rate=p, **kw)
        t_c, a = time_runs(scs, model, seeds, compiled=True, repeat=3)
        t_py, b = time_runs(scs, model, seeds, compiled=False, repeat=1)
        same = all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))
        print(f"{label:>24} {t_eq:13.3f} {t_c:9.3f} {t_py:11.3f} {t_py / t_c:6.1f}x "
              f"{'yes' if same else 'NO':>10}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--sizes", default="10x5,10x10,10x20,30x5,30x10,30x20,60x5,60x10,60x20")
    ap.add_argument("--decide-timeout", type=float, default=3600)
    ap.add_argument("--skip-decide", action="store_true")
    ap.add_argument("--preset-sizes", default="10x5,10x10,30x5",
                    help="sizes on which to time the decide preset too (an exact Decimal "
                         "emulation of Decide, about as slow as Decide; 'none' to skip)")
    ap.add_argument("--random-only", action="store_true",
                    help="only the random-rate table (compiled vs NumPy path)")
    ap.add_argument("--random-rate", type=float, default=0.5)
    ap.add_argument("--random-sizes", default="10x5,30x10,60x20",
                    help="generated sizes for the random-rate table ('none' to skip)")
    ap.add_argument("--deu-seeds", type=int, default=10,
                    help="seeds per DEU proposal in the random-rate table (0 to skip)")
    args = ap.parse_args()
    if args.random_only:
        with tempfile.TemporaryDirectory() as tmp:
            random_rate_table(args, Path(tmp))
        return
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
        random_rate_table(args, Path(tmp))


if __name__ == "__main__":
    main()
