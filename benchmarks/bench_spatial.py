"""Benchmark the spatial model (KTAB SMP) against KTAB's measured times.

KTAB's pure-model times on 2 cores (ktab_smp.md, head): 13x2 0.55 s, 27x6 3.7 s, 30x3 5.8 s,
50x3 41 s, 80x1 151 s (worst of repeats). Shipped inputs are used where the size exists
(SOE-Pol-Comp 13x2, dummyData_6Dim 27x6, dummyData-a080 80x1); 30x3 and 50x3 are random
scenarios drawn like KTAB's ``--euSMP`` generator (capability U[10, 200], total salience
U[0.75, 0.99] split by U[0.1, 1] weights, positions U[0, 100]).

Usage: python benchmarks/bench_spatial.py [--repeat 3] [--data DIR]
Prints size, turns, seconds (best of repeats, to convergence, ktab preset, whole
``forecast`` call), the ratio to KTAB's figure, the same two for the NumPy-only path (the
fallback without ``detente[fast]``) and the peak resident memory. The compiled kernel is
loaded (or compiled) before timing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from detente.errors import NotConvergedWarning
from detente.models.spatial import SpatialModel
from detente.models.spatial_kernel import numba_available, use_backend, warm_up
from detente.scenario.importers.ktab import read_ktab_csv
from detente.scenario.schema import Actor, Issue, Scenario, Stance

KTAB_SECONDS = {(13, 2): 0.55, (27, 6): 3.7, (30, 3): 5.8, (50, 3): 41.0, (80, 1): 151.0}
SHIPPED = {(13, 2): "SOE-Pol-Comp.csv", (27, 6): "dummyData_6Dim.csv",
           (80, 1): "dummyData-a080.csv"}


def random_scenario(n: int, k: int, seed: int) -> Scenario:
    """A random scenario drawn like KTAB's ``smpc --euSMP``."""
    rng = np.random.default_rng(seed)
    issues = tuple(Issue(id=f"d{d}", name=f"Dim {d}") for d in range(k))
    actors, stances = [], []
    for i in range(n):
        actors.append(Actor(id=f"a{i:03d}", name=f"A{i:03d}",
                            capability=float(rng.uniform(10, 200))))
        total = rng.uniform(0.75, 0.99)
        w = rng.uniform(0.1, 1.0, size=k)
        sal = total * w / w.sum() * 100
        for d in range(k):
            stances.append(Stance(actor=f"a{i:03d}", issue=f"d{d}",
                                  position=float(rng.uniform(0, 100)), salience=float(sal[d])))
    return Scenario(id=f"rand-{n}x{k}-s{seed}", name=f"random {n}x{k}", issues=issues,
                    actors=tuple(actors), stances=tuple(stances))


def _data_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("DETENTE_SHARED_DATA")
    root = Path(__file__).resolve().parents[1]
    for cand in ([Path(env)] if env else []) + [root.parent / "shared" / "data",
                                                 root / "shared" / "data"]:
        if (cand / "ktab" / "inputs").is_dir():
            return cand / "ktab" / "inputs"
    return root / "src" / "detente" / "data" / "ktab"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--data", default=None, help="directory of KTAB inputs")
    args = ap.parse_args(argv)
    data = _data_dir(args.data)
    full = SpatialModel(preset="ktab")  # every turn's bargains and reasons recorded
    lean = SpatialModel(preset="ktab", record="positions")  # like KTAB with logging off
    fast = numba_available()
    if fast:
        warm_up()
    print("KTAB's times are pure model time with logging off; 'positions' records what KTAB "
          "then keeps,\n'full' also every bargain and the reason each actor moved.")
    print(f"{'size':>6} {'source':<22} {'turns':>5} {'positions s':>11} {'speed-up':>9} "
          f"{'full s':>8} {'speed-up':>9} {'KTAB s':>7} {'numpy s':>8} {'numpy x':>8}")
    worst = float("inf")

    def timed(sc: Scenario, backend: str, model: SpatialModel) -> tuple[float, int]:
        best, turns = float("inf"), 0
        with use_backend(backend):
            for _ in range(max(1, args.repeat)):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", NotConvergedWarning)
                    fc = model.forecast(sc)
                best = min(best, time.perf_counter() - t0)
                turns = fc.n_rounds
        return best, turns

    for (n, k), ktab_s in KTAB_SECONDS.items():
        f = data / SHIPPED[(n, k)] if (n, k) in SHIPPED else None
        if f is not None and f.is_file():
            sc, src = read_ktab_csv(f), f.name
        else:
            sc, src = random_scenario(n, k, seed=42), "random (seed 42)"
        backend = "numba" if fast else "numpy"
        best, turns = timed(sc, backend, lean)
        full_best, full_turns = timed(sc, backend, full)
        np_best, np_turns = timed(sc, "numpy", full)
        assert np_turns == turns == full_turns
        ratio = ktab_s / best
        worst = min(worst, ratio)
        print(f"{n:>3}x{k:<2} {src:<22} {turns:>5} {best:>11.4f} {ratio:>8.0f}x "
              f"{full_best:>8.4f} {ktab_s / full_best:>8.0f}x {ktab_s:>7.2f} "
              f"{np_best:>8.4f} {ktab_s / np_best:>7.0f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(f"peak memory {peak:.0f} MB; smallest speed-up (positions, as KTAB measures) "
          f"{worst:.0f}x (target >= 100x); "
          f"{'numba kernel' if fast else 'numba not installed: NumPy only'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
