"""Two-level games: domestic ratifiers, win-sets, the agreement set and audience costs.

Each principal P (a state whose signature is needed) faces domestic ratifiers k with an ideal
point y_k, saliences s_k (0-1), a weight w_k, their *own* belief z_k about the no-deal outcome
and a cost K_k of no deal (0-1 utility). Utilities are linear and salience-weighted on each
issue's width W (models.md §3.2, §6.2)::

    u_k(x) = - sum_d s_kd |x_d - y_kd| / W_d        approves x  iff  u_k(x) >= u_k(z_k) - K_k

The win-set of P holds the points every veto player approves *and* whose approvers carry at
least ``quota`` of the total weight, within P's own red lines and acceptable ranges (its leader
will not sign beyond them). In one dimension each approval set is an interval around
y_k, so win-sets are computed exactly by sorting interval endpoints (O(K log K)); several
issues are checked package by package (:meth:`TwoLevelGame.ratified`, vectorised).
The agreement set is the intersection of the needed principals' win-sets.

Where the ratifiers come from
-----------------------------
* A ``ratification`` block of the scenario lists them explicitly (``Ratifier``): ideal per
  issue, weight, veto flag, reversion per issue, cost, salience per issue (0-100 like stances;
  default: the principal's own stance salience on that issue, else 100). A ratifier's missing
  reversion on an issue defaults as below.
* Otherwise the principal's **factions** (actors whose ``parent`` is the principal) are its
  ratifiers: ideal = the faction's stance position, salience = its stance salience, weight =
  its issue capability (stance capability or actor capability), reversion on the conflict issue =
  its expected end of the war from :func:`detente.conflict.attrition.war_values`
  (``dynamics.expected_front_line`` + drift x horizon; a faction without dynamics shares its
  parent's beliefs), cost = its ``monthly_cost`` x expected remaining months (or its parent's);
  rule: weighted simple majority, no vetoes.
* The **leader** -- the principal itself -- is always a veto player (it has to sign): built
  from the principal's stance and war values the same way, unless a ratifier whose id equals
  the principal's id is listed, which then is the leader.
* Reversion of an issue: the issue's status quo; on the conflict issue, the expected end of the
  war; with neither, the ratifier's worst point of the scale (the issue alone then never blocks).
  Explicit reversion beliefs on the conflict issue move with the front (month > 0).
* A principal with neither a block nor factions is ratified by its leader alone.
* Principals needed for a deal: the conflict's two sides, every principal with a ``ratification``
  block and every actor with factions (or the ``principals`` given).

Audience costs
--------------
``Ratification.commitments = {issue: d}`` are public lines "nothing beyond d" (beyond = on the
far side of d from the principal's own position); ``audience_cost`` a is the penalty the leader
pays for crossing one: ``a * 1[x beyond d]`` (``audience="step"``, default, §6.2) or
``a * |x - d| / W`` (``audience="linear"``). It shrinks the leader's approval set.

References
----------
Putnam, R. D. (1988). Diplomacy and domestic politics: the logic of two-level games. *IO* 42(3).
Fearon, J. D. (1994). Domestic political audiences and the escalation of international
disputes. *APSR* 88(3). Levenotoglu, B. & Tarar, A. (2005). Prenegotiation public commitment in
domestic and international bargaining. *APSR*.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from detente.conflict.attrition import AttritionParams, war_values
from detente.errors import ModelError
from detente.scenario.schema import Scenario

__all__ = [
    "Intervals",
    "distance_to",
    "intersect",
    "DomesticRatifier",
    "DomesticGame",
    "TwoLevelGame",
    "actor_ratifier",
    "approval_intervals",
    "two_level_game",
    "needed_principals",
]

Interval = tuple[float, float]
Intervals = tuple[Interval, ...]


def _merge(ivs: Iterable[Interval], eps: float = 1e-12) -> Intervals:
    out: list[list[float]] = []
    for a, b in sorted(ivs):
        if a > b:
            continue
        if out and a <= out[-1][1] + eps:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def intersect(x: Intervals, y: Intervals) -> Intervals:
    """Intersection of two sorted unions of closed intervals."""
    out = []
    i = j = 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if a <= b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def distance_to(ivs: Intervals, x: float) -> tuple[float, float | None]:
    """(distance from x to the set, nearest point of the set); (inf, None) if empty."""
    best, pt = math.inf, None
    for a, b in ivs:
        p = min(max(x, a), b)
        if abs(p - x) < best:
            best, pt = abs(p - x), p
    return best, pt


def approval_intervals(ideal: float, salience: float, budget: float, lo: float, hi: float,
                       width: float, *, line: float | None = None, direction: int = 0,
                       penalty: float = 0.0, form: str = "step") -> Intervals:
    """Exact 1-D set ``{x in [lo, hi]: s|x - y|/W + pen(x) <= budget}``.

    ``pen(x)`` is ``penalty`` (step) or ``penalty |x - line|/W`` (linear) for x beyond
    ``line`` (``direction=+1``: below the line is beyond; ``-1``: above). Solved exactly on the
    linear pieces between the breakpoints y and d.
    """
    if salience <= 0 or math.isnan(ideal):
        return ((lo, hi),) if budget >= 0 and penalty == 0 else _pieces(
            ideal, 0.0, budget, lo, hi, width, line, direction, penalty, form)
    return _pieces(ideal, salience, budget, lo, hi, width, line, direction, penalty, form)


def _pieces(y: float, s: float, budget: float, lo: float, hi: float, width: float,
            line: float | None, direction: int, penalty: float, form: str) -> Intervals:
    pts = {lo, hi}
    if not math.isnan(y) and lo < y < hi:
        pts.add(y)
    active = line is not None and direction != 0 and penalty > 0
    if active and line is not None and lo < line < hi:
        pts.add(float(line))
    b = sorted(pts)
    out: list[Interval] = []

    def beyond(x: float) -> bool:
        if not active:
            return False
        return x < line if direction > 0 else x > line  # type: ignore[operator]

    def f(x: float, mid: float) -> float:
        v = 0.0 if (s <= 0 or math.isnan(y)) else s * abs(x - y) / width
        if beyond(mid):
            v += penalty if form == "step" else penalty * abs(x - line) / width  # type: ignore[operator]
        return v

    for a, c in zip(b, b[1:], strict=False):
        mid = 0.5 * (a + c)
        fa, fc = f(a, mid), f(c, mid)
        if fa <= budget and fc <= budget:
            out.append((a, c))
        elif fa <= budget:
            out.append((a, a + (budget - fa) / (fc - fa) * (c - a)))
        elif fc <= budget:
            out.append((c - (budget - fc) / (fa - fc) * (c - a), c))
        # endpoints exactly on the line are not beyond it
    if len(b) == 1:
        out.append((b[0], b[0])) if f(b[0], b[0]) <= budget else None
    if (active and line is not None and lo <= line <= hi
            and f(line, line + (1 if direction > 0 else -1)) <= budget):
        out.append((line, line))
    return _merge(out)


@dataclass(frozen=True, eq=False)
class DomesticRatifier:
    """One ratifier, as arrays over the scenario's issues."""

    id: str
    principal: str
    ideal: np.ndarray  # [D]; NaN = no view on the issue
    salience: np.ndarray  # [D] 0-1
    reversion: np.ndarray  # [D] believed no-deal outcome (scale units)
    cost: float
    weight: float
    veto: bool
    leader: bool
    origin: str  # "ratification" | "faction" | "leader"

    def no_deal_loss(self, width: np.ndarray) -> float:
        d = np.abs(self.reversion - np.nan_to_num(self.ideal)) * self.salience / width
        return float(np.nansum(np.where(self.salience > 0, d, 0.0)))

    def to_dict(self, issue_ids: Sequence[str]) -> dict[str, Any]:
        def m(a: np.ndarray) -> dict[str, float]:
            return {i: float(v) for i, v in zip(issue_ids, a, strict=True) if not math.isnan(v)}
        return {"id": self.id, "principal": self.principal, "ideal": m(self.ideal),
                "salience": {i: float(v) for i, v in zip(issue_ids, self.salience, strict=True)
                             if v > 0},
                "reversion": m(self.reversion), "cost": self.cost, "weight": self.weight,
                "veto": self.veto, "leader": self.leader, "origin": self.origin}


@dataclass(frozen=True, eq=False)
class DomesticGame:
    """A principal's ratification rule and ratifiers."""

    principal: str
    rule: str
    quota: float
    ratifiers: tuple[DomesticRatifier, ...]
    audience_cost: float = 0.0
    commitments: dict[int, tuple[float, int]] = field(default_factory=dict)  # k -> (d, dir)
    lb: np.ndarray | None = None  # [D] the principal's red lines / acceptable range
    ub: np.ndarray | None = None

    @property
    def leader(self) -> DomesticRatifier:
        return next(r for r in self.ratifiers if r.leader)


@dataclass(frozen=True, eq=False)
class TwoLevelGame:
    """The Level-II side of a scenario at one month."""

    issue_ids: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    width: np.ndarray
    games: tuple[DomesticGame, ...]
    month: int = 0
    audience: Literal["step", "linear"] = "step"

    @property
    def principals(self) -> tuple[str, ...]:
        return tuple(g.principal for g in self.games)

    def game(self, principal: str) -> DomesticGame:
        for g in self.games:
            if g.principal == principal:
                return g
        raise ModelError(f"{principal!r} is not a principal here; principals: "
                         f"{', '.join(self.principals)}")

    def _k(self, issue: str | int) -> int:
        if isinstance(issue, int):
            return issue
        try:
            return self.issue_ids.index(issue)
        except ValueError:
            raise ModelError(f"unknown issue {issue!r}; known: {', '.join(self.issue_ids)}") \
                from None

    # -- 1-D ------------------------------------------------------------------------------
    def approval_set(self, game: DomesticGame, r: DomesticRatifier, issue: str | int,
                     *, others: np.ndarray | None = None) -> Intervals:
        """Where ratifier r approves on one issue, the other issues held at ``others`` (each
        ratifier's own reversion by default)."""
        k = self._k(issue)
        w = self.width
        ideal, budget = self._rinfo[id(r)]
        sal = r.salience
        rest = r.reversion if others is None else np.asarray(others, dtype=float)
        mask = np.arange(len(w)) != k
        spent = float(np.sum((np.abs(rest - ideal) * sal / w)[mask & (sal > 0)]))
        pen_other = 0.0
        line, direction, penalty = None, 0, 0.0
        if r.leader and game.audience_cost > 0:
            for j, (d, dr) in game.commitments.items():
                if j == k:
                    line, direction, penalty = d, dr, game.audience_cost
                else:  # a term kept at its reversion is still signed: it can cross a line
                    pen_other += self._penalty(game.audience_cost, float(rest[j]), d, dr, j)
        return approval_intervals(float(r.ideal[k]), float(sal[k]), budget - spent - pen_other,
                                  float(self.lo[k]), float(self.hi[k]), float(w[k]),
                                  line=line, direction=direction, penalty=penalty,
                                  form=self.audience)

    def _penalty(self, a: float, x: float, d: float, direction: int, k: int) -> float:
        beyond = x < d if direction > 0 else x > d
        if not beyond:
            return 0.0
        return a if self.audience == "step" else a * abs(x - d) / float(self.width[k])

    @cached_property
    def _rinfo(self) -> dict[int, tuple[np.ndarray, float]]:
        return {id(r): (np.nan_to_num(r.ideal), r.no_deal_loss(self.width) + r.cost)
                for g in self.games for r in g.ratifiers}

    @cached_property
    def _ws_cache(self) -> dict[tuple[str, int], Intervals]:
        return {}

    def win_set(self, principal: str, issue: str | int, *,
                others: np.ndarray | None = None) -> Intervals:
        """Exact 1-D win-set of ``principal`` on ``issue``."""
        if others is None:
            key = (principal, self._k(issue))
            if key not in self._ws_cache:
                self._ws_cache[key] = self._win_set(principal, key[1], None)
            return self._ws_cache[key]
        return self._win_set(principal, issue, others)

    def _win_set(self, principal: str, issue: str | int,
                 others: np.ndarray | None) -> Intervals:
        g = self.game(principal)
        ivs: list[Intervals] = [self.approval_set(g, r, issue, others=others)
                                for r in g.ratifiers]
        k = self._k(issue)
        a, b = float(self.lo[k]), float(self.hi[k])
        if g.lb is not None and g.ub is not None:
            a, b = max(a, float(g.lb[k])), min(b, float(g.ub[k]))
        result: Intervals = ((a, b),) if a <= b else ()
        for r, iv in zip(g.ratifiers, ivs, strict=True):
            if r.veto:
                result = intersect(result, iv)
        voters = [(r, iv) for r, iv in zip(g.ratifiers, ivs, strict=True) if not r.veto]
        if voters and sum(r.weight for r, _ in voters) > 0:
            total = sum(r.weight for r, _ in voters)
            q_union = _quota_pieces(voters, g.quota, total)
            result = intersect(result, q_union)
        return result

    def agreement_set(self, issue: str | int, *, principals: Sequence[str] | None = None,
                      others: np.ndarray | None = None) -> Intervals:
        k = self._k(issue)
        result: Intervals = ((float(self.lo[k]), float(self.hi[k])),)
        for p in principals or self.principals:
            result = intersect(result, self.win_set(p, k, others=others))
        return result

    def binding(self, issue: str | int) -> dict[str, Any]:
        """Why the agreement set on an issue is empty (or what bounds it): each principal's
        win-set and the pair of principals whose win-sets do not overlap."""
        k = self._k(issue)
        sets = {p: self.win_set(p, k) for p in self.principals}
        empty = [p for p, s in sets.items() if not s]
        clash = None
        if not empty:
            lows = {p: s[0][0] for p, s in sets.items()}
            highs = {p: s[-1][1] for p, s in sets.items()}
            hi_lo = max(lows, key=lows.__getitem__)
            lo_hi = min(highs, key=highs.__getitem__)
            if lows[hi_lo] > highs[lo_hi]:
                clash = {"needs_at_least": [hi_lo, lows[hi_lo]],
                         "allows_at_most": [lo_hi, highs[lo_hi]],
                         "gap": lows[hi_lo] - highs[lo_hi]}
        return {"issue": self.issue_ids[k], "win_sets": {p: [list(i) for i in s]
                                                        for p, s in sets.items()},
                "empty_win_sets": empty, "clash": clash}

    # -- packages -------------------------------------------------------------------------
    @cached_property
    def _arr(self) -> dict[str, np.ndarray]:
        return self._build_arrays()

    def _arrays(self) -> dict[str, np.ndarray]:
        return self._arr

    def _build_arrays(self) -> dict[str, np.ndarray]:
        rs = [(g, r) for g in self.games for r in g.ratifiers]
        ideal = np.array([np.nan_to_num(r.ideal) for _, r in rs])
        sal = np.array([r.salience for _, r in rs])
        budget = np.array([r.no_deal_loss(self.width) + r.cost for _, r in rs])
        return {"ideal": ideal.reshape(len(rs), -1), "sal": sal.reshape(len(rs), -1),
                "budget": budget}

    def approvals(self, packages: np.ndarray, *, chunk: int = 20000) -> np.ndarray:
        """[N, R] approval of each package by each ratifier (principals' order, then theirs)."""
        X = np.atleast_2d(np.asarray(packages, dtype=float))
        arr = self._arrays()
        R = arr["budget"].size
        out = np.zeros((X.shape[0], R), dtype=bool)
        coef = arr["sal"] / self.width  # [R, D]
        for s in range(0, X.shape[0], chunk):
            x = X[s:s + chunk]
            loss = _weighted_l1(x, arr["ideal"], coef)
            col = 0
            for g in self.games:
                for r in g.ratifiers:
                    if r.leader and g.audience_cost > 0:
                        for j, (d, dr) in g.commitments.items():
                            xb = x[:, j] < d if dr > 0 else x[:, j] > d
                            pen = (g.audience_cost if self.audience == "step"
                                   else g.audience_cost * np.abs(x[:, j] - d) / self.width[j])
                            loss[:, col] += np.where(xb, pen, 0.0)
                    col += 1
            out[s:s + chunk] = loss <= arr["budget"][None] + 1e-12
        return out

    def ratified(self, packages: np.ndarray) -> np.ndarray:
        """[N, P]: does each principal ratify each package?"""
        app = self.approvals(packages)
        res = np.zeros((app.shape[0], len(self.games)), dtype=bool)
        col = 0
        for p, g in enumerate(self.games):
            n = len(g.ratifiers)
            a = app[:, col:col + n]
            veto = np.array([r.veto for r in g.ratifiers])
            w = np.array([0.0 if r.veto else r.weight for r in g.ratifiers])
            ok = np.all(a[:, veto], axis=1) if veto.any() else np.ones(a.shape[0], bool)
            if g.lb is not None and g.ub is not None:
                X = np.atleast_2d(np.asarray(packages, dtype=float))
                ok &= np.all((X >= g.lb - 1e-9) & (X <= g.ub + 1e-9), axis=1)
            if w.sum() > 0:
                ok &= (a.astype(float) @ w) >= g.quota * w.sum() - 1e-12
            res[:, p] = ok
            col += n
        return res

    def slack(self, packages: np.ndarray) -> np.ndarray:
        """[N, R] approval margin ``budget - loss`` (utility units; >= 0 approves)."""
        X = np.atleast_2d(np.asarray(packages, dtype=float))
        arr = self._arrays()
        return arr["budget"][None] - _weighted_l1(X, arr["ideal"], arr["sal"] / self.width)

    def pressure(self, point: dict[str, float] | Sequence[float]) -> dict[str, Any]:
        """Ratification pressure on a forecast: its distance (per issue, scale units) to the
        agreement set and the nearest point of that set (NaN / None when it is empty)."""
        if isinstance(point, dict):
            x = np.array([point[i] for i in self.issue_ids], dtype=float)
        else:
            x = np.asarray(point, dtype=float)
        per = {}
        for k, iss in enumerate(self.issue_ids):
            A = self.agreement_set(k)
            dist, near = distance_to(A, float(x[k]))
            per[iss] = {"forecast": float(x[k]), "agreement_set": [list(i) for i in A],
                        "distance": dist if near is not None else math.nan,
                        "projected": near, "share_of_width": (dist / float(self.width[k])
                                                              if near is not None else math.nan)}
        proj = np.array([v["projected"] if v["projected"] is not None else np.nan
                         for v in per.values()])
        package_ok = (bool(self.ratified(proj[None])[0].all())
                      if not np.isnan(proj).any() else False)
        return {"issues": per, "projected_package_ratified": package_ok}


def _weighted_l1(X: np.ndarray, ideal: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """[N, R] sum_d coef[r, d] |X[n, d] - ideal[r, d]|, one issue at a time (no 3-D temp)."""
    out = np.zeros((X.shape[0], ideal.shape[0]))
    for d in range(X.shape[1]):
        c = coef[:, d]
        if not c.any():
            continue
        out += np.abs(X[:, d:d + 1] - ideal[None, :, d]) * c[None, :]
    return out


def _quota_pieces(voters: list[tuple[DomesticRatifier, Intervals]], quota: float,
                  total: float) -> Intervals:
    events: list[tuple[float, int, float]] = []
    for r, iv in voters:
        for a, b in iv:
            events.append((a, 0, r.weight))
            events.append((b, 1, -r.weight))
    need = quota * total - 1e-12 * max(total, 1.0)
    events.sort()
    out: list[Interval] = []
    acc = 0.0
    start: float | None = None
    for x, _k, dw in events:
        acc += dw
        if start is None and acc >= need:
            start = x
        elif start is not None and acc < need:
            out.append((start, x))
            start = None
    return _merge(out)


# ---------------------------------------------------------------------------------------
# building the game from a scenario


def needed_principals(scenario: Scenario) -> tuple[str, ...]:
    """Conflict sides, principals with a ratification block, actors with factions."""
    out: list[str] = []
    if scenario.conflict is not None:
        out.extend(scenario.conflict.sides)
    out.extend(r.principal for r in scenario.ratification)
    out.extend(a.parent for a in scenario.actors if a.parent is not None)
    seen: set[str] = set()
    return tuple(p for p in out if not (p in seen or seen.add(p)))  # type: ignore[func-returns-value]


def _reversions(scenario: Scenario, wv: dict[str, tuple[float, float]], actor: str,
                ideal: np.ndarray) -> np.ndarray:
    rev = np.full(len(scenario.issues), np.nan)
    for k, iss in enumerate(scenario.issues):
        if scenario.conflict is not None and iss.id == scenario.conflict.issue and actor in wv:
            rev[k] = wv[actor][0]
        elif iss.status_quo is not None:
            rev[k] = iss.status_quo
    return _fill_worst(scenario, rev, ideal)


def _fill_worst(scenario: Scenario, rev: np.ndarray, ideal: np.ndarray) -> np.ndarray:
    for k, iss in enumerate(scenario.issues):
        if math.isnan(rev[k]):
            y = ideal[k]
            if math.isnan(y):
                rev[k] = iss.scale_min
            else:
                rev[k] = iss.scale_min if y - iss.scale_min >= iss.scale_max - y else iss.scale_max
    return rev


def actor_ratifier(scenario: Scenario, actor: str, principal: str,
                    wv: dict[str, tuple[float, float]], *, leader: bool) -> DomesticRatifier:
    D = len(scenario.issues)
    ideal = np.full(D, np.nan)
    sal = np.zeros(D)
    cap = scenario.actor(actor).capability
    caps = []
    for k, iss in enumerate(scenario.issues):
        st = scenario.stance(actor, iss.id)
        if st is not None:
            ideal[k] = st.position
            sal[k] = st.salience / 100.0
            caps.append(cap if st.capability is None else st.capability)
    weight = float(np.mean(caps)) if caps else float(cap)
    return DomesticRatifier(
        id=actor, principal=principal, ideal=ideal, salience=sal,
        reversion=_reversions(scenario, wv, actor, ideal), cost=wv.get(actor, (0, 0.0))[1],
        weight=weight, veto=leader, leader=leader, origin="leader" if leader else "faction")


def two_level_game(scenario: Scenario, *, month: int = 0,
                   principals: Sequence[str] | None = None,
                   attrition: AttritionParams | None = None,
                   audience: Literal["step", "linear"] = "step") -> TwoLevelGame:
    """Build the Level-II game of ``scenario`` at ``month`` (see the module docstring)."""
    params = attrition or AttritionParams(months=max(month, 0))
    wv = war_values(scenario, month, params) if scenario.conflict is not None else {}
    # explicit reversion beliefs on the conflict issue move with the realised front
    shift = _front_shift(scenario, month, params) if scenario.conflict is not None else 0.0
    principals = tuple(principals) if principals else needed_principals(scenario)
    if not principals:
        raise ModelError(f"scenario {scenario.id!r} names no principal whose ratification is "
                         f"needed: add a 'conflict' (its two sides), a 'ratification' block, or "
                         f"factions with a 'parent'")
    blocks = {r.principal: r for r in scenario.ratification}
    issues = scenario.issues
    ids = scenario.issue_ids
    lo = np.array([i.scale_min for i in issues])
    hi = np.array([i.scale_max for i in issues])
    width = hi - lo
    cidx = ids.index(scenario.conflict.issue) if scenario.conflict is not None else -1
    games = []
    for p in principals:
        if p not in scenario.actor_ids:
            raise ModelError(f"unknown principal {p!r}; known actors: "
                             f"{', '.join(scenario.actor_ids)}")
        block = blocks.get(p)
        rats: list[DomesticRatifier] = []
        if block is not None:
            pst = {iss.id: scenario.stance(p, iss.id) for iss in issues}
            for r in block.ratifiers:
                ideal = np.array([r.ideal.get(i, np.nan) for i in ids], dtype=float)
                sal = np.zeros(len(ids))
                for k, i in enumerate(ids):
                    if math.isnan(ideal[k]):
                        continue
                    if i in r.salience:
                        sal[k] = r.salience[i] / 100.0
                    elif pst[i] is not None:
                        sal[k] = pst[i].salience / 100.0  # type: ignore[union-attr]
                    else:
                        sal[k] = 1.0
                rev = np.array([r.reversion.get(i, np.nan) for i in ids], dtype=float)
                if cidx >= 0 and not math.isnan(rev[cidx]):
                    rev[cidx] = float(np.clip(rev[cidx] + shift, lo[cidx], hi[cidx]))
                dflt = _reversions(scenario, wv, p, ideal)
                rev = np.where(np.isnan(rev), dflt, rev)
                is_leader = r.id == p
                rats.append(DomesticRatifier(
                    id=r.id, principal=p, ideal=ideal, salience=sal, reversion=rev,
                    cost=r.cost, weight=r.weight, veto=r.veto or is_leader, leader=is_leader,
                    origin="leader" if is_leader else "ratification"))
            rule, quota = block.rule, block.quota
            if rule == "veto_players":
                rats = [DomesticRatifier(**{**r.__dict__, "veto": True}) for r in rats]
        else:
            kids = [a.id for a in scenario.actors if a.parent == p]
            rats = [actor_ratifier(scenario, a, p, wv, leader=False) for a in kids]
            rule, quota = "quota", 0.5
        if not any(r.leader for r in rats):
            rats.insert(0, actor_ratifier(scenario, p, p, wv, leader=True))
        commitments: dict[int, tuple[float, int]] = {}
        a_cost = 0.0
        if block is not None:
            a_cost = block.audience_cost
            for iss_id, d in block.commitments.items():
                k = ids.index(iss_id)
                st = scenario.stance(p, iss_id)
                pos = st.position if st is not None else float(lo[k] + hi[k]) / 2
                commitments[k] = (float(d), 1 if pos >= d else -1)
        plb, pub = lo.copy(), hi.copy()
        for k, iss_id in enumerate(ids):
            st = scenario.stance(p, iss_id)
            if st is None:
                continue
            if st.acceptable is not None:
                plb[k], pub[k] = max(plb[k], st.acceptable[0]), min(pub[k], st.acceptable[1])
            if st.red_line is not None:
                if st.red_line > st.position:
                    pub[k] = min(pub[k], st.red_line)
                else:
                    plb[k] = max(plb[k], st.red_line)
        games.append(DomesticGame(principal=p, rule=rule, quota=quota, ratifiers=tuple(rats),
                                  audience_cost=a_cost, commitments=commitments, lb=plb, ub=pub))
    return TwoLevelGame(issue_ids=ids, lo=lo, hi=hi, width=width, games=tuple(games),
                        month=month, audience=audience)


def _front_shift(scenario: Scenario, month: int, params: AttritionParams) -> float:
    if month <= 0:
        return 0.0
    from detente.conflict.attrition import attrition_path

    path = attrition_path(scenario, params.model_copy(update={"months": month}))
    return path.months[month].front - path.months[0].front
