"""Monte Carlo throughput: draws per second per model, and scaling from 1 to 2 workers.

Cases: the emission case (built here from ``cases/case_actors.csv``, case emission_bdm1994:
ten EC members, scale 4..10 years, saliences 0-100, capability shares) and the bundled
``ukraine-2025``. Models: compromise, expected_utility and spatial (those registered).
Inputs are perturbed by the default prior (position sd 5 % of the scale, salience sd 10
points, capability x LogNormal(0, 0.2)). One worker = the serial executor in this process;
two workers = a process pool opened once and warmed up (imports, numba caches) before
timing, so the times are the draws themselves; numba kernels run single-threaded in both
(the parallelism is the workers). Each timed run is checked to give the same ensemble on 1
and 2 workers. Other processes on the machine inflate wall times: the CPU-seconds columns
(this process for 1 worker; the pool's workers, from /proc, for 2) show the cost itself, and
wall time approaches CPU s / 2 on two idle cores.

Targets (issue 10): 10,000 expected-utility draws of the emission case in under 2 s and of
ukraine-2025 in under 30 s on 2 cores. Peer reference (the fastest open Python BDM engine):
20.5 s for 10,000 expected-utility draws of the emission case, 1.5 s for 10,000 compromise
draws.

Usage::

    python benchmarks/bench_montecarlo.py                 # 10,000 draws (spatial: 1,000)
    python benchmarks/bench_montecarlo.py --draws 2000 --spatial-draws 200
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from detente.models.registry import available_models
from detente.scenario.load import load_scenario
from detente.scenario.schema import Scenario
from detente.simulate.executors import open_executor
from detente.simulate.montecarlo import montecarlo

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {("emission_bdm1994", "expected_utility"): 2.0,
           ("ukraine-2025", "expected_utility"): 30.0}
PEER = {("emission_bdm1994", "expected_utility"): 20.5,
        ("emission_bdm1994", "compromise"): 1.5}


def shared_data() -> Path:
    env = os.environ.get("DETENTE_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data",
                                                 ROOT / "shared" / "data"]:
        if cand.is_dir():
            return cand
    sys.exit("shared data not found; set DETENTE_SHARED_DATA")


def emission_case() -> Scenario:
    """The emission case straight from the cases table (no importer involved)."""
    path = shared_data() / "cases" / "case_actors.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["case_id"] == "emission_bdm1994"]
    if not rows:
        sys.exit(f"{path}: no rows for emission_bdm1994")
    return Scenario(
        id="emission_bdm1994", name="EC car emission standards (BDM 1994)",
        issues=[{"id": "delay", "name": "Years of delay", "scale_min": 4, "scale_max": 10}],
        actors=[{"id": r["actor_id"], "name": r["actor_name"],
                 "capability": float(r["capability"])} for r in rows],
        stances=[{"actor": r["actor_id"], "issue": "delay", "position": float(r["position"]),
                  "salience": float(r["salience"])} for r in rows],
    )


def _numba_threads(k: int | None) -> int | None:
    """Set numba's thread count in this process (its kernels may use prange); returns the
    previous one. One worker means one thread: the 2-worker pool pins its workers to one."""
    try:
        import numba
    except ImportError:
        return None
    prev = numba.get_num_threads()
    if k is not None:
        numba.set_num_threads(k)
    return prev


def _cpu(handle) -> float:
    """CPU seconds (user + system) used so far by this process or by the pool's workers
    (Linux /proc), so contention from other programs can be told apart from cost."""
    procs = getattr(handle.executor, "_processes", None)
    if not procs:
        return time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in list(procs):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return float("nan")
    return total


def timed(sc: Scenario, model: str, n: int, handle) -> tuple[float, float, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        montecarlo(sc, [model], n=min(n, 64), seed=99, executor=handle)  # warm-up
        c0 = _cpu(handle)
        t0 = time.perf_counter()
        r = montecarlo(sc, [model], n=n, seed=1, executor=handle)
        dt = time.perf_counter() - t0
        cpu = _cpu(handle) - c0
    return dt, cpu, r.outcome


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--spatial-draws", type=int, default=1_000,
                    help="draws for the (per-draw, unbatched) spatial model; its 10,000-draw "
                         "time is extrapolated from the measured rate")
    ap.add_argument("--models", nargs="*", default=["compromise", "expected_utility",
                                                     "spatial"])
    args = ap.parse_args()
    registered = set(available_models())
    models = [m for m in args.models if m in registered]
    cases = [emission_case(), load_scenario("ukraine-2025")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"detente Monte Carlo benchmark: {os.cpu_count()} CPUs visible, load average "
          f"{load:.1f} at start, default prior, seed 1\n")
    head = (f"{'case':<17} {'model':<17} {'draws':>6} {'1 worker s':>10} {'2 workers s':>11} "
            f"{'draws/s (2w)':>12} {'speedup':>7} {'10k est. s':>10} {'CPU s 1w':>8} "
            f"{'CPU s 2w':>8} {'same':>5}  note")
    print(head)
    print("-" * len(head))
    with open_executor("serial") as one, open_executor("process", 2) as two:
        for sc in cases:
            for model in models:
                n = args.spatial_draws if model == "spatial" else args.draws
                prev = _numba_threads(1)
                try:
                    t1, c1, o1 = timed(sc, model, n, one)
                finally:
                    _numba_threads(prev)
                t2, c2, o2 = timed(sc, model, n, two)
                same = np.array_equal(o1, o2, equal_nan=True)
                est = t2 * 10_000 / n
                note = []
                tgt = TARGETS.get((sc.id, model))
                if tgt is not None:
                    note.append(f"target < {tgt:g} s: {'met' if est < tgt else 'MISSED'}")
                peer = PEER.get((sc.id, model))
                if peer is not None:
                    note.append(f"peer {peer:g} s")
                if n != 10_000:
                    note.append("10k extrapolated")
                print(f"{sc.id:<17} {model:<17} {n:>6} {t1:>10.2f} {t2:>11.2f} "
                      f"{n / t2:>12,.0f} {t1 / t2:>7.2f} {est:>10.2f} {c1:>8.2f} {c2:>8.2f} "
                      f"{'yes' if same else 'NO':>5}  {'; '.join(note)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
