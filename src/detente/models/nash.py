"""The asymmetric n-actor Nash bargaining solution, issue by issue (models.md §3.1-§3.2).

On each issue the forecast is::

    x* = argmax_{x in [lo, hi], u_i(x) >= d_i for all i}  sum_i w_i log(u_i(x) - d_i)

with utilities ``u_i(x) = -s_i |x - x_i| / W`` (``utility="linear"``, the default, as in §3.2)
or ``-s_i ((x - x_i) / W)^2`` (``"quadratic"``), bargaining weights ``w_i`` = issue capability
(``weights="capability"``; or ``"equal"``, or capability x salience), normalised to sum to 1,
and disagreement utilities ``d_i = u_i(no deal)``. Actors with zero salience are indifferent
and left out of the product. Every ``log(u_i - d_i)`` is concave, so the optimum is unique; it is
found by golden-section search on the exact feasible interval, and the kinks of the linear
utilities (actor positions) are checked as candidates, so corner solutions are exact.

The disagreement point (``disagreement="auto"``):

* **war** -- on the scenario's contested issue when it has ``conflict`` and ``dynamics``: actor
  i expects the war to end at ``e_i`` (its belief about the front plus its believed drift times
  the expected remaining months, models.md §5.2, at ``war_month``) and pays ``K_i = k_i D``, so
  ``d_i = u_i(e_i) - K_i``. Continued war is costly, which is what opens a bargaining range.
* **status quo** -- otherwise, when the issue has one: ``d_i = u_i(q)``. If q lies strictly between
  actors who care, nobody can gain without someone losing and the forecast stays at q (§3.1's
  degenerate case).
* **limit** -- an issue with no status quo (and no war on it): the *bad-disagreement limit*.
  When no deal is very bad for everyone (``d_i -> -inf``), maximising the Nash product reduces
  to maximising ``sum_i w_i u_i(x)``: the capability x salience weighted **mean** with quadratic
  utilities (the compromise model, §3.1) and the weighted **median** with linear ones.

``disagreement`` may force ``"status_quo"``, ``"war"`` or ``"limit"`` on every issue (issues
lacking what is asked fall back in the order war -> status quo -> limit). When no point makes
every actor at least as well off as no deal (possible with war beliefs), the forecast is the
no-deal point itself (the status quo, or the expected end of the war) and ``details`` say so.

Note: the war disagreement point needs the scenario, so it applies through :meth:`forecast`;
:meth:`forecast_arrays` (arrays only) uses the status quo / limit.

References
----------
Nash, J. (1950). The bargaining problem. *Econometrica* 18(2).
Kalai, E. (1977). Nonsymmetric Nash solutions and replications of 2-person bargaining.
*International Journal of Game Theory* 6(3).
Schneider, G. (2005). Capacity and concessions: bargaining power in multilateral negotiations.
*Millennium* 33(3).
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from typing import Any, Literal

import numpy as np
from pydantic import Field

from detente.models._war import AttritionParams, war_outcome, war_values
from detente.models.base import (
    Forecast,
    IssueData,
    IssueResult,
    ModelParams,
    ModelTags,
    PerIssueModel,
)
from detente.random import SeedLike
from detente.scenario.schema import Scenario

__all__ = ["NashBargainingModel", "NashParams", "nash_solution"]

_GOLDEN = (math.sqrt(5) - 1) / 2

# per-forecast war information {issue_id: (expected end [n_actors], cost [n_actors], no-deal)}
_WAR: ContextVar[dict[str, tuple[np.ndarray, np.ndarray, float]] | None] = ContextVar(
    "detente_nash_war", default=None)


class NashParams(ModelParams):
    """weights: bargaining weights (capability, equal, capability x salience); utility: linear or
    quadratic loss in distance; disagreement: auto / war / status_quo / limit; war_month: month
    of the attrition path whose war values are the disagreement point."""

    weights: Literal["capability", "equal", "capability_salience"] = "capability"
    utility: Literal["linear", "quadratic"] = "linear"
    disagreement: Literal["auto", "war", "status_quo", "limit"] = "auto"
    war_month: int = Field(default=0, ge=0, le=600)
    tol: float = Field(default=1e-10, gt=0, le=1e-3, description="search tolerance, share of W")


def _utility(x: np.ndarray | float, pos: np.ndarray, sal: np.ndarray, width: float,
             kind: str) -> np.ndarray:
    d = (np.asarray(x, dtype=float)[..., None] - pos) / width
    return -sal * (np.abs(d) if kind == "linear" else d * d)


def _radius(d: np.ndarray, sal: np.ndarray, width: float, kind: str) -> np.ndarray:
    """Half-width of {x: u_i(x) >= d_i} around x_i."""
    gap = np.maximum(-d, 0.0) / sal
    return width * (gap if kind == "linear" else np.sqrt(gap))


def _weighted_median_mid(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws)
    half = 0.5 * cum[-1]
    eps = 1e-12 * cum[-1]
    k = int(np.searchsorted(cum, half - eps, side="left"))
    k = min(k, len(xs) - 1)
    if abs(cum[k] - half) <= eps and k + 1 < len(xs):
        return float(0.5 * (xs[k] + xs[k + 1]))  # a plateau: every point between is optimal
    return float(xs[k])


def nash_solution(pos: np.ndarray, sal: np.ndarray, w: np.ndarray, d: np.ndarray | None, *,
                  lo: float, hi: float, utility: str = "linear",
                  tol: float = 1e-10) -> dict[str, Any]:
    """Solve one issue. ``d=None`` means the bad-disagreement limit.

    Returns ``{"outcome", "feasible" (interval or None), "kind"}``; outcome is NaN when the
    feasible set is empty.
    """
    width = hi - lo
    pos = np.asarray(pos, dtype=float)
    sal = np.asarray(sal, dtype=float)
    w = np.asarray(w, dtype=float)
    act = (sal > 0) & (w > 0)
    if not act.any():
        # nobody cares: every point is as good as any other; report the plain mean
        return {"outcome": float(np.clip(np.mean(pos), lo, hi)), "feasible": (lo, hi),
                "kind": "indifferent"}
    pos, sal, w = pos[act], sal[act], w[act] / w[act].sum()
    if d is None:
        ws = w * sal
        if utility == "quadratic":
            out = float(np.dot(ws, pos) / ws.sum())
        else:
            out = _weighted_median_mid(pos, ws)
        return {"outcome": float(np.clip(out, lo, hi)), "feasible": (lo, hi), "kind": "limit"}
    d = np.asarray(d, dtype=float)[act]
    r = _radius(d, sal, width, utility)
    a = max(lo, float(np.max(pos - r)))
    b = min(hi, float(np.min(pos + r)))
    eps = tol * width
    if a > b + eps:
        return {"outcome": math.nan, "feasible": None, "kind": "empty"}
    if b - a <= 10 * eps:
        return {"outcome": 0.5 * (a + b), "feasible": (a, b), "kind": "point"}

    def f(x: float) -> float:
        gain = _utility(x, pos, sal, width, utility) - d
        if np.any(gain <= 0):
            return -math.inf
        return float(np.dot(w, np.log(gain)))

    lo_, hi_ = a, b
    c = hi_ - _GOLDEN * (hi_ - lo_)
    e = lo_ + _GOLDEN * (hi_ - lo_)
    fc, fe = f(c), f(e)
    while hi_ - lo_ > eps:
        if fc >= fe:
            hi_, e, fe = e, c, fc
            c = hi_ - _GOLDEN * (hi_ - lo_)
            fc = f(c)
        else:
            lo_, c, fc = c, e, fe
            e = lo_ + _GOLDEN * (hi_ - lo_)
            fe = f(e)
    best = 0.5 * (lo_ + hi_)
    fbest = f(best)
    for k in np.sort(pos):  # kinks of the linear utilities: corner solutions land exactly
        if a < k < b:
            fk = f(float(k))
            if fk > fbest + 1e-12 or (abs(fk - fbest) <= 1e-12 and abs(k - best) < 1e3 * eps):
                best, fbest = float(k), fk
    return {"outcome": best, "feasible": (a, b), "kind": "interior"}


class NashBargainingModel(PerIssueModel):
    """Asymmetric n-actor Nash bargaining with a status-quo or continued-war disagreement point."""

    name = "nash"
    Params = NashParams
    params: NashParams
    tags = ModelTags(per_issue=True, capability_scale_invariant=True, uses_status_quo=True)
    summary = "n-actor Nash bargaining; no deal = status quo or continued war"
    presets = {
        "equal_weights": {"weights": "equal"},
        "compromise_limit": {"utility": "quadratic", "disagreement": "limit"},
    }

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        token = _WAR.set(self._war_info(scenario))
        try:
            return super().forecast(scenario, rng=rng)
        finally:
            _WAR.reset(token)

    def _war_info(self, scenario: Scenario) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
        p = self.params
        if p.disagreement in ("status_quo", "limit"):
            return {}
        if scenario.conflict is None or not scenario.dynamics:
            return {}
        ap = AttritionParams(months=max(p.war_month, 1))
        wv = war_values(scenario, p.war_month, ap)
        ends = np.array([wv[a][0] for a in scenario.actor_ids])
        costs = np.array([wv[a][1] for a in scenario.actor_ids])
        nd = war_outcome(scenario, p.war_month, ap)
        return {scenario.conflict.issue: (ends, costs, nd)}

    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        p = self.params
        if p.weights == "capability":
            w = issue.capability.astype(float)
        elif p.weights == "capability_salience":
            w = issue.capability * issue.salience
        else:
            w = np.ones_like(issue.position)
        if float(w.sum()) <= 0:
            w = np.ones_like(issue.position)
        war = (_WAR.get() or {}).get(issue.issue_id)
        sq = issue.status_quo
        kind = p.disagreement
        if kind == "auto" or (kind == "war" and war is None):
            kind = "war" if war is not None else ("status_quo" if not math.isnan(sq) else "limit")
        if kind == "status_quo" and math.isnan(sq):
            kind = "limit"
        width = issue.width
        d: np.ndarray | None
        if kind == "war" and war is not None:
            ends, costs, no_deal = war[0][issue.actors], war[1][issue.actors], war[2]
            d = np.array([_utility(e, np.array([x]), np.array([s]), width, p.utility)[0]
                          for e, x, s in zip(ends, issue.position, issue.salience,
                                             strict=True)]) - costs
        elif kind == "status_quo":
            no_deal = sq
            d = _utility(sq, issue.position, issue.salience, width, p.utility)
        else:
            no_deal = math.nan
            d = None
        sol = nash_solution(issue.position, issue.salience, w, d, lo=issue.scale_min,
                            hi=issue.scale_max, utility=p.utility, tol=p.tol)
        outcome = sol["outcome"]
        reason = {
            "war": "no deal means more war: each side's expected end of the war minus its costs",
            "status_quo": "no deal keeps the status quo",
            "limit": "no status quo: the bad-disagreement limit (weighted mean with quadratic "
                     "utilities, weighted median with linear ones)",
        }[kind]
        if math.isnan(outcome):
            outcome = float(no_deal) if not math.isnan(no_deal) else float(
                np.clip(np.mean(issue.position), issue.scale_min, issue.scale_max))
            reason += "; no point leaves every actor at least as well off: no deal"
        details: dict[str, Any] = {
            "disagreement": kind,
            "no_deal": None if math.isnan(no_deal) else float(no_deal),
            "feasible": None if sol["feasible"] is None else [float(v) for v in sol["feasible"]],
            "solution": sol["kind"],
            "weights": (w / w.sum()).tolist(),
            "disagreement_utility": None if d is None else [float(v) for v in d],
            "reason": reason,
        }
        return IssueResult(outcome=float(outcome), path=issue.position[None, :].copy(),
                           details=details)
