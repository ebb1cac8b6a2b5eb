"""Benchmark of one round of the expected-utility model: vectorised kernels vs plain loops.

Run: ``.venv/bin/python benchmarks/bench_expected_utility.py [--quick]``.

Prints, for n = 10, 30, 100, 300, 1000 actors, the time per round of the vectorised model
(NumPy, O(n^2 log n) win probabilities) and of the plain-loop reference kept below (the
O(n^3) triple loop of the replications, in pure Python), their ratio and the peak memory
of the vectorised round. The plain loop is skipped where it would take minutes. It also
times ``solve_batch`` on 10,000 Monte Carlo draws of the emission case.

The plain-loop reference is also used by the tests as an independent implementation.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc

import numpy as np

# ------------------------------------------------------------------------------ reference


def _u(base: float, r: float) -> float:
    return 2.0 - 4.0 * max(base, 0.0) ** r


def reference_round(x, c, s, width, *, prob="paper", voter_risk=None, risk_view="perceiver",
                    Q=1.0, T=1.0, threat="received", offer_pick="least_move",
                    capitulation=True):
    """One round with plain Python loops (models.md §1.10), returning (new_x, r, mu)."""
    n = len(x)
    x = [float(v) for v in x]
    w = [float(c[k]) * float(s[k]) for k in range(n)]
    use_vr = (prob == "triples") if voter_risk is None else voter_risk

    # median voter: weighted median (lower/upper midpoint on an exact half split)
    order = sorted(range(n), key=lambda k: x[k])
    tot = sum(w) or float(n)
    ww = w if sum(w) > 0 else [1.0] * n
    half = tot / 2.0
    cum = 0.0
    lo = hi = None
    for k in order:
        cum += ww[k]
        if lo is None and cum >= half - 1e-12 * tot:
            lo = x[k]
        if hi is None and cum > half + 1e-12 * tot:
            hi = x[k]
    mu = 0.5 * (lo + hi)

    def dist(a, b):
        return abs(a - b) / width

    def probs(r):
        g = [[w[k] * dist(x[k], x[a]) ** r[k] for a in range(n)] for k in range(n)]
        mass = [[0.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                if x[i] == x[j]:
                    continue
                tot_ = 0.0
                for k in range(n):
                    v = g[k][j] - g[k][i]
                    if v > 0 and not (prob == "exclude_ij" and k in (i, j)):
                        tot_ += v
                mass[i][j] = tot_
        p = [[0.0] * n for _ in range(n)]
        if prob == "triples":
            den = 0.0
            for k in range(n):
                for a in range(n):
                    for b in range(n):
                        den += abs(g[k][a] - g[k][b])
            for i in range(n):
                for j in range(n):
                    p[i][j] = mass[i][j] / den if den > 0 else 0.0
            return p
        for i in range(n):
            for j in range(n):
                den = mass[i][j] + mass[j][i]
                if den <= 0:
                    p[i][j] = 0.0 if prob == "net" else 0.5
                elif prob == "net":
                    p[i][j] = max(0.0, mass[i][j] - mass[j][i]) / den
                else:
                    p[i][j] = mass[i][j] / den
        return p

    def eu(i, j, p, r):
        d = dist(x[i], x[j])
        dm = dist(x[i], mu)
        us = _u(0.5 - 0.5 * d, r)
        uf = _u(0.5 + 0.5 * d, r)
        usq = _u(0.5, r)
        ub = _u(0.5 - 0.25 * (dm + d), r)
        uw = _u(0.5 + 0.25 * (dm + d), r)
        chal = s[j] * (p[i][j] * us + (1 - p[i][j]) * uf) + (1 - s[j]) * us
        return chal - (Q * usq + (1 - Q) * (T * ub + (1 - T) * uw))

    ones = [1.0] * n
    p1 = probs(ones)
    th = [0.0] * n
    for i in range(n):
        for j in range(n):
            if i != j:
                if threat == "received":
                    th[i] += eu(j, i, p1, 1.0)
                else:
                    th[i] += eu(i, j, p1, 1.0)
    tmax, tmin = max(th), min(th)
    r = []
    for i in range(n):
        if tmax - tmin <= 1e-12 * max(abs(tmax), abs(tmin), 1e-300):
            r.append(1.0)
        else:
            big = (2 * th[i] - tmax - tmin) / (tmax - tmin)
            r.append((1 - big / 3) / (1 + big / 3))
    p = probs(r) if use_vr else p1
    new = list(x)
    for i in range(n):
        offers = []  # (kind, target, A, B, x_j)
        for j in range(n):
            if x[i] == x[j]:
                continue
            a = eu(i, j, p, r[i])
            b = eu(j, i, p, r[i] if risk_view == "perceiver" else r[j])
            if b <= 0:
                continue
            if a > 0 and b > a:
                offers.append(("conflict", x[j], a, b, x[j]))
            elif a < 0 and b > -a:
                offers.append(("compromise", x[i] + (x[j] - x[i]) * (-a / b), a, b, x[j]))
            elif a < 0 and capitulation:
                offers.append(("capitulation", x[j], a, b, x[j]))
        if not offers:
            continue

        def move(o, xi=x[i]):
            return abs(o[1] - xi)

        if offer_pick == "least_move":
            best = min(offers, key=lambda o: (move(o), -o[3], o[1]))
        elif offer_pick == "max_sender_eu":
            best = min(offers, key=lambda o: (-o[3], move(o), o[1]))
        else:
            conf = [o for o in offers if o[0] == "conflict"]
            comp = [o for o in offers if o[0] == "compromise"]
            if conf:
                best = min(conf, key=lambda o: (move(o), o[1]))
            elif comp:
                best = min(comp, key=lambda o: (
                    (abs(o[2]) * x[i] + abs(o[3]) * o[4]) / (abs(o[2]) + abs(o[3])), o[1]))
            else:
                best = min(offers, key=lambda o: (move(o), o[1]))
        new[i] = best[1]
    return new, r, mu


# ------------------------------------------------------------------------------ benchmark


def _scenario(n: int, rng: np.random.Generator):
    x = rng.uniform(0, 100, n).round(1)
    c = rng.uniform(0.1, 1.0, n)
    s = rng.uniform(0.1, 1.0, n)
    return x, c, s


def _time(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only n = 10, 30, 100")
    ap.add_argument("--prob", default="triples", choices=["paper", "net", "exclude_ij",
                                                          "triples"])
    args = ap.parse_args(argv)
    from detente.models.expected_utility import EUParams, compute_round, solve_batch

    prm = EUParams(prob=args.prob)
    sizes = [10, 30, 100] if args.quick else [10, 30, 100, 300, 1000]
    loop_limit = 300  # beyond this the pure-Python O(n^3) loop takes minutes per round
    rng = np.random.default_rng(1)
    print(f"expected_utility: one round, prob={args.prob} (voters use r_k: "
          f"{prm.uses_voter_risk}), best of several runs")
    print(f"{'n':>6} {'vectorised s':>14} {'plain loop s':>14} {'ratio':>10} {'peak MB':>9}")
    for n in sizes:
        x, c, s = _scenario(n, rng)
        compute_round(x, c, s, 100.0, prm)  # warm-up
        rep = 5 if n <= 100 else 2
        tv = _time(lambda: compute_round(x, c, s, 100.0, prm), rep)  # noqa: B023
        tracemalloc.start()
        compute_round(x, c, s, 100.0, prm)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        if n <= loop_limit:
            tl = _time(lambda: reference_round(x, c, s, 100.0, prob=args.prob), 1)  # noqa: B023
            print(f"{n:>6} {tv:>14.5f} {tl:>14.4f} {tl / tv:>10.1f} {peak:>9.1f}")
        else:
            est = tl * (n / loop_limit) ** 3 if n > loop_limit else float("nan")
            print(f"{n:>6} {tv:>14.5f} {'skipped':>14} {'~' + format(est / tv, '.0f'):>10} "
                  f"{peak:>9.1f}   (plain loop skipped: ~{est:,.0f} s estimated from "
                  f"n={loop_limit} x (n/{loop_limit})^3)")
    # Monte Carlo batch of the emission case
    x0 = np.array([4, 7, 4, 4, 10, 10, 10, 7, 4, 7.0])
    c0 = np.array([.08, .08, .03, .16, .16, .16, .16, .05, .05, .08])
    s0 = np.array([.8, .4, .2, .8, .6, .6, .9, .1, 1.0, .7])
    bsz = 10_000
    draws = np.clip(s0 + rng.normal(0, 0.05, (bsz, 10)), 0, 1)
    for preset in ("scholz", "paper"):
        t0 = time.perf_counter()
        res = solve_batch(np.broadcast_to(x0, (bsz, 10)), c0, draws, width=6.0,
                          params={"preset": preset})
        dt = time.perf_counter() - t0
        print(f"solve_batch {bsz} draws of the emission case, preset {preset}: {dt:.2f} s "
              f"(median forecast 10.0 in {np.mean(np.isclose(res.outcome, 10)):.0%}, 7.0 in "
              f"{np.mean(np.isclose(res.outcome, 7)):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
