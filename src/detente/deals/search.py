"""Search for packages every needed principal can sign and ratify.

Method
------
1. **Feasible box.** Each issue is searched on its scale cut to the needed principals' red
   lines and acceptable ranges (a package outside them is vetoed outright).
2. **Candidates.** ``n_samples`` packages: a scrambled uniform sample of the box (seeded), the
   principals' ideal points, the no-deal point, the box centre and, per issue, points of the
   exact 1-D agreement set (:meth:`TwoLevelGame.agreement_set`) combined with the no-deal point
   elsewhere.
3. **Filter.** Keep the packages every needed principal ratifies (all veto players approve and
   the approving weight reaches the quota; the leader is a veto player) and that respect the
   principals' red lines.
4. **Rank** by the weighted Nash product of the principals' gains over no deal,
   ``sum_P w_P log(u_P(x) - d_P)`` (w = capability, normalised), and separately by
   **robustness**: the largest uniform worsening ``delta`` of every ratifier's reservation value
   (utility units, i.e. share of an issue's width x salience) the package survives, i.e. the
   margin by which it sits inside the agreement set.
5. **Polish.** The best ``n_polish`` candidates of each ranking are improved by a compass
   (coordinate pattern) search with shrinking steps that never leaves the agreement set.

Optimality gap: with veto players only, each approval set is convex and the log Nash product
of linear utilities is concave, so the polished optimum is the global one up to the step
tolerance (``tol`` x width per issue). With quota rules the agreement set is a union of
convex pieces; a piece smaller than the sampling density (about ``W / n_samples^(1/D)`` per
issue) can be missed, so the reported optimum is a lower bound on the true one. Tests compare
against exact 1-D solutions and a dense 2-D grid.

When no candidate is ratified by everyone the search reports **no deal possible** with the
binding constraint: for the package closest to acceptance (smallest total shortfall), the
principals and ratifiers that still say no and by how much, plus the 1-D clash on each issue
(which principal needs at least what, which allows at most what). Under the attrition path it
also reports the first month at which the agreement set becomes non-empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detente.conflict.attrition import AttritionParams
from detente.conflict.ratification import TwoLevelGame, needed_principals, two_level_game
from detente.deals.evaluate import ActorTable, actor_table
from detente.errors import ModelError
from detente.random import SeedLike, as_generator
from detente.scenario.schema import Scenario

__all__ = ["DealSearch", "SearchResult", "search_deals"]


@dataclass(frozen=True)
class SearchResult:
    """Best packages (by Nash product and by robustness) or the reason none exists."""

    month: int
    principals: tuple[str, ...]
    feasible: bool
    by_nash: tuple[dict[str, Any], ...]
    by_robustness: tuple[dict[str, Any], ...]
    binding: dict[str, Any] | None
    first_month: int | None
    n_candidates: int
    n_feasible: int

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "principals": list(self.principals),
                "feasible": self.feasible, "by_nash": list(self.by_nash),
                "by_robustness": list(self.by_robustness), "binding": self.binding,
                "first_month": self.first_month, "n_candidates": self.n_candidates,
                "n_feasible": self.n_feasible}


class DealSearch:
    """The search on one scenario at one month (see the module docstring)."""

    def __init__(self, scenario: Scenario, *, month: int = 0,
                 principals: tuple[str, ...] | None = None,
                 attrition: AttritionParams | None = None) -> None:
        self.s = scenario
        self.month = month
        ap = attrition or AttritionParams(months=max(month, 1))
        self.principals = tuple(principals) if principals else needed_principals(scenario)
        if not self.principals:
            raise ModelError(f"scenario {scenario.id!r}: no principal whose signature is "
                             f"needed (add a conflict, a ratification block or factions)")
        self.game: TwoLevelGame = two_level_game(scenario, month=month,
                                                 principals=self.principals, attrition=ap)
        self.table: ActorTable = actor_table(scenario, month=month, attrition=ap)
        self.ids = scenario.issue_ids
        self.lo = np.array([i.scale_min for i in scenario.issues])
        self.hi = np.array([i.scale_max for i in scenario.issues])
        self.width = self.hi - self.lo
        rows = [self.table.index(p) for p in self.principals if p in self.table.actor_ids]
        self.prow = np.array(rows, dtype=int)
        self.box_lo = np.max(self.table.lb[self.prow], axis=0) if rows else self.lo.copy()
        self.box_hi = np.min(self.table.ub[self.prow], axis=0) if rows else self.hi.copy()
        w = self.table.capability[self.prow] if rows else np.ones(1)
        self.pw = w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))
        self._vetomask = []
        self._weights = []
        for g in self.game.games:
            self._vetomask.append(np.array([r.veto for r in g.ratifiers]))
            self._weights.append(np.array([0.0 if r.veto else r.weight for r in g.ratifiers]))

    # -- scoring ------------------------------------------------------------------------
    def margins(self, X: np.ndarray) -> np.ndarray:
        """[N] robustness: min over principals of the largest delta they survive
        (negative: how far the package is from being ratified)."""
        slack = self.game.slack(X)
        # the leader's audience-cost penalties are part of its loss
        app_loss = self._audience(X)
        slack = slack - app_loss
        out = np.full(X.shape[0], np.inf)
        col = 0
        for g, veto, w in zip(self.game.games, self._vetomask, self._weights, strict=True):
            n = len(g.ratifiers)
            sl = slack[:, col:col + n]
            m = np.full(X.shape[0], np.inf)
            if veto.any():
                m = np.min(sl[:, veto], axis=1)
            if w.sum() > 0:
                # largest delta with approving weight >= quota: sort slack descending
                order = np.argsort(-sl, axis=1)
                ss = np.take_along_axis(sl, order, axis=1)
                ww = w[order]
                cum = np.cumsum(ww, axis=1)
                need = g.quota * w.sum() - 1e-12
                k = np.argmax(cum >= need, axis=1)
                q = ss[np.arange(X.shape[0]), k]
                m = np.minimum(m, q)
            out = np.minimum(out, m)
            col += n
        # red lines of the principals, as a share of width
        if self.prow.size:
            box = np.minimum(X - self.box_lo, self.box_hi - X) / self.width
            out = np.minimum(out, np.min(box, axis=1))
        return out

    def _audience(self, X: np.ndarray) -> np.ndarray:
        R = sum(len(g.ratifiers) for g in self.game.games)
        pen = np.zeros((X.shape[0], R))
        col = 0
        for g in self.game.games:
            for r in g.ratifiers:
                if r.leader and g.audience_cost > 0:
                    for j, (d, dr) in g.commitments.items():
                        beyond = X[:, j] < d if dr > 0 else X[:, j] > d
                        val = (g.audience_cost if self.game.audience == "step"
                               else g.audience_cost * np.abs(X[:, j] - d) / self.width[j])
                        pen[:, col] += np.where(beyond, val, 0.0)
                col += 1
        return pen

    def nash(self, X: np.ndarray) -> np.ndarray:
        """[N] weighted log Nash product of the principals' gains (-inf where one loses)."""
        if not self.prow.size:
            return np.zeros(X.shape[0])
        gain = self.table.gain(X)[:, self.prow]
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.where(gain > 0, np.log(np.maximum(gain, 1e-300)), -np.inf)
        return lg @ self.pw

    # -- candidates ---------------------------------------------------------------------
    def candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        D = len(self.ids)
        lo, hi = self.box_lo, self.box_hi
        if np.any(lo > hi):
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        # stratified (Latin hypercube) sample of the box
        u = (rng.permuted(np.tile(np.arange(n), (D, 1)), axis=1).T + rng.random((n, D))) / n
        X = lo + u * (hi - lo)
        extra = [0.5 * (lo + hi), np.clip(self.table.no_deal[self.prow].mean(axis=0)
                                          if self.prow.size else 0.5 * (lo + hi), lo, hi)]
        for p in self.prow:
            extra.append(np.clip(self.table.ideal[p], lo, hi))
        base = extra[1]
        for k in range(D):
            for a, b in self.game.agreement_set(k):
                for v in np.linspace(a, b, 5):
                    y = base.copy()
                    y[k] = v
                    extra.append(y)
        return np.vstack([X, np.array(extra)])

    def polish(self, x: np.ndarray, score, *, tol: float = 1e-4,
               max_iter: int = 400) -> np.ndarray:
        """Compass search: move one issue at a time while the score improves and the package
        stays ratified; halve the steps when stuck."""
        step = 0.1 * self.width
        best = x.copy()
        fb = float(score(best[None])[0])
        it = 0
        D = len(x)
        while np.any(step > tol * self.width) and it < max_iter:
            it += 1
            trial = np.repeat(best[None], 2 * D, axis=0)
            idx = np.arange(D)
            trial[idx, idx] += step
            trial[D + idx, idx] -= step
            trial = np.clip(trial, self.box_lo, self.box_hi)
            ok = self.margins(trial) >= 0
            sc = np.where(ok, score(trial), -np.inf)
            k = int(np.argmax(sc))
            if sc[k] > fb + 1e-12:
                best, fb = trial[k], float(sc[k])
            else:
                step = step / 2
        return best

    def run(self, *, n_samples: int = 20000, n_top: int = 3, n_polish: int = 5,
            rng: SeedLike = 0) -> SearchResult:
        g = as_generator(rng)
        X = self.candidates(n_samples, g)
        m = self.margins(X)
        ok = m >= 0
        if not ok.any():
            return SearchResult(self.month, self.principals, False, (), (),
                                self._binding(X, m), None, len(X), 0)
        F = X[ok]
        nash = self.nash(F)
        rob = m[ok]
        picks = []
        for key, score in (("nash", self.nash), ("robustness", self.margins)):
            vals = nash if key == "nash" else rob
            top = np.argsort(-vals)[:n_polish]
            pol = np.array([self.polish(F[i], score) for i in top])
            picks.append(np.vstack([pol, F[np.argsort(-vals)[:50]]]))
        P = np.vstack(picks)
        P = P[self.margins(P) >= 0]
        by_nash = self._rank(P, self.nash(P), n_top)
        by_rob = self._rank(P, self.margins(P), n_top)
        return SearchResult(self.month, self.principals, True, by_nash, by_rob, None, None,
                            len(X), int(ok.sum()))

    def _rank(self, P: np.ndarray, vals: np.ndarray, n: int) -> tuple[dict[str, Any], ...]:
        order = np.argsort(-vals)
        out: list[np.ndarray] = []
        rows = []
        for i in order:
            x = P[i]
            if any(np.max(np.abs(x - y) / self.width) < 0.02 for y in out):
                continue  # near-duplicate of a better package
            out.append(x)
            gains = self.table.gain(x[None])[0]
            rows.append({
                "package": {iss: float(v) for iss, v in zip(self.ids, x, strict=True)},
                "nash": float(self.nash(x[None])[0]),
                "robustness": float(self.margins(x[None])[0]),
                "gains": {p: float(gains[self.table.index(p)]) for p in self.principals
                          if p in self.table.actor_ids},
            })
            if len(rows) >= n:
                break
        return tuple(rows)

    def _binding(self, X: np.ndarray, m: np.ndarray) -> dict[str, Any]:
        i = int(np.argmax(m))
        x = X[i]
        x = self.polish_closest(x)
        rat = self.game.ratified(x[None])[0]
        slack = self.game.slack(x[None])[0] - self._audience(x[None])[0]
        col = 0
        blockers: list[dict[str, Any]] = []
        for p, gm in enumerate(self.game.games):
            for r in gm.ratifiers:
                if slack[col] < 0 and (r.veto or not rat[p]):
                    blockers.append({"principal": gm.principal, "ratifier": r.id,
                                     "veto": r.veto, "shortfall": float(-slack[col])})
                col += 1
        blockers.sort(key=lambda b: -b["shortfall"])
        clashes = []
        for k in range(len(self.ids)):
            b = self.game.binding(k)
            if b["clash"] or b["empty_win_sets"]:
                clashes.append(b)
        margin = float(self.margins(x[None])[0])
        if clashes:
            c = clashes[0]
            if c["clash"]:
                hi_p, need = c["clash"]["needs_at_least"]
                lo_p, allow = c["clash"]["allows_at_most"]
                text = (f"on {c['issue']}, {hi_p} needs at least {need:.1f} but {lo_p} "
                        f"allows at most {allow:.1f}")
            else:
                text = f"on {c['issue']}, {', '.join(c['empty_win_sets'])} accept nothing"
        elif blockers:
            b = blockers[0]
            text = (f"{b['principal']}'s {b['ratifier']} rejects even the closest package "
                    f"(short by {b['shortfall']:.3f} utility)")
        else:
            text = "the principals' red lines leave no common package"
        return {"summary": text, "closest_package": {iss: float(v) for iss, v in
                                                     zip(self.ids, x, strict=True)},
                "closest_margin": margin, "blockers": blockers, "issue_clashes": clashes,
                "ratified_by": [p for p, ok in zip(self.game.principals, rat, strict=True)
                                if ok]}

    def polish_closest(self, x: np.ndarray) -> np.ndarray:
        step = 0.1 * self.width
        best, fb = x.copy(), float(self.margins(x[None])[0])
        D = len(x)
        for _ in range(200):
            if not np.any(step > 1e-3 * self.width):
                break
            trial = np.repeat(best[None], 2 * D, axis=0)
            idx = np.arange(D)
            trial[idx, idx] += step
            trial[D + idx, idx] -= step
            trial = np.clip(trial, self.lo, self.hi)
            sc = self.margins(trial)
            k = int(np.argmax(sc))
            if sc[k] > fb + 1e-12:
                best, fb = trial[k], float(sc[k])
            else:
                step = step / 2
        return best


def search_deals(scenario: Scenario, *, month: int = 0, principals: tuple[str, ...] | None = None,
                 n_samples: int = 20000, n_top: int = 3, horizon: int | None = None,
                 attrition: AttritionParams | None = None, rng: SeedLike = 0) -> SearchResult:
    """Best packages at ``month``; if none, the binding constraint and the first month (up to
    ``horizon``, default the attrition path's months) at which one exists."""
    res = DealSearch(scenario, month=month, principals=principals,
                     attrition=attrition).run(n_samples=n_samples, n_top=n_top, rng=rng)
    if res.feasible or scenario.conflict is None:
        return res
    last = horizon if horizon is not None else (attrition or AttritionParams()).months
    first = None
    for t in range(month + 1, last + 1):
        ds = DealSearch(scenario, month=t, principals=principals, attrition=attrition)
        probe = ds.run(n_samples=max(2000, n_samples // 10), n_top=1, n_polish=1, rng=rng)
        if probe.feasible:
            first = t
            break
    return SearchResult(res.month, res.principals, False, (), (), res.binding, first,
                        res.n_candidates, 0)
