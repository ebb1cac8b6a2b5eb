"""Competing views: the same models on several readings of one negotiation, where their
forecasts differ and which inputs cause it.

Two scenario variants (e.g. ``ukraine-2025`` and ``ukraine-2025-alt``) share issues but may
code positions, saliences, capabilities, the actor set or war dynamics differently. For each
model and issue, :func:`compare` reports the forecast under every variant and the difference
from the reference (the first variant), then *attributes* the difference to groups of
inputs.

Attribution method (Shapley decomposition over input groups)
------------------------------------------------------------
Let A be the reference and B a variant, and G the input groups (``by="kind"``: positions,
saliences, capabilities, the actor set / stances present, status quo, and dynamics for
models that read them; ``by="actor"``: everything about one actor). For a subset S of G, the
*hybrid* scenario takes the inputs of the groups in S from B and the rest from A; f(S) is a
model's forecast on it, so f(empty) is A's forecast and f(G) is B's. A group's contribution
is its Shapley value, the average over every order of swapping the groups one at a time
from A to B of the change that group's swap makes::

    phi_g = sum over S not containing g of |S|! (|G| - |S| - 1)! / |G|! * (f(S + g) - f(S))

The contributions add up exactly to f(G) - f(empty) = B - A, whatever the interactions, and
do not depend on an arbitrary order. Also reported: each group's effect swapped *alone*
(f({g}) - f(empty)); where alone and Shapley differ, the group matters through interactions
with others. With more than ``exact_limit`` groups the average runs over ``permutations``
random orders (seeded) instead of all of them.

Hybrids are built on the arrays (actors aligned by id; an actor in one variant only is part
of the actor-set group), so they cost one batched model run per distinct actor set. Models
that read the full scenario (e.g. Nash with a war disagreement point) run on hybrid
scenarios rebuilt from those arrays, with one more group, ``dynamics`` (dynamics, conflict
and events taken from B). When the groups do not capture every difference (e.g. relations
or ratification blocks differ), the forecasts on the full hybrid and on B differ and a note
says by how much: that remainder is not attributed.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from detente.errors import DetenteError, NotConvergedWarning
from detente.scenario.arrays import ScenarioArrays, scenario_arrays
from detente.scenario.schema import Scenario
from detente.simulate.batch import evaluate_batch, needs_scenario
from detente.simulate.montecarlo import resolve_models
from detente.simulate.perturb import DrawBatch

__all__ = ["CompareError", "CompareResult", "compare"]

KIND_GROUPS = ("positions", "saliences", "capabilities", "actors", "status_quo", "dynamics")


class CompareError(DetenteError, ValueError):
    """The variants cannot be compared (different issues or scales)."""


@dataclass(frozen=True)
class _Aligned:
    actor_ids: tuple[str, ...]
    pos: np.ndarray  # [2, n, m]  (A, B)
    sal: np.ndarray
    cap: np.ndarray
    present: np.ndarray  # [2, n, m]
    status_quo: np.ndarray  # [2, m]
    base: ScenarioArrays


def _align(a: Scenario, b: Scenario) -> _Aligned:
    if a.issue_ids != b.issue_ids:
        raise CompareError(f"{b.id!r} has issues {', '.join(b.issue_ids)} but {a.id!r} has "
                           f"{', '.join(a.issue_ids)}; variants must share issue ids (same "
                           f"order)")
    for ia, ib in zip(a.issues, b.issues, strict=True):
        if (ia.scale_min, ia.scale_max) != (ib.scale_min, ib.scale_max):
            raise CompareError(f"issue {ia.id!r}: scale [{ia.scale_min:g}, {ia.scale_max:g}] "
                               f"in {a.id!r} but [{ib.scale_min:g}, {ib.scale_max:g}] in "
                               f"{b.id!r}; put both on one scale")
    xa, xb = scenario_arrays(a), scenario_arrays(b)
    ids = list(a.actor_ids) + [x for x in b.actor_ids if x not in a.actor_ids]
    n, m = len(ids), len(a.issue_ids)
    pos = np.full((2, n, m), np.nan)
    sal = np.zeros((2, n, m))
    cap = np.zeros((2, n, m))
    pres = np.zeros((2, n, m), dtype=bool)
    for v, x in enumerate((xa, xb)):
        rows = [ids.index(i) for i in x.actor_ids]
        pos[v, rows] = x.position
        sal[v, rows] = x.salience
        cap[v, rows] = x.capability
        pres[v, rows] = x.present
    extra: dict[str, Any] = {}
    if hasattr(xa, "delegated"):
        extra["delegated"] = np.zeros((n, m), dtype=bool)
    base = replace(xa, actor_ids=tuple(ids), position=pos[0], salience=sal[0],
                   capability=cap[0], present=pres[0], **extra)
    return _Aligned(tuple(ids), pos, sal, cap, pres, np.stack([xa.status_quo, xb.status_quo]),
                    base)


def _groups(al: _Aligned, by: str, scenario_models: bool, a: Scenario, b: Scenario
            ) -> list[str]:
    if by == "actor":
        diff = [i for i, x in enumerate(al.actor_ids)
                if not (np.array_equal(al.pos[0, i], al.pos[1, i], equal_nan=True)
                        and np.array_equal(al.sal[0, i], al.sal[1, i])
                        and np.array_equal(al.cap[0, i], al.cap[1, i])
                        and np.array_equal(al.present[0, i], al.present[1, i]))]
        out = [f"actor:{al.actor_ids[i]}" for i in diff]
    elif by == "kind":
        both = al.present[0] & al.present[1]
        out = []
        if not np.array_equal(al.pos[0][both], al.pos[1][both]):
            out.append("positions")
        if not np.array_equal(al.sal[0][both], al.sal[1][both]):
            out.append("saliences")
        if not np.array_equal(al.cap[0][both], al.cap[1][both]):
            out.append("capabilities")
        if not np.array_equal(al.present[0], al.present[1]):
            out.append("actors")
        if not np.array_equal(al.status_quo[0], al.status_quo[1], equal_nan=True):
            out.append("status_quo")
    else:
        raise CompareError(f"--by {by!r}: choose kind or actor")
    if scenario_models and _dyn(a) != _dyn(b):
        out.append("dynamics")
    return out


def _dyn(s: Scenario) -> Any:
    return (tuple(d.model_dump() for d in s.dynamics),
            None if s.conflict is None else s.conflict.model_dump(),
            tuple(e.model_dump() for e in s.events))


def _hybrid_arrays(al: _Aligned, groups: Sequence[str], subset: Sequence[bool]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    on = {g for g, s in zip(groups, subset, strict=True) if s}
    pos, sal, cap = al.pos[0].copy(), al.sal[0].copy(), al.cap[0].copy()
    pres = al.present[0].copy()
    sq = al.status_quo[1] if "status_quo" in on else al.status_quo[0]
    if any(g.startswith("actor:") for g in groups):
        for g in on:
            if not g.startswith("actor:"):
                continue
            i = al.actor_ids.index(g.split(":", 1)[1])
            pos[i], sal[i], cap[i], pres[i] = al.pos[1, i], al.sal[1, i], al.cap[1, i], \
                al.present[1, i]
        return pos, sal, cap, pres, sq
    both = al.present[0] & al.present[1]
    if "positions" in on:
        pos[both] = al.pos[1][both]
    if "saliences" in on:
        sal[both] = al.sal[1][both]
    if "capabilities" in on:
        cap[both] = al.cap[1][both]
    if "actors" in on:
        new = al.present[1] & ~al.present[0]
        pos[new], sal[new], cap[new] = al.pos[1][new], al.sal[1][new], al.cap[1][new]
        gone = al.present[0] & ~al.present[1]
        pos[gone], sal[gone], cap[gone] = np.nan, 0.0, 0.0
        pres = al.present[1].copy()
    return pos, sal, cap, pres, sq


def _hybrid_scenario(a: Scenario, b: Scenario, al: _Aligned, pos: np.ndarray,
                     sal: np.ndarray, cap: np.ndarray, pres: np.ndarray, on: set[str]
                     ) -> Scenario:
    """A full scenario with the hybrid's stances (for models that read more than arrays).

    Stances the arrays leave out (a parent's line its factions speak for) come from the
    variant whose actor set is in use; dynamics, conflict and events from B when the
    'dynamics' group is on."""
    use_b_set = "actors" in on or any(g.startswith("actor:") for g in on)
    sa = {(x.actor, x.issue): x for x in a.stances}
    sb = {(x.actor, x.issue): x for x in b.stances}
    ai = {x: k for k, x in enumerate(al.actor_ids)}
    ii = {x: k for k, x in enumerate(a.issue_ids)}
    stances = []
    for key in list(sa) + [k for k in sb if k not in sa]:
        r, c = ai[key[0]], ii[key[1]]
        if pres[r, c]:
            st = sa.get(key) or sb[key]
            cap_default = (a.actor(key[0]).capability if key[0] in a.actor_ids
                           else b.actor(key[0]).capability)
            upd: dict[str, Any] = {"position": float(pos[r, c]),
                                   "salience": float(sal[r, c]) * 100.0}
            if float(cap[r, c]) != cap_default:
                upd["capability"] = float(cap[r, c])
            stances.append(st.model_copy(update=upd))
        elif not (al.present[0, r, c] or al.present[1, r, c]):
            # not in the arrays at all: a delegated parent line (or none)
            kept = (sb if use_b_set else sa).get(key)
            if kept is not None:
                stances.append(kept)
    actors = list(a.actors) + [x for x in b.actors if x.id not in a.actor_ids]
    used = {x.actor for x in stances}
    actors = [x for x in actors if x.id in a.actor_ids or x.id in used]
    update: dict[str, Any] = {"stances": tuple(stances), "actors": tuple(actors)}
    if "dynamics" in on:
        update.update({"dynamics": b.dynamics, "conflict": b.conflict, "events": b.events})
    return a.model_copy(update=update)


def _evaluate_subsets(model: Any, al: _Aligned, groups: Sequence[str],
                      subsets: Sequence[tuple[bool, ...]], a: Scenario, b: Scenario
                      ) -> dict[tuple[bool, ...], np.ndarray]:
    """f(S) for every subset: one batched run per distinct actor-presence pattern."""
    built = [_hybrid_arrays(al, groups, s) for s in subsets]
    out: dict[tuple[bool, ...], np.ndarray] = {}
    rng = [np.random.default_rng(0)]
    if needs_scenario(model):
        for s, (pos, sal, cap, pres, _) in zip(subsets, built, strict=True):
            on = {g for g, x in zip(groups, s, strict=True) if x}
            sc = _hybrid_scenario(a, b, al, pos, sal, cap, pres, on)
            f = model.forecast(sc, rng=0)
            out[s] = np.asarray(f.outcome, dtype=float)
        return out
    by_key: dict[tuple[bytes, bytes], list[int]] = {}
    for k, (_, _, _, pres, sq) in enumerate(built):
        by_key.setdefault((pres.tobytes(), np.nan_to_num(sq, nan=-1e300).tobytes()), []
                          ).append(k)
    for idx in by_key.values():
        pres, sq = built[idx[0]][3], built[idx[0]][4]
        keep = np.any(pres, axis=1)
        base = replace(al.base, present=pres, status_quo=sq)
        pos = np.stack([built[k][0] for k in idx])
        sal = np.stack([built[k][1] for k in idx])
        cap = np.stack([built[k][2] for k in idx])
        batch = DrawBatch(np.arange(len(idx)), pos, sal, cap, pres,
                          keep=None if keep.all() else keep)
        o, _ = evaluate_batch(model, batch, base, a, rng * len(idx))
        for j, k in enumerate(idx):
            out[subsets[k]] = o[j]
    return out


def _shapley(groups: Sequence[str], values: Mapping[tuple[bool, ...], np.ndarray],
             orders: Sequence[Sequence[int]] | None) -> np.ndarray:
    g = len(groups)
    phi = np.zeros((g, len(next(iter(values.values())))))
    if orders is None:
        for subset, val in values.items():
            size = sum(subset)
            for i in range(g):
                if subset[i]:
                    continue
                w = math.factorial(size) * math.factorial(g - size - 1) / math.factorial(g)
                plus = tuple(True if j == i else x for j, x in enumerate(subset))
                phi[i] += w * (values[plus] - val)
        return phi
    for order in orders:
        cur = [False] * g
        for i in order:
            before = tuple(cur)
            cur[i] = True
            phi[i] += values[tuple(cur)] - values[before]
    return phi / len(orders)


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Forecasts ``point[variant, model, issue]`` and, per non-reference variant, model and
    issue, the attribution of its difference from the reference."""

    variants: tuple[str, ...]
    models: tuple[str, ...]
    issue_ids: tuple[str, ...]
    widths: np.ndarray
    point: np.ndarray
    attribution: Mapping[tuple[str, str], dict[str, Any]]
    by: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    spread: np.ndarray | None = None  # [variant, model, issue, 3] 5/50/95 % with Monte Carlo

    def differences(self) -> list[dict[str, Any]]:
        """Rows (variant, model, issue, reference, value, diff, share of the scale), largest
        first."""
        rows: list[dict[str, Any]] = []
        for v in range(1, len(self.variants)):
            for j, m in enumerate(self.models):
                for k, iss in enumerate(self.issue_ids):
                    a, b = float(self.point[0, j, k]), float(self.point[v, j, k])
                    rows.append({"variant": self.variants[v], "model": m, "issue": iss,
                                 "reference": a, "value": b, "diff": b - a,
                                 "share_of_scale": abs(b - a) / float(self.widths[k])})
        rows.sort(key=lambda r: -r["share_of_scale"])
        return rows

    def causes(self, variant: str, model: str, issue: str) -> list[dict[str, Any]]:
        """Input groups by their contribution to one difference (largest first)."""
        att = self.attribution.get((variant, model))
        if att is None:
            return []
        k = self.issue_ids.index(issue)
        rows = [{"group": g, "contribution": float(att["shapley"][i, k]),
                 "alone": float(att["alone"][i, k])} for i, g in enumerate(att["groups"])]
        rows.sort(key=lambda r: -abs(r["contribution"]))
        return rows

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"variants": list(self.variants), "reference": self.variants[0],
                               "models": list(self.models), "by": self.by,
                               "differences": self.differences(), "causes": [],
                               "notes": list(self.notes)}
        for (variant, model), att in self.attribution.items():
            for iss in self.issue_ids:
                out["causes"].append({"variant": variant, "model": model, "issue": iss,
                                      "method": att["method"],
                                      "groups": self.causes(variant, model, iss)})
        return out


def compare(scenarios: Sequence[Scenario], models: Sequence[Any] = ("compromise",), *,
            by: str = "kind", exact_limit: int = 10, permutations: int = 100, seed: int = 0,
            n: int = 0, executor: Any = "serial", workers: int | None = None,
            params: Mapping[str, Mapping[str, Any]] | None = None) -> CompareResult:
    """Forecast every variant with every model; attribute each difference from the first
    variant to input groups (see the module docstring). ``n > 0`` adds Monte Carlo
    5/50/95 % bands per variant (each variant's own uncertainty or the default prior)."""
    if len(scenarios) < 2:
        raise CompareError("compare needs at least two scenario variants")
    with warnings.catch_warnings():
        # non-convergence is part of what is being compared, not a reason to shout
        warnings.simplefilter("ignore", NotConvergedWarning)
        return _compare(scenarios, models, by=by, exact_limit=exact_limit,
                        permutations=permutations, seed=seed, n=n, executor=executor,
                        workers=workers, params=params)


def _compare(scenarios: Sequence[Scenario], models: Sequence[Any], *, by: str,
             exact_limit: int, permutations: int, seed: int, n: int, executor: Any,
             workers: int | None, params: Mapping[str, Mapping[str, Any]] | None
             ) -> CompareResult:
    ms = resolve_models(models, params)
    ref = scenarios[0]
    notes: list[str] = []
    point = np.empty((len(scenarios), len(ms), len(ref.issues)))
    for v, sc in enumerate(scenarios):
        if v:
            _align(ref, sc)  # same issues and scales, or a clear error
        for j, m in enumerate(ms):
            point[v, j] = m.forecast(sc, rng=seed).outcome
    attribution: dict[tuple[str, str], dict[str, Any]] = {}
    for v, sc in enumerate(scenarios[1:], 1):
        al = _align(ref, sc)
        for j, m in enumerate(ms):
            groups = _groups(al, by, needs_scenario(m), ref, sc)
            key = (sc.id, m.name)
            if not groups:
                attribution[key] = {"groups": [], "shapley": np.zeros((0, len(ref.issues))),
                                    "alone": np.zeros((0, len(ref.issues))),
                                    "method": "none: the inputs this model reads are equal"}
                continue
            g = len(groups)
            if g <= exact_limit:
                subsets = list(itertools.product([False, True], repeat=g))
                orders = None
                method = f"exact Shapley over {g} groups ({2 ** g} hybrids)"
            else:
                rng = np.random.default_rng(seed)
                orders = [list(rng.permutation(g)) for _ in range(permutations)]
                need = {tuple([False] * g)}
                for order in orders:
                    cur = [False] * g
                    for i in order:
                        cur[i] = True
                        need.add(tuple(cur))
                need |= {tuple(i == k for i in range(g)) for k in range(g)}
                subsets = sorted(need)
                method = (f"Shapley estimated from {permutations} random orders over {g} "
                          f"groups ({len(subsets)} hybrids)")
            vals = _evaluate_subsets(m, al, groups, subsets, ref, sc)
            phi = _shapley(groups, vals, orders)
            empty = vals[tuple([False] * g)]
            alone = np.stack([vals[tuple(i == k for i in range(g))] - empty for k in range(g)])
            full = vals[tuple([True] * g)]
            resid = point[v, j] - point[0, j] - phi.sum(axis=0)
            if np.max(np.abs(resid)) > 1e-6 * float(np.max(al.base.width)):
                notes.append(f"{m.name}: on {sc.id} the swapped-in inputs reproduce the "
                             f"forecast only up to {np.max(np.abs(resid)):.3g} (inputs outside "
                             f"the groups differ)")
            attribution[key] = {"groups": groups, "shapley": phi, "alone": alone,
                                "method": method, "full": full}
    spread = None
    if n > 0:
        from detente.simulate.montecarlo import montecarlo

        spread = np.empty((len(scenarios), len(ms), len(ref.issues), 3))
        for v, sc in enumerate(scenarios):
            r = montecarlo(sc, ms, n=n, seed=seed, executor=executor, workers=workers)
            spread[v] = np.quantile(r.outcome, [0.05, 0.5, 0.95], axis=1).transpose(1, 2, 0)
    widths = scenario_arrays(ref).width
    return CompareResult(tuple(s.id for s in scenarios), tuple(m.name for m in ms),
                         ref.issue_ids, widths, point, attribution, by, tuple(notes), spread)
