"""Stokman's exchange model: actors trade support across issues (models.md §4).

Actors on opposite sides of the expected outcome on two issues can both gain by trading
*voting positions*: each moves, on the issue it cares less about, toward the other's
position, and in return the other moves on the issue the first cares more about. The
equal-gain rule sets the two shifts so that both gain the same utility. Exchanges are
realised best-first within a round; the positions actors vote for become the round's
outcome, and actors then internalise part of their voting position before the next round.

This is a clean re-implementation of the *Decide* equal-gain exchange model (the
``decide-exchange-model`` package, GPL-3.0; read, never imported). With the ``decide`` preset
it reproduces Decide round for round, including its defects; the defaults fix them. See
``docs/models/exchange.md`` for the specification, the defects and the cross-check.

Usage::

    from detente.models.exchange import ExchangeModel
    f = ExchangeModel().forecast(scenario, rng=7)
    f.details["rounds"][0]["exchanges"]      # the trades realised in round 1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from detente.errors import ModelError
from detente.models._exchange_engine import RoundResult, UniformStream, run_round
from detente.models.base import (
    Forecast,
    ForecastModel,
    ModelParams,
    ModelTags,
    RunResult,
    StopRule,
    iterate,
)
from detente.random import SeedLike
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario

__all__ = ["ExchangeModel", "ExchangeParams", "run_exchange", "stance_order"]


_SUM_ORDER: ContextVar[list[list[int]] | None] = ContextVar("exchange_sum_order",
                                                           default=None)


def _default_stop() -> StopRule:
    return StopRule(max_rounds=10)


class ExchangeParams(ModelParams):
    """Parameters of the exchange model.

    stop: the shared stopping rule on the actors' start positions (normalised 0-100 scale):
        stop after ``patience`` quiet rounds, a repeated state, or ``max_rounds`` (Decide runs
        a fixed 10 rounds by default).
    salience_weight, fixed_weight: how much of its voting position y an actor internalises
        before the next round: ``x' = x + (salience_weight (1 - s) + fixed_weight)(y - x)``
        (Decide: 0.4 and 0.1).
    scheduler: ``"queue"`` realises the best exchange from a priority queue and breaks exact
        ties uniformly at random with the forecast's ``rng``; ``"decide"`` reproduces Decide
        exactly (``_exchange_decide``: its list, coin flip and duplicate entries, per-exchange
        state and 28-digit Decimal arithmetic; as slow as Decide).
    update_rule: how a demander's adjusted outcome records a partner's repeated moves:
        ``"latest"`` uses the partner's latest voting position; ``"decide"`` keeps Decide's
        rule, which can keep an older, smaller move (a defect).
    random_rate: the random-rate variant's p (models.md §4.2 step 9). 0 (default) is the
        equal-gain split; with p > 0 every computed exchange draws u, v, z from the
        forecast's ``rng``: u picks the side whose gain is drawn, v whether it wins (its gain
        rises to ``eu + p z (eu_max - eu)``) or loses (falls to ``eu (1 - p z)``), and the
        moves follow from that gain. Repetitions (Monte Carlo seeds) give an outcome
        distribution. The realisation order stays that of the equal gains, as in Decide.
    """

    stop: StopRule = Field(default_factory=_default_stop)
    salience_weight: float = Field(default=0.4, ge=0, le=1)
    fixed_weight: float = Field(default=0.1, ge=0, le=1)
    scheduler: Literal["queue", "decide"] = "queue"
    update_rule: Literal["latest", "decide"] = "latest"
    random_rate: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _weights(self) -> ExchangeParams:
        if self.salience_weight + self.fixed_weight > 1 + 1e-12:
            raise ValueError("salience_weight + fixed_weight must be at most 1 (an actor "
                             "cannot internalise more than its whole voting position)")
        return self


class ExchangeModel(ForecastModel):
    """Stokman's equal-gain exchange model (vote trading across issue pairs)."""

    name: ClassVar[str] = "exchange"
    Params: ClassVar[type[ModelParams]] = ExchangeParams
    tags: ClassVar[ModelTags] = ModelTags(per_issue=False, multi_dimensional=True,
                                          round_based=True, stochastic=True)
    summary: ClassVar[str] = ("Stokman's exchange model: actors trade support across issue "
                              "pairs at equal gain (Decide-compatible)")
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "decide": {
            "scheduler": "decide",
            "update_rule": "decide",
            "stop": {"max_rounds": 10, "tol": 0.0, "patience": 1, "detect_cycles": False},
        },
    }

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        # the decide preset sums in the order of the stances (Decide's file order); arrays
        # do not carry it, so hand it to _run through a context variable
        token = _SUM_ORDER.set(stance_order(scenario))
        try:
            return super().forecast(scenario, rng=rng)
        finally:
            _SUM_ORDER.reset(token)

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        p: ExchangeParams = self.params  # type: ignore[assignment]
        if p.scheduler == "decide":
            def draw(_kind: str, _what: Any) -> float:
                return float(rng.random())

            return run_exchange(arrays, p, draw=draw, sum_order=_SUM_ORDER.get())

        def choose(k: int) -> np.ndarray:
            return rng.random(k)

        # u, v, z come from a child stream so that the tie draws are those of p = 0
        split = rng.spawn(1)[0] if p.random_rate > 0 else None
        return run_exchange(arrays, p, choose=choose, rng=split)


def stance_order(scenario: Scenario) -> list[list[int]]:
    """Per issue, the actor indices in the order of the scenario's stances."""
    a_idx = {a.id: k for k, a in enumerate(scenario.actors)}
    i_idx = {i.id: k for k, i in enumerate(scenario.issues)}
    out: list[list[int]] = [[] for _ in scenario.issues]
    for st in scenario.stances:
        if st.actor in a_idx and st.issue in i_idx:
            out[i_idx[st.issue]].append(a_idx[st.actor])
    return out


def _normalise(arrays: ScenarioArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = arrays.scale_min
    width = arrays.width
    P = (arrays.position - lo[None, :]) * (100.0 / width)[None, :]
    return P, lo, width


def run_exchange(arrays: ScenarioArrays, params: ExchangeParams, *,
                 draw: Callable[[str, Any], float] | None = None,
                 sum_order: list[list[int]] | None = None,
                 choose: Callable[[int], np.ndarray] | None = None,
                 rng: np.random.Generator | None = None) -> RunResult:
    """Run the model on ``arrays``.

    ``scheduler="decide"``: ``draw(kind, what)`` returns each uniform draw Decide would make,
    in Decide's order (``kind`` is ``"coin"`` for a tie between the two best exchanges,
    ``what`` then names them as (i, i's supply issue, j, j's supply issue) pairs; ``"uniform"``
    for the random-rate draws u, v, z); the cross-check replays Decide's own draws.
    ``scheduler="queue"``: ``choose(k)`` returns k uniform draws for the ties, ``rng`` draws
    u, v, z of the random-rate variant. ``sum_order`` (decide scheduler only): per issue, the
    actor indices in the order Decide sums over them (its file's ``#D`` rows)."""
    present = np.asarray(arrays.present, dtype=bool)
    for k, iss in enumerate(arrays.issue_ids):
        if not present[:, k].any():
            raise ModelError(f"exchange: issue {iss!r} has no actor with a stance")
    P, lo, width = _normalise(arrays)
    sal = np.where(present, arrays.salience, 0.0)
    cap = np.where(present, arrays.capability, 0.0)
    if params.scheduler == "decide":
        from detente.models._exchange_decide import run_decide_rounds

        dstep = run_decide_rounds(
            arrays.position, arrays.salience, arrays.capability, present, arrays.scale_min,
            arrays.scale_max, p=params.random_rate, sum_order=sum_order,
            draw=draw if draw is not None else (lambda _k, _w: 0.0),
            salience_weight=params.salience_weight, fixed_weight=params.fixed_weight,
            update_rule=params.update_rule)

        def step(x: np.ndarray, t: int) -> tuple[np.ndarray, RoundResult]:
            res = dstep(x, t)
            return res.next_start, res
    else:
        uni = None
        if params.random_rate > 0:
            # one stream of u, v, z for the whole run: unread values of a round carry over
            uni = UniformStream(rng if rng is not None else np.random.default_rng(0))

        def step(x: np.ndarray, t: int) -> tuple[np.ndarray, RoundResult]:
            res = run_round(x, sal, cap, present, choose=choose,
                            salience_weight=params.salience_weight,
                            fixed_weight=params.fixed_weight,
                            decide_updates=params.update_rule == "decide",
                            random_rate=params.random_rate, rng=uni)
            return res.next_start, res

    it = iterate(P, step, width=100.0, rule=params.stop)
    infos: list[RoundResult] = it.infos

    def denorm(v: np.ndarray) -> np.ndarray:
        return lo + np.asarray(v) * (width / 100.0)

    n_rounds = len(infos)
    positions = np.empty((n_rounds + 1, arrays.n_actors, arrays.n_issues))
    positions[0] = arrays.position
    for t, res in enumerate(infos, start=1):
        positions[t] = np.where(present, denorm(res.voting), np.nan)
    if infos:
        outcome = denorm(infos[-1].outcome)
    else:  # max_rounds == 0 cannot happen (StopRule), kept for safety
        outcome = denorm(run_round(P, sal, cap, present, choose=None, salience_weight=0,
                                   fixed_weight=0, decide_updates=False).expected)
    outcome = np.clip(outcome, arrays.scale_min, arrays.scale_max)
    details = _details(arrays, infos, denorm, it.cycle)
    return RunResult(
        outcome=outcome,
        positions=positions,
        rounds=np.full(arrays.n_issues, n_rounds),
        converged=np.full(arrays.n_issues, bool(it.converged)),
        details=details,
    )


def _details(arrays: ScenarioArrays, infos: list[RoundResult],
             denorm: Callable[[np.ndarray], np.ndarray],
             cycle: tuple[int, int] | None) -> dict[str, Any]:
    A, I = arrays.actor_ids, arrays.issue_ids  # noqa: E741
    lo, width = arrays.scale_min, arrays.width

    lo_l = [float(v) for v in lo]
    w_l = [float(v) for v in width]

    def dn(v: float, k: int) -> float:
        return lo_l[k] + v * w_l[k] / 100.0

    rounds: list[dict[str, Any]] = []
    all_moves: list[list[dict[str, Any]]] = []
    for t, res in enumerate(infos, start=1):
        exchanges = []
        moves = []
        for n, r in enumerate(res.realized, start=1):
            ai, aj = A[r["i"]], A[r["j"]]
            qi, pj = I[r["i_supply"]], I[r["j_supply"]]
            ex = {
                "order": n,
                "actors": [ai, aj],
                "issues": [qi, pj],
                "gain": r["gain"],
                "moves": [
                    {"actor": ai, "issue": qi, "from": dn(r["i_x"], r["i_supply"]),
                     "to": dn(r["i_y"], r["i_supply"])},
                    {"actor": aj, "issue": pj, "from": dn(r["j_x"], r["j_supply"]),
                     "to": dn(r["j_y"], r["j_supply"])},
                ],
            }
            exchanges.append(ex)
            for (me, other, mine, theirs, x, y, k) in (
                (ai, aj, qi, pj, r["i_x"], r["i_y"], r["i_supply"]),
                (aj, ai, pj, qi, r["j_x"], r["j_y"], r["j_supply"]),
            ):
                moves.append({
                    "round": t, "actor": me, "issue": mine, "from": dn(x, k), "to": dn(y, k),
                    "kind": "exchange", "counterpart": other,
                    "reason": (f"traded support: moved on {mine} toward {other} in exchange "
                               f"for {other} moving on {theirs}"),
                    "gain": r["gain"], "exchange": n, "demand_issue": theirs,
                })
        ex_out = denorm(res.expected)
        out = denorm(res.outcome)
        rounds.append({
            "round": t,
            "expected": {I[k]: float(ex_out[k]) for k in range(len(I))},
            "outcome": {I[k]: float(out[k]) for k in range(len(I))},
            "candidates": res.n_candidates,
            "ties": res.ties,
            "exchanges": exchanges,
            "moves": moves,
        })
        all_moves.append(moves)
    return {"rounds": rounds, "moves": all_moves,
            "cycle": None if cycle is None else {"first_round": cycle[0], "period": cycle[1]}}
