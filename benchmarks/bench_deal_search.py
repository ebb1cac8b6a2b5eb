"""Deal search at scale: 10 issues, 20 actors, 5 ratifiers per principal, under 5 s.

Run: .venv/bin/python benchmarks/bench_deal_search.py [--seed N] [--samples N]
Prints the wall time of building the game and searching, and whether a deal was found.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from detente.deals.search import search_deals
from detente.scenario.schema import Scenario


def build(seed: int = 0, n_issues: int = 10, n_actors: int = 20, n_principals: int = 4,
          n_ratifiers: int = 5) -> Scenario:
    rng = np.random.default_rng(seed)
    issues = [{"id": f"i{k}", "name": f"issue {k}", "status_quo": float(rng.uniform(30, 70))}
              for k in range(n_issues)]
    actors = [{"id": f"a{j}", "name": f"actor {j}", "capability": float(rng.uniform(10, 100))}
              for j in range(n_actors)]
    stances = [{"actor": f"a{j}", "issue": f"i{k}", "position": float(rng.uniform(0, 100)),
                "salience": float(rng.uniform(10, 100))}
               for j in range(n_actors) for k in range(n_issues)]
    ratification = []
    for p in range(n_principals):
        rats = []
        for r in range(n_ratifiers):
            rats.append({"id": f"a{p}-r{r}", "weight": float(rng.uniform(0.5, 2)),
                         "veto": r == 0,
                         "ideal": {f"i{k}": float(rng.uniform(0, 100))
                                   for k in range(n_issues)},
                         "salience": {f"i{k}": float(rng.uniform(5, 40))
                                      for k in range(n_issues)},
                         "cost": float(rng.uniform(0.3, 0.8))})
        ratification.append({"principal": f"a{p}", "rule": "quota", "quota": 0.5,
                             "ratifiers": rats})
    return Scenario(id="bench", name="bench", issues=issues, actors=actors, stances=stances,
                    ratification=ratification,
                    conflict={"issue": "i0", "sides": ["a0", "a1"], "front_line": 50},
                    dynamics=[{"actor": "a0", "monthly_cost": 0.01, "drift": 0.5},
                              {"actor": "a1", "monthly_cost": 0.01, "drift": -0.5}])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--principals", type=int, default=4,
                    help="actors with a ratification block (up to 20)")
    args = ap.parse_args()
    s = build(args.seed, n_principals=args.principals)
    t0 = time.perf_counter()
    res = search_deals(s, n_samples=args.samples, horizon=args.horizon, rng=args.seed)
    dt = time.perf_counter() - t0
    print(f"10 issues x 20 actors, {len(res.principals)} principals x (5 ratifiers + leader): "
          f"{dt:.2f} s; "
          f"feasible={res.feasible}, ratified candidates={res.n_feasible}/{res.n_candidates}"
          + ("" if res.feasible else f", first month={res.first_month}"))
    if res.feasible:
        best = res.by_nash[0]
        print(f"best log Nash product {best['nash']:.4f}, robustness {best['robustness']:.4f}")
    else:
        print("binding:", res.binding["summary"])
    print("PASS" if dt < 5 else "FAIL: over 5 s")


if __name__ == "__main__":
    main()
