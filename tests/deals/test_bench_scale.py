"""The deal-search benchmark's scenario runs well under its 5 s budget."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from detente.deals.search import search_deals

ROOT = Path(__file__).resolve().parents[2]


def test_search_10_issues_20_actors_5_ratifiers_under_5s():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" /
                                                  "bench_deal_search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    s = bench.build(0)
    t = time.perf_counter()
    res = search_deals(s, n_samples=20000, rng=0)
    assert time.perf_counter() - t < 5
    assert res.feasible and len(res.by_nash) == 3
    assert all(p["robustness"] >= 0 for p in res.by_nash)
