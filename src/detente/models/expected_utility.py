"""Bueno de Mesquita's expected-utility ("challenge") model as unravelled by Scholz et al. 2011.

Specification: ``models.md`` §1. Each issue is solved on its own. In every round each actor
i weighs, for every other actor j, what it expects to gain by challenging j
(``EU_ij``) against what j expects to gain by challenging i (``EU_ji``); depending on the
signs and sizes of the two, j's "offer" to i is a conflict i expects to lose (i moves to
x_j), a compromise (i moves the fraction |EU_ij|/EU_ji of the way) or a capitulation (i
moves to x_j). Each actor accepts one offer and all move at once. The forecast is the
c·s-weighted median (BDM's median voter) of the final positions; the c·s-weighted mean is
reported next to it.

Every point on which the published replications disagree (§1.12) is a parameter of
:class:`ExpectedUtilityModel.Params`; the presets ``scholz`` (reproduces the jmckib / Scholz
numbers exactly) and ``paper`` (the documented formulas) pick a consistent set.

Public helpers, all on one issue (1-D arrays; W = the issue's scale width):

* :func:`median_voter`, :func:`mean_voter` — the two forecasts of a set of positions.
* :func:`win_probability` — the P matrix of a variant (``P[i, j]``: i beats j).
* :func:`expected_utility_matrix` — ``EU[i, j]``, i's expected gain from challenging j.
* :func:`risk_exponents` — r_i from the threat sums (§1.7).
* :func:`compute_round` — everything one round computes (:class:`RoundState`).
* :func:`quad_map` — BDM's perceptual map of one actor: (EU_ij, EU_ji) and a quadrant label.
* :func:`explain_lines` — "round t: X moved a -> b because ..." lines from a forecast.

Batched entry for Monte Carlo::

    solve_batch(x, c, s, *, width, params=None) -> BatchResult

runs B independent draws of one issue at once: ``x``, ``c``, ``s`` are ``[B, n]`` arrays
(positions on the issue scale, capabilities, saliences on 0-1), ``width`` the scale width
(a float or ``[B]``), ``params`` an :class:`ExpectedUtilityModel.Params`, a dict or a
model. It applies exactly the same rounds and stopping rule as the model (each draw stops
on its own) and returns ``BatchResult(outcome, median, mean, rounds, converged,
cycle_period, positions, path)`` with ``[B]`` arrays (``positions``: the ``[B, n]`` final ones;
``path``: ``[B, T + 1]`` the group forecast after each round, for Monte Carlo fan charts).

Quadrant labels of :func:`quad_map` (seen by actor i, A = EU_ij, B = EU_ji):
``conflict`` (A > 0 and B > 0; ``i_wins`` if A >= B else ``i_loses``), ``compromise``
(signs differ and the winner's gain exceeds the loser's loss: ``i_concedes`` when B > 0 > A,
``j_concedes`` when A > 0 > B), ``capitulation`` (signs differ and the loser's loss is at
least the winner's gain: ``i_capitulates`` / ``i_dominates``), ``stalemate`` (A <= 0 and
B <= 0: neither expects to gain, the status quo holds) and ``same_position`` (j stands where i
stands; both expected utilities are 0 and no offer is possible).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from detente.errors import ModelError, NotConvergedWarning, ParamsError
from detente.models import _eu_kernels as K
from detente.models.base import (
    Forecast,
    IssueData,
    IssueResult,
    ModelParams,
    ModelTags,
    PerIssueModel,
    RunResult,
    StopRule,
    iterate,
)
from detente.scenario.arrays import ScenarioArrays, scenario_arrays
from detente.scenario.schema import Scenario

__all__ = [
    "BatchResult",
    "ExpectedUtilityModel",
    "EUParams",
    "RoundState",
    "compute_round",
    "expected_utility_matrix",
    "explain_lines",
    "mean_voter",
    "median_voter",
    "quad_map",
    "risk_exponents",
    "solve_batch",
    "win_probability",
]


class EUParams(ModelParams):
    """Parameters of the expected-utility model; each is one point of models.md §1.12."""

    prob: Literal["paper", "net", "exclude_ij", "triples"] = Field(
        default="paper",
        description="win probability P_ij (§1.5): 'paper' positive votes / all |votes|; 'net' "
        "net vote / all |votes| (Masad v1); 'exclude_ij' as paper without i's and j's votes "
        "(Preana); 'triples' positive votes / |votes| of all voters on all ordered pairs "
        "(jmckib, Scholz's code)",
    )
    voter_risk: bool | None = Field(
        default=None,
        description="do voters weigh distances with their own risk exponent r_k when P is "
        "recomputed after the risk step (§1.12 #2)? None follows the variant: yes for "
        "'triples', no otherwise",
    )
    risk_view: Literal["perceiver", "own"] = Field(
        default="perceiver",
        description="whose exponent evaluates EU_ji as i sees it (§1.7): 'perceiver' the "
        "receiver i's (jmckib), 'own' j's (Masad v1)",
    )
    Q: float = Field(default=1.0, ge=0.0, le=1.0,
                     description="probability that the status quo persists if i does not "
                     "challenge (§1.6)")
    T: float = Field(default=1.0, ge=0.0, le=1.0,
                     description="probability that a change without challenge favours i (§1.6)")
    risk_set: Literal["actors", "positions"] = Field(
        default="actors",
        description="what an actor's threat is compared with to set r_i (§1.7): 'actors' all "
        "actors' threats (Scholz's code); 'positions' i's own threat had it held each of the "
        "actors' current positions (BDM 1985 per jmckib; O(n^3 m) per round, slow for many "
        "actors)",
    )
    threat: Literal["received", "own"] = Field(
        default="received",
        description="what is summed into the threat (§1.12 #5b): 'received' sum_j EU_ji "
        "(Masad v1, jmckib); 'own' sum_j EU_ij (minimalgeek)",
    )
    offer_pick: Literal["least_move", "jmckib", "max_sender_eu"] = Field(
        default="least_move",
        description="which offer an actor accepts (§1.8): 'least_move' the smallest move "
        "(BDM, Scholz's paper); 'jmckib' conflicts first, then compromises by Scholz's code's "
        "key, then capitulations; 'max_sender_eu' the offer whose sender gains most (Masad v1)",
    )
    capitulation: bool = Field(
        default=True,
        description="allow capitulation offers (|EU_ij| >= EU_ji > 0 > EU_ij); False "
        "reproduces jmckib, where a typo makes them never fire",
    )
    stop: StopRule = Field(default_factory=StopRule,
                           description="stopping rule (§1.9): tolerance, patience, round cap, "
                           "cycle detection")
    forecast: Literal["median", "mean"] = Field(
        default="median",
        description="point forecast: the c·s-weighted median (median voter, BDM) or mean",
    )

    @property
    def uses_voter_risk(self) -> bool:
        return self.prob == "triples" if self.voter_risk is None else bool(self.voter_risk)


# ------------------------------------------------------------------------------ helpers


def _as_params(params: Any) -> EUParams:
    if params is None:
        return EUParams()
    if isinstance(params, EUParams):
        return params
    if isinstance(params, ExpectedUtilityModel):
        return params.params
    if isinstance(params, Mapping):
        return ExpectedUtilityModel(dict(params)).params
    raise ParamsError(f"expected_utility: params must be EUParams, a dict or a model, not "
                      f"{type(params).__name__}")


def _row(a: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(a, dtype=float))[None, :]


def median_voter(x: Any, c: Any, s: Any) -> float:
    """The median-voter (Condorcet) position: the c·s-weighted median of ``x`` (§1.3)."""
    return float(K.weighted_median(_row(x), _row(c) * _row(s))[0])


def mean_voter(x: Any, c: Any, s: Any) -> float:
    """The c·s-weighted mean of ``x`` ('mean voter')."""
    return float(K.weighted_mean(_row(x), _row(c) * _row(s))[0])


def win_probability(x: Any, c: Any, s: Any, width: float, prob: str = "paper",
                    r: Any = None, *, method: str = "prefix") -> np.ndarray:
    """``P[i, j]``, the probability that i beats j (§1.5) under variant ``prob``.

    ``r``: the voters' risk exponents (None = 1 for all). ``method``: 'prefix' (exact,
    O(n^2 log n)) or 'direct' (the O(n^3) vote tensor, for checks).
    """
    rr = None if r is None else _row(r)
    return K.win_prob(_row(x), _row(c), _row(s), float(width), prob, rr, method=method)[0]


def expected_utility_matrix(x: Any, s: Any, width: float, p: np.ndarray, *,
                            mu: float | None = None, c: Any = None, r: Any = None,
                            Q: float = 1.0, T: float = 1.0) -> np.ndarray:
    """``EU[i, j]``: i's expected utility of challenging j (§1.6), evaluated with i's risk
    exponent ``r[i]`` (None = 1). ``mu`` (the median; only used when Q < 1) defaults to the
    median voter, which then needs ``c``. The diagonal is 0.
    """
    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    n = x.size
    if mu is None:
        mu = median_voter(x, np.ones(n) if c is None else c, s) if Q != 1.0 else 0.0
    d = np.abs(x[:, None] - x[None, :]) / width
    dmu = np.abs(x - mu) / width
    rr = 1.0 if r is None else np.asarray(r, dtype=float)[:, None]
    eu = K.eu_challenge(d, np.asarray(p, dtype=float), s[None, :], dmu[:, None], rr,
                        float(Q), float(T))
    eu = np.array(eu, dtype=float)
    np.fill_diagonal(eu, 0.0)
    return eu


def risk_exponents(eu: np.ndarray, threat: str = "received") -> np.ndarray:
    """Risk exponents r_i in [0.5, 2] from an r = 1 EU matrix, compared across actors (§1.7).

    ``threat='received'``: Threat_i = sum_j EU_ji; ``'own'``: sum_j EU_ij.
    """
    eu = np.array(eu, dtype=float)
    np.fill_diagonal(eu, 0.0)
    th = eu.sum(axis=0) if threat == "received" else eu.sum(axis=1)
    return K.risk_from_threat(th[None, :])[0]


# ------------------------------------------------------------------------------ one round


@dataclass(frozen=True)
class RoundState:
    """Everything one round computes, batched on axis 0 (B draws; 1 for a single issue).

    mu: median voter before the round; p1: win probabilities with r = 1; eu1: EU with
    r = 1 (diagonal 0); threat: the threat sums; r: risk exponents; p: the win
    probabilities used for the offers; a/b: EU_ij / EU_ji as receiver i sees them; kind /
    target: every offer j makes to i (KIND_* codes); new: positions after the round;
    counterpart: whose offer i accepted (-1: none).
    """

    mu: np.ndarray
    p1: np.ndarray
    eu1: np.ndarray
    threat: np.ndarray
    r: np.ndarray
    p: np.ndarray
    a: np.ndarray
    b: np.ndarray
    kind: np.ndarray
    target: np.ndarray
    new: np.ndarray
    counterpart: np.ndarray


def _eu1(x: np.ndarray, s: np.ndarray, width: np.ndarray, mu: np.ndarray, p1: np.ndarray,
         prm: EUParams) -> np.ndarray:
    d = np.abs(x[:, :, None] - x[:, None, :]) / width[:, None, None]
    dmu = np.abs(x - mu[:, None]) / width[:, None]
    gs, gf = K.gains(d, 1.0)
    eu1 = K.eu_from_gains(gs, gf, p1, s[:, None, :], dmu[:, :, None], d, 1.0, prm.Q, prm.T)
    eu1 = np.array(np.broadcast_to(eu1, d.shape))
    n = x.shape[1]
    eu1[:, np.arange(n), np.arange(n)] = 0.0
    return eu1


def _threat(eu1: np.ndarray, kind: str) -> np.ndarray:
    return eu1.sum(axis=1) if kind == "received" else eu1.sum(axis=2)


def _risk_over_positions(x: np.ndarray, c: np.ndarray, s: np.ndarray, width: np.ndarray,
                         mu: np.ndarray, threat: np.ndarray, prm: EUParams) -> np.ndarray:
    """r_i comparing i's threat with the threats i would face at each actor's position."""
    bsz, n = x.shape
    r = np.ones((bsz, n))
    for b in range(bsz):
        cands = np.unique(x[b])
        m = cands.size
        if m < 2:
            continue
        for i in range(n):
            xx = np.repeat(x[b][None, :], m, axis=0)
            xx[:, i] = cands
            cc = np.repeat(c[b][None, :], m, axis=0)
            ss = np.repeat(s[b][None, :], m, axis=0)
            ww = np.full(m, width[b])
            p1 = K.win_prob(xx, cc, ss, ww, prm.prob, None)
            eu1 = _eu1(xx, ss, ww, np.full(m, mu[b]), p1, prm)
            th = _threat(eu1, prm.threat)[:, i]
            r[b, i] = K.risk_from_threat(np.array([threat[b, i]]), lo=np.array([th.min()]),
                                         hi=np.array([th.max()]))[0]
    return r


def _round(x: np.ndarray, c: np.ndarray, s: np.ndarray, width: np.ndarray,
           prm: EUParams) -> RoundState:
    w = c * s
    mu = K.weighted_median(x, w)
    p1 = K.win_prob(x, c, s, width, prm.prob, None)
    eu1 = _eu1(x, s, width, mu, p1, prm)
    threat = _threat(eu1, prm.threat)
    if prm.risk_set == "actors":
        r = K.risk_from_threat(threat)
    else:
        r = _risk_over_positions(x, c, s, width, mu, threat, prm)
    p = K.win_prob(x, c, s, width, prm.prob, r) if prm.uses_voter_risk else p1
    d = np.abs(x[:, :, None] - x[:, None, :]) / width[:, None, None]
    dmu = np.abs(x - mu[:, None]) / width[:, None]
    ri = r[:, :, None]
    gs, gf = K.gains(d, ri)
    a = K.eu_from_gains(gs, gf, p, s[:, None, :], dmu[:, :, None], d, ri, prm.Q, prm.T)
    if prm.risk_view == "perceiver":  # same distances, same exponent: reuse the gains
        rb = ri
    else:
        rb = r[:, None, :]
        gs, gf = K.gains(d, rb)
    bm = K.eu_from_gains(gs, gf, np.swapaxes(p, 1, 2), s[:, :, None], dmu[:, None, :], d, rb,
                         prm.Q, prm.T)
    kind, target, new, cp = K.offers_and_pick(x, a, bm, prm.capitulation, prm.offer_pick)
    return RoundState(mu, p1, eu1, threat, r, p, a, bm, kind, target, new, cp)


def compute_round(x: Any, c: Any, s: Any, width: float, params: Any = None) -> RoundState:
    """One round of the model on one issue (arrays keep a leading batch axis of size 1)."""
    prm = _as_params(params)
    return _round(_row(x), _row(c), _row(s), np.array([float(width)]), prm)


# ------------------------------------------------------------------------------ batch


@dataclass(frozen=True)
class BatchResult:
    """Result of :func:`solve_batch`: ``[B]`` arrays (``positions``: ``[B, n]``)."""

    outcome: np.ndarray
    median: np.ndarray
    mean: np.ndarray
    rounds: np.ndarray
    converged: np.ndarray
    cycle_period: np.ndarray  # 0 where no cycle was found
    positions: np.ndarray
    #: ``[B, T + 1]``: the group forecast (median or mean, as ``params.forecast``) after each
    #: round, round 0 the initial positions; a draw that stopped early repeats its last value
    path: np.ndarray | None = None


def solve_batch(x: Any, c: Any, s: Any, *, width: Any, params: Any = None) -> BatchResult:
    """Run B independent draws of one issue (see the module docstring)."""
    prm = _as_params(params)
    x = np.array(x, dtype=float, ndmin=2)
    c = np.broadcast_to(np.asarray(c, dtype=float), x.shape)
    s = np.broadcast_to(np.asarray(s, dtype=float), x.shape)
    bsz, n = x.shape
    order = K.canonical_order(x, c, s)
    x = np.take_along_axis(x, order, axis=1)
    c = np.take_along_axis(c, order, axis=1)
    s = np.take_along_axis(s, order, axis=1)
    width = np.broadcast_to(np.asarray(width, dtype=float), (bsz,)).copy()
    if np.any(width <= 0):
        raise ModelError("expected_utility.solve_batch: width must be positive")
    rule = prm.stop
    w = c * s
    tol = width * rule.tol
    active = np.ones(bsz, dtype=bool)
    converged = np.zeros(bsz, dtype=bool)
    rounds = np.zeros(bsz, dtype=int)
    period = np.zeros(bsz, dtype=int)
    quiet = np.zeros(bsz, dtype=int)
    hist = [np.round(x, rule.cycle_decimals)]
    med_hist = [K.weighted_median(x, w)]
    mean_hist = [K.weighted_mean(x, w)]
    cyc_first = np.full(bsz, -1)
    for t in range(1, rule.max_rounds + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        st = _round(x[idx], c[idx], s[idx], width[idx], prm)
        new = x.copy()
        new[idx] = st.new
        moved = np.abs(new - x)
        still = np.all(moved < tol[:, None], axis=1)
        quiet = np.where(active, np.where(still, quiet + 1, 0), quiet)
        x = new
        rounds[idx] = t
        key = np.round(x, rule.cycle_decimals)
        med_hist.append(K.weighted_median(x, w))
        mean_hist.append(K.weighted_mean(x, w))
        done_conv = active & (quiet >= rule.patience)
        converged |= done_conv
        active &= ~done_conv
        if rule.detect_cycles:
            first = np.full(bsz, -1)
            for k, h in enumerate(hist):
                eq = np.all(h == key, axis=1)
                first = np.where(eq, k, first)  # latest matching round
            hit = active & (first >= 0)
            per = t - first
            stop = hit & ((per > 1) | (quiet == 0))
            fixed = stop & (per == 1)
            cyc = stop & (per > 1)
            converged |= fixed
            period = np.where(cyc, per, period)
            cyc_first = np.where(cyc, first, cyc_first)
            active &= ~stop
        hist.append(key)
    med_hist_a = np.array(med_hist)  # [T+1, B]
    mean_hist_a = np.array(mean_hist)
    rows = np.arange(bsz)
    med = med_hist_a[rounds, rows]
    mea = mean_hist_a[rounds, rows]
    series = med_hist_a if prm.forecast == "median" else mean_hist_a
    outcome = series[rounds, rows].copy()
    for b in np.flatnonzero(period > 0):
        f, p_ = cyc_first[b], period[b]
        outcome[b] = series[f:f + p_, b].mean()
    final = np.empty_like(x)
    np.put_along_axis(final, order, x, axis=1)
    return BatchResult(outcome, med, mea, rounds, converged, period, final, series.T.copy())


# ------------------------------------------------------------------------------ model


class ExpectedUtilityModel(PerIssueModel):
    """BDM's expected-utility model (Scholz et al. 2011 reading), one issue at a time.

    The point forecast is the median voter (or mean, ``forecast='mean'``) after the last
    round. When the positions cycle, the forecast is the mean of the per-round forecasts
    over one period of the cycle (the cycle and that distribution are in
    ``details[issue]['cycle']``), rather than an arbitrary last round.
    """

    name: ClassVar[str] = "expected_utility"
    Params: ClassVar[type[ModelParams]] = EUParams
    tags: ClassVar[ModelTags] = ModelTags(per_issue=True, capability_scale_invariant=True,
                                          stochastic=False, round_based=True)
    summary: ClassVar[str] = ("Bueno de Mesquita's expected-utility challenge model "
                              "(Scholz et al. 2011 reading), with every replication switch")
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "scholz": {
            "prob": "triples", "voter_risk": True, "risk_view": "perceiver", "Q": 1.0,
            "T": 1.0, "risk_set": "actors", "threat": "received", "offer_pick": "jmckib",
            "capitulation": False, "forecast": "median",
        },
        "paper": {
            "prob": "paper", "voter_risk": False, "risk_view": "perceiver", "Q": 1.0,
            "T": 1.0, "risk_set": "actors", "threat": "received",
            "offer_pick": "least_move", "capitulation": True, "forecast": "median",
        },
    }

    params: EUParams

    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        prm = self.params
        # solve on a canonical actor order so that no floating-point sum depends on the
        # order in which the scenario lists its actors
        order = K.canonical_order(issue.position, issue.capability, issue.salience)
        inv = np.argsort(order)
        x0 = issue.position[order].astype(float)
        c = issue.capability[order][None, :].astype(float)
        s = issue.salience[order][None, :].astype(float)
        width = np.array([issue.width])
        w = c * s

        def step(x: np.ndarray, t: int) -> tuple[np.ndarray, dict[str, Any]]:
            st = _round(x[None, :], c, s, width, prm)
            return st.new[0], _round_info(x, st, order, inv)

        res = iterate(x0, step, width=issue.width, rule=prm.stop)
        path = res.path
        med = K.weighted_median(path, np.broadcast_to(w, path.shape))
        mea = K.weighted_mean(path, np.broadcast_to(w, path.shape))
        series = med if prm.forecast == "median" else mea
        outcome = float(series[-1])
        details: dict[str, Any] = {
            "actors": [int(a) for a in issue.actors],
            "width": issue.width,
            "median": [float(v) for v in med],
            "mean": [float(v) for v in mea],
            "risk": [info["r"] for info in res.infos],
            "moves": [info["moves"] for info in res.infos],
            "cycle": None,
            "stopped": "converged" if res.converged else "max_rounds",
        }
        if res.cycle is not None:
            first, period = res.cycle
            window = series[first:first + period]
            outcome = float(window.mean())
            details["cycle"] = {
                "start": int(first),
                "period": int(period),
                "forecasts": [float(v) for v in window],
                "mean": outcome,
                "min": float(window.min()),
                "max": float(window.max()),
            }
            details["stopped"] = "cycle"
        details["forecast"] = {"kind": prm.forecast, "value": outcome,
                               "median": float(med[-1]), "mean": float(mea[-1])}
        return IssueResult(outcome=outcome, path=path[:, inv], converged=res.converged,
                           rounds=res.rounds, details=details)

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        res = super()._run(arrays, rng)
        ids = arrays.actor_ids
        details = {iss: _finalise(det, ids, self.params) for iss, det in res.details.items()}
        return RunResult(res.outcome, res.positions, res.rounds, res.converged, details)


def _round_info(x: np.ndarray, st: RoundState, order: np.ndarray, inv: np.ndarray
                ) -> dict[str, Any]:
    """Per-round record in the issue's own actor order (``order`` maps solver -> issue)."""
    cp = st.counterpart[0]
    moves = []
    for i in np.flatnonzero(cp >= 0):
        j = int(cp[i])
        moves.append({
            "i": int(order[i]), "j": int(order[j]), "kind": int(st.kind[0, i, j]),
            "from": float(x[i]), "to": float(st.new[0, i]),
            "eu_own": float(st.a[0, i, j]), "eu_other": float(st.b[0, i, j]),
            "n_offers": int((st.kind[0, i] > 0).sum()),
        })
    moves.sort(key=lambda m: m["i"])
    return {"r": [float(v) for v in st.r[0][inv]], "mu": float(st.mu[0]), "moves": moves}


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _reason(kind: str, who: str, other: str, a: float, b: float, n_offers: int,
            pick: str) -> str:
    if kind == "conflict":
        core = (f"{other} would press {who} and {who} expected to lose that conflict "
                f"(EU_ij = {_fmt(a)} < EU_ji = {_fmt(b)}, both positive), so {who} moved to "
                f"{other}'s position")
    elif kind == "compromise":
        core = (f"{who} expected to lose if {other} pressed it (EU_ij = {_fmt(a)} < 0 < "
                f"EU_ji = {_fmt(b)}) and conceded the fraction |EU_ij|/EU_ji = "
                f"{_fmt(abs(a) / b)} of the distance to {other}")
    else:
        core = (f"{who} expected to lose heavily if {other} pressed it (|EU_ij| = "
                f"{_fmt(abs(a))} >= EU_ji = {_fmt(b)}) and capitulated to {other}'s position")
    if n_offers > 1:
        core += f"; chosen among {n_offers} offers by the {pick} rule"
    return core


def _finalise(det: Mapping[str, Any], ids: tuple[str, ...], prm: EUParams) -> dict[str, Any]:
    """Turn the index-based details of solve_issue into id-based, explained ones."""
    out = dict(det)
    local = [ids[a] for a in det["actors"]]
    out["actors"] = local
    out["risk"] = [dict(zip(local, r, strict=True)) for r in det["risk"]]
    rounds = []
    for t, mv in enumerate(det["moves"], start=1):
        row = []
        for m in mv:
            who, other = local[m["i"]], local[m["j"]]
            kind = K.KIND_NAMES[m["kind"]]
            row.append({
                "round": t, "actor": who, "from": m["from"], "to": m["to"], "kind": kind,
                "counterpart": other, "eu_own": m["eu_own"], "eu_other": m["eu_other"],
                "reason": _reason(kind, who, other, m["eu_own"], m["eu_other"],
                                  m["n_offers"], prm.offer_pick),
            })
        rounds.append(row)
    out["moves"] = rounds
    return out


# ------------------------------------------------------------------------------ analysis


def _issue_arrays(scenario: Scenario, issue_id: str
                  ) -> tuple[ScenarioArrays, int, np.ndarray]:
    arr = scenario_arrays(scenario)
    try:
        k = arr.issue_index(issue_id)
    except ValueError:
        raise ModelError(f"unknown issue {issue_id!r}; known: {', '.join(arr.issue_ids)}"
                         ) from None
    return arr, k, np.flatnonzero(arr.present[:, k])


def _quadrant(a: float, b: float) -> tuple[str, str | None]:
    e = K.EPS
    if a > e and b > e:
        return "conflict", ("i_wins" if a >= b else "i_loses")
    if b > e and a < -e:
        return ("compromise", "i_concedes") if b > -a else ("capitulation", "i_capitulates")
    if a > e and b < -e:
        return ("compromise", "j_concedes") if a > -b else ("capitulation", "i_dominates")
    return "stalemate", None


_QUAD_TEXT = {
    ("conflict", "i_wins"): "conflict that {i} expects to win",
    ("conflict", "i_loses"): "conflict that {i} expects to lose",
    ("compromise", "i_concedes"): "{i} compromises towards {j}",
    ("compromise", "j_concedes"): "{j} compromises towards {i}",
    ("capitulation", "i_capitulates"): "{i} capitulates to {j}",
    ("capitulation", "i_dominates"): "{i} dominates: {j} capitulates",
    ("stalemate", None): "stalemate: neither expects to gain, the status quo holds",
    ("same_position", None): "{j} holds the same position as {i}: nothing to contest",
}


def quad_map(scenario: Scenario, issue_id: str, actor_id: str,
             model: ExpectedUtilityModel | None = None, *, round: int = 0
             ) -> list[dict[str, Any]]:
    """BDM's perceptual map of ``actor_id`` on ``issue_id``.

    For every other actor j with a stance: ``eu_ij`` (what i expects from challenging j),
    ``eu_ji`` (what j expects from challenging i, as i sees it with the model's
    ``risk_view``), the ``quadrant`` (conflict / compromise / capitulation / stalemate /
    same_position),
    ``side`` (who gives way, see the module docstring) and a plain ``label``. ``round``
    evaluates the map on the positions after that many rounds of ``model`` (default: the
    model's defaults; 0 = initial positions).
    """
    model = model if model is not None else ExpectedUtilityModel()
    if not isinstance(model, ExpectedUtilityModel):
        raise ModelError("quad_map needs an ExpectedUtilityModel")
    arr, k, idx = _issue_arrays(scenario, issue_id)
    ai = arr.actor_index(actor_id) if actor_id in arr.actor_ids else -1
    if ai < 0 or ai not in idx:
        raise ModelError(f"actor {actor_id!r} has no stance on issue {issue_id!r}")
    x = arr.position[idx, k].astype(float)
    if round > 0:
        stop = model.params.stop.model_copy(update={"max_rounds": int(round)})
        runner = ExpectedUtilityModel(model.params.model_copy(update={"stop": stop}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotConvergedWarning)
            fc = runner.forecast(scenario)
        row = min(round, fc.positions.shape[0] - 1)
        x = fc.positions[row, idx, k].astype(float)
    width = float(arr.width[k])
    st = compute_round(x, arr.capability[idx, k], arr.salience[idx, k], width, model.params)
    i = int(np.flatnonzero(idx == ai)[0])
    out = []
    for jj, j in enumerate(idx):
        if jj == i:
            continue
        a, b = float(st.a[0, i, jj]), float(st.b[0, i, jj])
        quad, side = ("same_position", None) if x[jj] == x[i] else _quadrant(a, b)
        out.append({
            "actor": arr.actor_ids[j], "position": float(x[jj]), "eu_ij": a, "eu_ji": b,
            "quadrant": quad, "side": side,
            "label": _QUAD_TEXT[(quad, side)].format(i=actor_id, j=arr.actor_ids[j]),
        })
    return out


def _num(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def explain_lines(forecast: Forecast, actor_id: str, issue_id: str | None = None
                  ) -> list[str]:
    """Why ``actor_id`` moved, round by round, from a forecast's details.

    Works for any round-based model that follows the shared explanation format
    (``details[issue]['moves']`` or ``details['rounds']['moves']``). Lines read
    ``"round t: X moved a -> b because <reason>"`` or ``"round t: X stayed at a"``; with
    several issues each line starts with ``[issue]``. ``issue_id`` restricts the lines to
    one issue. (:func:`detente.models.explain.explain_lines` is the generic, model-agnostic
    version used by the CLI; both read the same records.)
    """
    if actor_id not in forecast.actor_ids:
        raise ModelError(f"unknown actor {actor_id!r}; known: {', '.join(forecast.actor_ids)}")
    a = forecast.actor_ids.index(actor_id)
    lines: list[str] = []
    multi = len(forecast.issue_ids) > 1
    blocks: list[tuple[str | None, int | None, Any]] = []
    for j, iid in enumerate(forecast.issue_ids):
        if issue_id is not None and iid != issue_id:
            continue
        det = forecast.details.get(iid)
        if isinstance(det, Mapping) and "moves" in det:
            blocks.append((iid, j, det["moves"]))
    rounds_det = forecast.details.get("rounds")
    if not blocks and isinstance(rounds_det, Mapping) and "moves" in rounds_det:
        blocks.append((None, None, rounds_det["moves"]))
    if not blocks:
        return [f"{forecast.model} records no per-round moves; nothing to explain"]
    for iss, k, moves in blocks:
        prefix = f"[{iss}] " if (multi and iss is not None) else ""
        for t, row in enumerate(moves, start=1):
            mine = [m for m in row if m.get("actor") == actor_id
                    and (iss is None or m.get("issue", iss) == iss)]
            if mine:
                for m in mine:
                    why = m.get("reason", "it accepted an offer")
                    lines.append(f"{prefix}round {t}: {actor_id} moved {_num(m['from'])} -> "
                                 f"{_num(m['to'])} because {why}")
            elif k is not None and t < forecast.positions.shape[0]:
                v = float(forecast.positions[t, a, k])
                if math.isnan(v):
                    continue
                lines.append(f"{prefix}round {t}: {actor_id} stayed at {_num(v)}")
            else:
                lines.append(f"{prefix}round {t}: {actor_id} did not move")
    return lines
