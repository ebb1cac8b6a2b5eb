"""Evaluate a proposal: who gains against no deal, who accepts, who vetoes and what flips a veto.

For a full point x (every issue; see :mod:`detente.deals.proposal`), each actor with a stance
gets the linear salience-weighted utility of models.md §3.2 and §6.2::

    u_i(x) = - sum_d s_id |x_d - x_id| / W_d        no deal:  u_i(z_i) - K_i

where z_i is the actor's no-deal belief (status quo; on the contested issue, its expected end of
the war at ``month`` from the attrition model; with neither, its worst point) and K_i its war
cost ``k_i D``. An actor **accepts** when its gain ``u_i(x) - (u_i(z_i) - K_i)`` is >= 0 and no
term crosses its red line or leaves its acceptable range. An actor whose signature is needed (a
principal: the conflict's sides, principals with a ratification block, parents of factions)
**vetoes** when it does not accept or its domestic ratifiers do not ratify
(:mod:`detente.conflict.ratification`); other actors only object.

For each veto the evaluation searches the smallest change -- on one issue, else on a pair of
issues -- that turns it into a yes (scale-normalised L1 distance, on a grid of ``flip_grid``
points per issue refined by bisection for single issues), and lists who would then say no.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from detente.conflict.attrition import AttritionParams, deal_commitment, war_values
from detente.conflict.implementation import ImplementationParams, deal_survival
from detente.conflict.ratification import (
    TwoLevelGame,
    actor_ratifier,
    needed_principals,
    two_level_game,
)
from detente.deals.proposal import Proposal
from detente.scenario.schema import Scenario

__all__ = ["ActorTable", "Evaluation", "actor_table", "evaluate"]


@dataclass(frozen=True, eq=False)
class ActorTable:
    """Vectorised Level-I acceptance of packages by every actor with a stance."""

    actor_ids: tuple[str, ...]
    ideal: np.ndarray  # [A, D] (0 where no stance; salience is 0 there)
    sal: np.ndarray  # [A, D]
    budget: np.ndarray  # [A] no-deal loss + cost
    no_deal: np.ndarray  # [A, D] believed no-deal point
    lb: np.ndarray  # [A, D] red line / acceptable range box
    ub: np.ndarray
    width: np.ndarray  # [D]
    capability: np.ndarray  # [A]

    def loss(self, X: np.ndarray) -> np.ndarray:
        from detente.conflict.ratification import _weighted_l1

        return _weighted_l1(np.atleast_2d(X), self.ideal, self.sal / self.width)

    def gain(self, X: np.ndarray) -> np.ndarray:
        """[N, A] utility of each package minus the value of no deal."""
        return self.budget[None] - self.loss(X)

    def in_box(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(X)
        return np.all((X[:, None, :] >= self.lb[None] - 1e-9)
                      & (X[:, None, :] <= self.ub[None] + 1e-9), axis=2)

    def accepts(self, X: np.ndarray) -> np.ndarray:
        return (self.gain(X) >= -1e-12) & self.in_box(X)

    def index(self, actor: str) -> int:
        return self.actor_ids.index(actor)


def actor_table(scenario: Scenario, *, month: int = 0,
                attrition: AttritionParams | None = None) -> ActorTable:
    """Build the acceptance table of every actor that has at least one stance."""
    wv = (war_values(scenario, month, attrition or AttritionParams(months=max(month, 1)))
          if scenario.conflict is not None else {})
    ids = scenario.issue_ids
    lo = np.array([i.scale_min for i in scenario.issues])
    hi = np.array([i.scale_max for i in scenario.issues])
    width = hi - lo
    actors = [a.id for a in scenario.actors
              if any(scenario.stance(a.id, i) is not None for i in ids)]
    rows = [actor_ratifier(scenario, a, a, wv, leader=True) for a in actors]
    lb = np.tile(lo, (len(actors), 1))
    ub = np.tile(hi, (len(actors), 1))
    for r, a in enumerate(actors):
        for k, i in enumerate(ids):
            st = scenario.stance(a, i)
            if st is None:
                continue
            if st.acceptable is not None:
                lb[r, k] = max(lb[r, k], st.acceptable[0])
                ub[r, k] = min(ub[r, k], st.acceptable[1])
            if st.red_line is not None:
                if st.red_line > st.position:
                    ub[r, k] = min(ub[r, k], st.red_line)
                else:
                    lb[r, k] = max(lb[r, k], st.red_line)
    return ActorTable(
        actor_ids=tuple(actors),
        ideal=np.array([np.nan_to_num(r.ideal) for r in rows]).reshape(len(actors), -1),
        sal=np.array([r.salience for r in rows]).reshape(len(actors), -1),
        budget=np.array([r.no_deal_loss(width) + r.cost for r in rows]),
        no_deal=np.array([r.reversion for r in rows]).reshape(len(actors), -1),
        lb=lb, ub=ub, width=width,
        capability=np.array([r.weight for r in rows], dtype=float),
    )


@dataclass(frozen=True)
class Evaluation:
    """The verdict on one proposal (``to_dict`` is the ``--json`` output)."""

    proposal: dict[str, Any]
    month: int
    actors: tuple[dict[str, Any], ...]
    ratification: tuple[dict[str, Any], ...]
    vetoes: tuple[dict[str, Any], ...]
    survival: dict[str, Any] | None
    commitment: dict[str, Any] | None
    verdict: str

    @property
    def passes(self) -> bool:
        return not self.vetoes

    def to_dict(self) -> dict[str, Any]:
        return {"proposal": self.proposal, "month": self.month, "verdict": self.verdict,
                "passes": self.passes, "actors": list(self.actors),
                "ratification": list(self.ratification), "vetoes": list(self.vetoes),
                "survival": self.survival, "commitment": self.commitment}


class _Judge:
    """Vectorised yes/no of every actor and principal on candidate packages."""

    def __init__(self, scenario: Scenario, table: ActorTable, game: TwoLevelGame,
                 principals: tuple[str, ...]) -> None:
        self.s = scenario
        self.t = table
        self.g = game
        self.principals = principals

    def yes(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """{actor: [N] bool}: Level-I acceptance, and for principals also ratification."""
        acc = self.t.accepts(X)
        rat = self.g.ratified(X)
        out = {a: acc[:, k] for k, a in enumerate(self.t.actor_ids)}
        for p, name in enumerate(self.g.principals):
            base = out.get(name, np.ones(acc.shape[0], bool))
            out[name] = base & rat[:, p]
        return out


def _reasons(scenario: Scenario, table: ActorTable, k: int, x: np.ndarray,
             gain: float) -> list[str]:
    a = table.actor_ids[k]
    out = []
    for j, iss in enumerate(scenario.issues):
        st = scenario.stance(a, iss.id)
        if st is None:
            continue
        if st.red_line is not None and st.rejects(float(x[j])) and (
                (st.red_line > st.position and x[j] > st.red_line)
                or (st.red_line < st.position and x[j] < st.red_line)):
            out.append(f"{iss.id} = {x[j]:g} crosses its red line at {st.red_line:g}")
        elif st.acceptable is not None and not st.acceptable[0] <= x[j] <= st.acceptable[1]:
            out.append(f"{iss.id} = {x[j]:g} is outside its acceptable range "
                       f"[{st.acceptable[0]:g}, {st.acceptable[1]:g}]")
    if gain < 0:
        out.append(f"worse than no deal by {-gain:.3f} utility")
    return out


def _flip(judge: _Judge, who: str, x: np.ndarray, lo: np.ndarray, hi: np.ndarray,
          grid: int) -> dict[str, Any] | None:
    """Smallest change on one issue (else two) that makes ``who`` say yes."""
    D = len(x)
    width = hi - lo
    before = judge.yes(x[None])
    said_yes = {a for a, v in before.items() if v[0]}
    best: tuple[float, np.ndarray] | None = None
    for j in range(D):
        vals = np.linspace(lo[j], hi[j], grid)
        X = np.repeat(x[None], grid, axis=0)
        X[:, j] = vals
        ok = judge.yes(X)[who]
        if not ok.any():
            continue
        cand = vals[ok]
        v = float(cand[np.argmin(np.abs(cand - x[j]))])
        # refine the boundary between x_j and v by bisection
        a_, b_ = float(x[j]), v
        for _ in range(30):
            mid = 0.5 * (a_ + b_)
            y = x.copy()
            y[j] = mid
            if judge.yes(y[None])[who][0]:
                b_ = mid
            else:
                a_ = mid
        y = x.copy()
        y[j] = b_
        cost = abs(b_ - x[j]) / width[j]
        if best is None or cost < best[0]:
            best = (cost, y)
    if best is None and D >= 2:
        g2 = max(11, min(31, grid // 4))
        for j, k in itertools.combinations(range(D), 2):
            vj, vk = np.linspace(lo[j], hi[j], g2), np.linspace(lo[k], hi[k], g2)
            J, K = np.meshgrid(vj, vk, indexing="ij")
            X = np.repeat(x[None], J.size, axis=0)
            X[:, j], X[:, k] = J.ravel(), K.ravel()
            ok = judge.yes(X)[who]
            if not ok.any():
                continue
            cost = (np.abs(X[:, j] - x[j]) / width[j] + np.abs(X[:, k] - x[k]) / width[k])
            cost = np.where(ok, cost, np.inf)
            n = int(np.argmin(cost))
            if best is None or cost[n] < best[0]:
                best = (float(cost[n]), X[n].copy())
    if best is None:
        return None
    y = best[1]
    after = judge.yes(y[None])
    lost = sorted(a for a in said_yes if not after[a][0])
    changed = {judge.s.issue_ids[j]: float(y[j]) for j in range(D)
               if abs(y[j] - x[j]) > 1e-9 * width[j]}
    return {"changes": changed, "from": {i: float(x[judge.s.issue_ids.index(i)])
                                         for i in changed},
            "distance": float(best[0]), "would_lose": lost}


def evaluate(scenario: Scenario, proposal: Proposal, *, month: int = 0,
             where: str | None = None, attrition: AttritionParams | None = None,
             implementation: ImplementationParams | None = None,
             flip_grid: int = 201) -> Evaluation:
    """Evaluate ``proposal`` on ``scenario`` at ``month`` of the war (0 = now)."""
    terms = proposal.resolve(scenario, where=where)
    ids = scenario.issue_ids
    x = np.array([terms[i] for i in ids], dtype=float)
    lo = np.array([i.scale_min for i in scenario.issues])
    hi = np.array([i.scale_max for i in scenario.issues])
    ap = attrition or AttritionParams(months=max(month, 1))
    table = actor_table(scenario, month=month, attrition=ap)
    principals = needed_principals(scenario)
    game = two_level_game(scenario, month=month, principals=principals or None,
                          attrition=ap) if principals else None
    gain = table.gain(x[None])[0]
    acc = table.accepts(x[None])[0]
    actors: list[dict[str, Any]] = []
    for k, a in enumerate(table.actor_ids):
        u = -float(table.loss(x[None])[0, k])
        actors.append({"actor": a, "utility": u, "no_deal": u - float(gain[k]),
                       "gain": float(gain[k]), "accepts": bool(acc[k]),
                       "principal": a in principals,
                       "reasons": [] if acc[k] else _reasons(scenario, table, k, x,
                                                             float(gain[k]))})
    ratification: list[dict[str, Any]] = []
    if game is not None:
        rat = game.ratified(x[None])[0]
        app = game.approvals(x[None])[0]
        col = 0
        for gi, g in enumerate(game.games):
            rej = []
            for rf in g.ratifiers:
                if not app[col]:
                    rej.append({"id": rf.id, "veto": rf.veto, "weight": rf.weight,
                                "leader": rf.leader})
                col += 1
            ratification.append({"principal": g.principal, "rule": g.rule,
                                 "ratified": bool(rat[gi]), "rejected_by": rej})
    vetoes = []
    if game is not None:
        judge = _Judge(scenario, table, game, principals)
        yes = judge.yes(x[None])
        rat_of = {r["principal"]: r for r in ratification}
        by_actor = {row["actor"]: row for row in actors}
        for p in principals:
            if yes[p][0]:
                continue
            why = list(by_actor.get(p, {}).get("reasons", []))
            r = rat_of.get(p)
            if r is not None and not r["ratified"]:
                names = ", ".join(f"{q['id']}{' (veto)' if q['veto'] else ''}"
                                  for q in r["rejected_by"])
                why.append(f"not ratified at home: rejected by {names}")
            vetoes.append({"actor": p, "reasons": why,
                           "flip": _flip(judge, p, x, lo, hi, flip_grid)})
    surv = None
    if scenario.conflict is not None:
        surv = deal_survival(scenario, terms, guarantee=proposal.guarantee, signed=month,
                             params=implementation, attrition=ap).to_dict()
    com = deal_commitment(scenario, terms, month=month, params=ap)
    if vetoes:
        verdict = "blocked: " + "; ".join(f"{v['actor']} vetoes" for v in vetoes)
    else:
        verdict = "every needed principal accepts and ratifies"
    objecting = [row["actor"] for row in actors if not row["accepts"] and not row["principal"]]
    if objecting:
        verdict += f" (objecting without a veto: {', '.join(objecting)})"
    return Evaluation(
        proposal={"id": proposal.id, "name": proposal.name, "terms": terms,
                  "unchanged": proposal.unchanged(scenario), "guarantee": proposal.guarantee},
        month=month, actors=tuple(actors), ratification=tuple(ratification),
        vetoes=tuple(vetoes), survival=surv, commitment=com, verdict=verdict)
