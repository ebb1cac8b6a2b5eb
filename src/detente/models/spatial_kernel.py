"""Vectorised NumPy kernel of the KTAB-compatible Spatial Model of Politics (SMP).

Everything here works on the model's internal [0, 1] scale: positions, ideals and
saliences are arrays, actors are rows. The arithmetic follows the description in
``ktab_smp.md`` §2 (utility, votes, coalitions, probabilistic Condorcet elections, risk
attitudes, challenge evaluation, bargains, queue resolution, stopping rule); the
expressions are ordered like the reference implementation's so that deterministic runs
reproduce its turn-by-turn positions.

The costly step, evaluating every initiator's challenge of every target with every third
party's vote, is one O(N^3) tensor computation per turn, chunked over initiators to bound
memory. There is no O(N^4) logging pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Config",
    "TurnRecord",
    "KernelRun",
    "vote",
    "coalitions",
    "victory_probs",
    "pce",
    "scalar_pce",
    "big_r_from_prob",
    "weighted_distance",
    "bs_util",
    "run_smp",
    "unique_indices",
    "QuirkError",
    "numba_available",
    "use_backend",
    "warm_up",
]

MIN_COALITION = 1e-8  # coalition floor in PCEs
MIN_CHALLENGE_COALITION = 1e-10  # coalition floor in challenge evaluation
BINARY_TOL = 1e-8

VICTORY_MODELS = ("Linear", "Square", "Quartic", "Octic", "Binary")
PCE_MODELS = ("Conditional", "MarkovIncentive", "MarkovUniform")
STATE_TRANS = ("Deterministic", "Stochastic")
VOTING_RULES = ("Binary", "PropBin", "Prop", "PropCbc", "Cubic", "ASymProsp")
BIG_R_ADJUST = ("None", "OneThird", "Half", "TwoThirds", "Full")
BIG_R_RANGE = ("Min", "Mid", "Max")
THIRD_PARTY = ("NoCommit", "SemiCommit", "FullCommit")
INTER_VEC = ("S1P1", "S2P2", "S2PMax")
BARGN_MODELS = ("InitOnlyInterp", "InitRcvrInterp", "PWCompInterp")


class QuirkError(RuntimeError):
    """Raised when the ``ktab`` quirk mode meets an input on which KTAB itself fails."""


@dataclass(frozen=True)
class Config:
    victory: str = "Linear"
    pce: str = "Conditional"
    transitions: str = "Deterministic"
    voting: str = "Prop"
    r_adjust: str = "OneThird"
    r_range: str = "Mid"
    third_party: str = "SemiCommit"
    inter_vec: str = "S2P2"
    bargn: str = "InitOnlyInterp"
    min_turns: int = 2
    max_turns: int = 100
    min_delta_ratio: float = 0.02
    min_sig_delta: float = 1e-4
    pos_tol: float = 1e-3
    min_sig_edu: float = 1e-5
    detect_cycles: bool = True
    cycle_decimals: int = 9
    quirks: bool = False  # reproduce KTAB's defects (the ``ktab`` preset)
    perspective_probs: bool = False  # PosProb from every estimator's view (export only)
    records: bool = True  # keep per-turn bargain records (False: positions and probabilities)
    chunk_elems: int = 150_000  # initiators per block of the O(N^3) step: cache-sized


# ---------------------------------------------------------------------------------------
# elementary pieces


def vote(rule: str, w: np.ndarray | float, du: np.ndarray) -> np.ndarray:
    """Vote of weight ``w`` given utility gap ``du`` (KTAB's ``Model::vote``)."""
    du = np.asarray(du, dtype=float)
    if rule == "Prop":
        return w * du
    if rule == "Binary":
        return w * np.clip(du / BINARY_TOL, -1.0, 1.0)
    if rule == "PropBin":
        return w * ((1 - 0.2) * du + 0.2 * np.clip(du / BINARY_TOL, -1.0, 1.0))
    if rule == "PropCbc":
        return w * ((1 - 0.5) * du + 0.5 * (du * du * du))
    if rule == "Cubic":
        return w * (du * du * du)
    if rule == "ASymProsp":
        return np.where(du < 0.0, w * du, np.where(du > 0.0, (2.0 * w * du) / 3.0, 0.0))
    raise ValueError(f"unknown VotingRule {rule!r}")


def coalitions(u: np.ndarray, w: np.ndarray, rule: str) -> np.ndarray:
    """C[i, j]: strength of the coalition for option i over option j.

    ``u`` is [voter, option] utility, ``w`` the voters' weights. Like KTAB, votes are cast
    on the pair (i, j) with i > j, positive votes go to C[i, j] and negative ones to C[j, i]
    (this matters only for the asymmetric ASymProsp rule).
    """
    m = u.shape[1]
    v = vote(rule, w[:, None, None], u[:, :, None] - u[:, None, :])  # [k, i, j]
    pos = np.maximum(v, 0.0).sum(axis=0)
    neg = np.maximum(-v, 0.0).sum(axis=0)
    low = np.tril(np.ones((m, m), dtype=bool), -1)
    c = np.where(low, pos, neg.T) + MIN_COALITION
    np.fill_diagonal(c, MIN_COALITION)
    return c


def victory_probs(c: np.ndarray, model: str) -> np.ndarray:
    """P[..., i, j] = chance option i beats option j from coalition strengths (§2.4)."""
    ct = np.swapaxes(c, -1, -2)
    if model == "Linear":
        x1, x2 = c, ct
    elif model == "Square":
        x1, x2 = c * c, ct * ct
    elif model == "Quartic":
        x1, x2 = (c * c) ** 2, (ct * ct) ** 2
    elif model == "Octic":
        x1, x2 = ((c * c) ** 2) ** 2, ((ct * ct) ** 2) ** 2
    elif model == "Binary":
        thresh, min_x = 1.10, 1e-6
        r12 = c / (c + ct)
        p12 = (r12 * (thresh + 1.0) - 1.0) / (thresh - 1.0)
        x1 = np.where(c >= thresh * ct, 1.0, np.where(ct >= thresh * c, min_x, p12))
        x2 = np.where(c >= thresh * ct, min_x, np.where(ct >= thresh * c, 1.0, 1 - p12))
    else:
        raise ValueError(f"unknown VictoryProbModel {model!r}")
    p = x1 / (x1 + x2)
    d = np.arange(c.shape[-1])
    p[..., d, d] = 0.5
    return p


def _markov_uniform(pv: np.ndarray) -> np.ndarray:
    m = pv.shape[0]
    p = np.full(m, 1.0 / m)
    for _ in range(100_000):
        q = (pv * (p[:, None] + p[None, :])).sum(axis=1) / m
        change = np.max(np.abs(q - p))
        p = (p + q) / 2.0
        if not change > 1e-6:
            break
    return p


def _markov_incentive(c: np.ndarray, pv: np.ndarray) -> np.ndarray:
    m = c.shape[0]
    inc = c * pv
    inc[np.diag_indices(m)] += 1e-10
    chlg = inc / inc.sum(axis=0, keepdims=True)  # chlg[i, j] = P(i challenges | j favourite)
    p = np.full(m, 1.0 / m)
    for _ in range(100_000):
        ct = p[:, None] * chlg.T  # ct[i, j] = p_i * chlg[j, i]
        q = (pv * (ct + ct.T)).sum(axis=1)
        change = np.max(np.abs(q - p))
        p = (p + q) / 2.0
        if not change > 1e-8:
            break
    return p


def pce(c: np.ndarray, victory: str, model: str) -> tuple[np.ndarray, np.ndarray]:
    """Probabilistic Condorcet election over options from coalitions ``c`` (§2.5)."""
    pv = victory_probs(c, victory)
    if model == "Conditional":
        p = np.prod(pv, axis=1)
        s = p.sum()
        p = p / s if s > 0 else np.full(len(p), 1.0 / len(p))
    elif model == "MarkovUniform":
        p = _markov_uniform(pv)
    elif model == "MarkovIncentive":
        p = _markov_incentive(c, pv)
    else:
        raise ValueError(f"unknown PCEModel {model!r}")
    return p, pv


def scalar_pce(u: np.ndarray, w: np.ndarray, cfg: Config, rule: str | None = None) -> np.ndarray:
    c = coalitions(u, w, rule or cfg.voting)
    return pce(c, cfg.victory, cfg.pce)[0]


def big_r_from_prob(p: np.ndarray, rng_kind: str, quirks: bool) -> np.ndarray:
    """Risk attitudes from the PCE probabilities of actors' positions (§2.6 step 3)."""
    pmin, pmax = float(p.min()), float(p.max())
    span = pmax - pmin
    if not span > 0.0:
        if quirks:
            raise QuirkError("every position is equally likely (identical actors?): KTAB "
                             "computes 0/0 risk attitudes here and then fails")
        return np.zeros_like(p)
    if rng_kind == "Min":
        return (p - pmin) / span
    if rng_kind == "Mid":
        return (3 * p - (pmax + 2 * pmin)) / (2 * span)
    if rng_kind == "Max":
        return (2 * p - (pmax + pmin)) / span
    raise ValueError(f"unknown BigRRange {rng_kind!r}")


def est_nra(rh: np.ndarray, ri: np.ndarray, adjust: str) -> np.ndarray:
    """h's estimate of i's risk attitude (broadcasts rh[:, None] against ri[None, :])."""
    if adjust == "Full":
        return np.broadcast_to(ri, np.broadcast_shapes(np.shape(rh), np.shape(ri))).copy()
    if adjust == "TwoThirds":
        return (rh + (2.0 * ri)) / 3.0
    if adjust == "Half":
        return (rh + ri) / 2
    if adjust == "OneThird":
        return ((2.0 * rh) + ri) / 3.0
    if adjust == "None":
        return np.broadcast_to(rh, np.broadcast_shapes(np.shape(rh), np.shape(ri))).copy()
    raise ValueError(f"unknown BigRAdjust {adjust!r}")


def weighted_distance(ideals: np.ndarray, pts: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """D[i, j]: salience-weighted distance from i's ideal to point j, in [0, 1] (§2.2).

    An actor with no salience at all is indifferent (distance 0 to everything)."""
    s2 = sal * sal
    ss = s2.sum(axis=1)
    diff = ideals[:, None, :] - pts[None, :, :]
    ds = diff * sal[:, None, :]
    num = (ds * ds).sum(axis=2)
    safe = np.where(ss > 0, ss, 1.0)
    d = np.sqrt(num / safe[:, None])
    return np.where(ss[:, None] > 0, d, 0.0)


def bs_util(d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """u(D; R) = (1 - D)(1 + R D) for D <= 1 (and (1 - D)(1 + R) beyond, as KTAB)."""
    return np.where(d <= 1, (1 - d) * (1 + d * r), (1 - d) * (1 + r))


def equivalence(x: np.ndarray, tol: float) -> np.ndarray:
    """E[i, j]: positions i and j coincide (Euclidean distance below ``tol``)."""
    diff = x[:, None, :] - x[None, :, :]
    return np.sqrt((diff * diff).sum(axis=2)) < tol


def unique_indices(x: np.ndarray, tol: float, eq: np.ndarray | None = None,
                   ) -> tuple[list[int], np.ndarray]:
    """First-appearance unique positions (Euclidean tolerance) and each actor's unique index."""
    n = len(x)
    e = equivalence(x, tol) if eq is None else eq
    if int(e.sum()) == n:  # all distinct: the common case
        return list(range(n)), np.arange(n)
    uniq: list[int] = []
    eqv = np.empty(n, dtype=int)
    for i in range(n):
        hits = np.flatnonzero(e[i, uniq]) if uniq else np.empty(0, dtype=int)
        if hits.size:
            eqv[i] = int(hits[0])
        else:
            uniq.append(i)
            eqv[i] = len(uniq) - 1
    return uniq, eqv


def _round4(x: np.ndarray) -> np.ndarray:
    return np.trunc(0.5 + x * 10000.0) / 10000.0


# ---------------------------------------------------------------------------------------
# records


@dataclass
class Bargain:
    bid: int
    init: int
    rcvr: int
    pos_init: np.ndarray
    pos_rcvr: np.ndarray
    value: float = 0.0  # initiator's dEU
    p_init: float = 0.5  # estimate of P(init beats rcvr) used to shape it
    init_prob: float | None = None  # PCE probability in the initiator's queue
    rcvr_prob: float | None = None
    init_seld: bool | None = None
    rcvr_seld: bool | None = None

    @property
    def is_sq(self) -> bool:
        return self.init == self.rcvr


@dataclass
class TurnRecord:
    """What happened in one turn (turn t moves the state from t-1 to t)."""

    turn: int
    risk: np.ndarray  # risk attitudes in the state the turn started from
    targets: list[dict[str, Any]]
    bargains: list[Bargain]
    chosen: list[int]  # per actor: bargain id chosen in its queue
    mover: list[int | None]  # per actor: bargain id that moved it, if it moved
    queue_probs: list[list[tuple[int, float]]]


@dataclass
class KernelRun:
    positions: np.ndarray  # [turn, actor, dim] on [0, 1]
    ideals: np.ndarray  # [turn, actor, dim]
    probs: np.ndarray  # [turn, actor] PCE probability of each actor's position
    risk: np.ndarray  # [turn, actor]
    turns: list[TurnRecord]
    stop_reason: str
    converged: bool
    cycle: tuple[int, int] | None
    perspective_probs: list[np.ndarray] = field(default_factory=list)  # [turn] -> [h, i]
    movement: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# the model


class _State:
    """Utilities of one state: risk attitudes and every perspective matrix."""

    def __init__(self, x: np.ndarray, q: np.ndarray, cap: np.ndarray, sal: np.ndarray,
                 cfg: Config) -> None:
        self.x, self.q = x, q
        n = len(x)
        self.dist = weighted_distance(q, x, sal)  # D[i, j]: i's ideal to j's position
        u0 = 1.0 - self.dist  # bs_util with R = 0 reduces to 1 - D (also beyond 1)
        p_risk, _ = pce(coalitions(u0, cap, cfg.voting), cfg.victory, cfg.pce)
        self.risk = big_r_from_prob(p_risk, cfg.r_range, cfg.quirks)
        rhi = est_nra(self.risk[:, None], self.risk[None, :], cfg.r_adjust)  # [h, i]
        # au[h, i, j] = h's estimate of i's utility for j's position
        self.au = bs_util(self.dist[None, :, :], rhi[:, :, None])
        if cfg.quirks and cfg.r_adjust == "Full" and n > 0:
            raise QuirkError("BigRAdjust=Full: KTAB's sanity check rejects perspective "
                             "utilities equal to the objective ones ('Estimate of change in "
                             "utility by h out of valid range')")
        idx = np.arange(n)
        self.own = self.au[idx, idx, :]  # own[a, n] = a's utility for n's position


def _challenges(st: _State, cap: np.ndarray, s_tot: np.ndarray, cfg: Config,
                ) -> tuple[np.ndarray, np.ndarray]:
    """For every initiator i and target j: (P^i(i > j), dEU^i_i(i -> j)). O(N^3)."""
    n = len(cap)
    w = cap * s_tot
    au = st.au
    prob = np.full((n, n), 0.5)
    edu = np.full((n, n), -np.inf)
    rule = cfg.voting
    step = max(1, cfg.chunk_elems // max(1, n * n))
    idx = np.arange(n)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        ii = idx[lo:hi]
        u = au[ii]  # [b, a, c] = i's estimate of a's utility for c's position
        b = len(ii)
        bi = np.arange(b)
        u_ii = u[bi, ii, ii][:, None]  # [b, 1]
        u_ij = u[bi, ii, :]  # [b, j]
        u_ji = u[bi, :, ii]  # [b, j]: u[j, i]
        u_jj = np.diagonal(u, axis1=1, axis2=2)  # [b, j]: u[j, j]
        c_i = vote(rule, w[ii][:, None], u_ii - u_ij)
        c_j = vote(rule, w[None, :], u_ji - u_jj)
        chij = MIN_CHALLENGE_COALITION + np.maximum(c_i, 0.0) + np.maximum(c_j, 0.0)
        chji = MIN_CHALLENGE_COALITION + np.maximum(-c_i, 0.0) + np.maximum(-c_j, 0.0)
        # third parties n: [b, j, n]
        uni = u_ji[:, None, :]  # u[n, i]
        unj = np.swapaxes(u, 1, 2)  # [b, j, n] = u[n, j]
        unn = u_jj[:, None, :]  # u[n, n]
        v0 = vote(rule, w[None, None, :], uni - unj)
        ci0, cj0 = chij[:, :, None], chji[:, :, None]
        cni = np.where(v0 > 0, ci0 + v0, ci0)
        cnj = np.where(v0 < 0, cj0 - v0, cj0)
        pin = cni / (cni + cnj)
        pjn = 1.0 - pin
        tp = cfg.third_party
        if tp == "SemiCommit" or cfg.quirks:
            if tp == "SemiCommit":
                u_ikj = pin * (uni + uni + unn) + pjn * (unj + unj + unj)
                u_ijk = pin * (uni + uni + uni) + pjn * (unj + unj + unn)
            elif tp == "FullCommit":
                u_ikj = pin * (uni + uni + uni) + pjn * (unj + unj + unj)
                u_ijk = pin * (uni + uni + uni) + pjn * (unj + unj + unj)
            else:  # NoCommit
                u_ikj = pin * (uni + uni + unn) + pjn * (unj + unj + unn)
                u_ijk = pin * (uni + uni + unn) + pjn * (unj + unj + unn)
        else:
            # Fixed NoCommit / FullCommit: the two hypothetical contests get their own
            # probabilities (n on i's side, n on j's side), so n's vote is not always zero.
            mag = np.abs(v0)
            p_ik = (ci0 + mag) / (ci0 + cj0 + mag)
            p_jk = ci0 / (ci0 + cj0 + mag)
            if tp == "FullCommit":
                u_ikj = p_ik * (uni + uni + uni) + (1 - p_ik) * (unj + unj + unj)
                u_ijk = p_jk * (uni + uni + uni) + (1 - p_jk) * (unj + unj + unj)
            else:
                u_ikj = p_ik * (uni + uni + unn) + (1 - p_ik) * (unj + unj + unn)
                u_ijk = p_jk * (uni + uni + unn) + (1 - p_jk) * (unj + unj + unn)
        vn = vote(rule, w[None, None, :], u_ikj - u_ijk)
        # principals are not third parties
        vn[bi, :, ii] = 0.0  # n == i
        vn[:, idx, idx] = 0.0  # n == j
        chij = chij + np.maximum(vn, 0.0).sum(axis=2)
        np.negative(vn, out=vn)
        chji = chji + np.maximum(vn, 0.0, out=vn).sum(axis=2)
        phij = chij / (chij + chji)
        phji = chji / (chij + chji)
        eu_sq = u_ii + u_ij
        eu_v = u_ii + u_ii
        eu_l = u_ij + u_ij
        eu_c = phij * eu_v + phji * eu_l
        sj = s_tot[None, :]
        du = ((1 - sj) * eu_v + sj * eu_c) - eu_sq
        du[bi, ii] = -np.inf
        prob[lo:hi] = phij
        edu[lo:hi] = du
    return prob, edu


def _prob_edu_one(st: _State, cap: np.ndarray, s_tot: np.ndarray, cfg: Config,
                  h: int, k: int, i: int, j: int) -> tuple[float, float]:
    """h's estimate of (P(i > j), dEU to k of i challenging j): one O(N) evaluation."""
    n = len(cap)
    w = cap * s_tot
    u = st.au[h]
    rule = cfg.voting
    c_i = float(vote(rule, w[i], u[i, i] - u[i, j]))
    c_j = float(vote(rule, w[j], u[j, i] - u[j, j]))
    chij = MIN_CHALLENGE_COALITION + max(c_i, 0.0) + max(c_j, 0.0)
    chji = MIN_CHALLENGE_COALITION + max(-c_i, 0.0) + max(-c_j, 0.0)
    others = np.array([m for m in range(n) if m not in (i, j)], dtype=int)
    if others.size:
        uni, unj, unn = u[others, i], u[others, j], u[others, others]
        v0 = vote(rule, w[others], uni - unj)
        cni = np.where(v0 > 0, chij + v0, chij)
        cnj = np.where(v0 < 0, chji - v0, chji)
        pin = cni / (cni + cnj)
        pjn = 1.0 - pin
        tp = cfg.third_party
        if tp == "SemiCommit" or cfg.quirks:
            if tp == "SemiCommit":
                a = pin * (uni + uni + unn) + pjn * (unj + unj + unj)
                b = pin * (uni + uni + uni) + pjn * (unj + unj + unn)
            elif tp == "FullCommit":
                a = b = pin * (uni + uni + uni) + pjn * (unj + unj + unj)
            else:
                a = b = pin * (uni + uni + unn) + pjn * (unj + unj + unn)
        else:
            mag = np.abs(v0)
            p_ik = (chij + mag) / (chij + chji + mag)
            p_jk = chij / (chij + chji + mag)
            if tp == "FullCommit":
                a = p_ik * (uni + uni + uni) + (1 - p_ik) * (unj + unj + unj)
                b = p_jk * (uni + uni + uni) + (1 - p_jk) * (unj + unj + unj)
            else:
                a = p_ik * (uni + uni + unn) + (1 - p_ik) * (unj + unj + unn)
                b = p_jk * (uni + uni + unn) + (1 - p_jk) * (unj + unj + unn)
        vn = vote(rule, w[others], a - b)
        chij += float(np.maximum(vn, 0.0).sum())
        chji += float(np.maximum(-vn, 0.0).sum())
    phij = chij / (chij + chji)
    phji = chji / (chij + chji)
    eu_sq = u[k, i] + u[k, j]
    eu_v = u[k, i] + u[k, i]
    eu_l = u[k, j] + u[k, j]
    eu_c = phij * eu_v + phji * eu_l
    du = ((1 - s_tot[j]) * eu_v + s_tot[j] * eu_c) - eu_sq
    return phij, float(du)


def _interp(x_i: np.ndarray, s_i: np.ndarray, p_i: float, x_j: np.ndarray, s_j: np.ndarray,
            p_j: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Compromise coordinates offered to i and to j (§2.8 step 2)."""
    if kind in ("S1P1", "S2P2"):
        e = 1 if kind == "S1P1" else 2
        wi = s_i ** e * p_i ** e
        wj = s_j ** e * p_j ** e
        min_w = 1e-6
        bi = _round4(((wi + min_w) * x_i + wj * x_j) / (wi + min_w + wj))
        bj = _round4((wi * x_i + (min_w + wj) * x_j) / (wi + min_w + wj))
        return bi, bj
    if kind == "S2PMax":
        di = np.maximum(np.subtract(p_j, p_i), 0.0)
        dj = np.maximum(np.subtract(p_i, p_j), 0.0)
        si2, sj2 = s_i * s_i, s_j * s_j
        min_w = 1e-6
        dik = (di * sj2) / ((di * sj2) + min_w + ((1 - di) * si2))
        djk = (dj * si2) / ((dj * si2) + min_w + ((1 - dj) * sj2))
        return x_i + dik * (x_j - x_i), x_j + djk * (x_i - x_j)
    raise ValueError(f"unknown InterVecBrgn {kind!r}")


def _pos_probs(st: _State, cap: np.ndarray, cfg: Config, persp: int | None,
               uniq: list[int], eq: np.ndarray) -> np.ndarray:
    """PCE probability of each actor's position over the unique positions (Prop votes,
    capability weights), from everyone's own view (persp None) or from estimator h's."""
    u = st.own if persp is None else st.au[persp]
    p, _ = pce(coalitions(u[:, uniq], cap, "Prop"), cfg.victory, cfg.pce)
    # KTAB reports the probability of the *last* unique position equivalent to the actor's
    m = eq[:, uniq]
    last = m.shape[1] - 1 - np.argmax(m[:, ::-1], axis=1)
    return p[last]


def _queue_pces(util: np.ndarray, qcols: list[np.ndarray], cap: np.ndarray, cfg: Config,
                ) -> list[np.ndarray]:
    """Scalar PCE over each queue's bargains (columns of ``util``), batched by queue length."""
    out: list[np.ndarray] = [np.ones(1)] * len(qcols)
    by_len: dict[int, list[int]] = {}
    for k, c in enumerate(qcols):
        if len(c) > 1:
            by_len.setdefault(len(c), []).append(k)
    for length, ks in by_len.items():
        if cfg.pce != "Conditional":
            for k in ks:
                out[k] = scalar_pce(util[:, qcols[k]], cap, cfg)
            continue
        cols = np.array([qcols[k] for k in ks])  # [q, L]
        u = util[:, cols].transpose(1, 0, 2)  # [q, voter, L]
        v = vote(cfg.voting, cap[None, :, None, None], u[:, :, :, None] - u[:, :, None, :])
        pos = np.maximum(v, 0.0).sum(axis=1)
        neg = np.maximum(-v, 0.0).sum(axis=1)
        low = np.tril(np.ones((length, length), dtype=bool), -1)
        c = np.where(low, pos, np.swapaxes(neg, 1, 2)) + MIN_COALITION
        di = np.arange(length)
        c[:, di, di] = MIN_COALITION
        pk = np.prod(victory_probs(c, cfg.victory), axis=2)
        pk = pk / pk.sum(axis=1, keepdims=True)
        for r, k in enumerate(ks):
            out[k] = pk[r]
    return out


# ---------------------------------------------------------------------------------------
# backend choice: the compiled kernel (optional extra ``detente[fast]``) or NumPy

_BACKENDS = ("auto", "numpy", "numba")
_backend = os.environ.get("DETENTE_SPATIAL_BACKEND", "auto").strip().lower() or "auto"
_numba_mod: Any = None
_numba_failed = False


def _numba() -> Any:
    """The compiled kernel module (compiling or loading it), or None without numba."""
    global _numba_mod, _numba_failed
    if _numba_mod is None and not _numba_failed:
        try:
            from detente.models import _spatial_numba
        except ImportError:
            _numba_failed = True
        else:
            _numba_mod = _spatial_numba
    return _numba_mod


def numba_available() -> bool:
    """True when the compiled spatial kernel can be used (numba is installed)."""
    return _numba() is not None


def warm_up() -> None:
    """Compile (or load from numba's on-disk cache) the kernel now, so that the first real
    run does not pay the compile time (``detente warmup`` calls this after installation)."""
    if _numba() is None:
        raise RuntimeError("the numba backend needs numba (pip install 'detente[fast]')")
    rng = np.random.default_rng(0)
    run_smp(rng.uniform(10, 200, 4), rng.uniform(0, 1, (4, 2)), np.full((4, 2), 0.4), None,
            Config(detect_cycles=True), rng)


def _choose_numba(cfg: Config, n: int) -> Any:
    """The compiled module to run ``cfg`` with, or None for NumPy. The choice depends only on
    the configuration and what is installed, never on cache state, so every worker of a
    Monte Carlo run uses the same backend and gets the same numbers."""
    if _backend == "numpy" or not _numba_covers(cfg):
        return None
    return _numba()


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Force the spatial kernel's backend within a block: ``"numpy"``, ``"numba"`` or
    ``"auto"`` (numba when installed and the configuration is covered). The environment
    variable ``DETENTE_SPATIAL_BACKEND`` sets the default."""
    global _backend
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(_BACKENDS)}")
    if name == "numba" and not numba_available():
        raise RuntimeError("the numba backend needs numba (pip install 'detente[fast]')")
    old, _backend = _backend, name
    try:
        yield
    finally:
        _backend = old


def _numba_covers(cfg: Config) -> bool:
    return (cfg.pce == "Conditional" and cfg.transitions == "Deterministic"
            and cfg.bargn == "InitOnlyInterp" and not cfg.perspective_probs
            and not (cfg.quirks and cfg.r_adjust == "Full"))


def _run_numba(mod: Any, cap: np.ndarray, pos0: np.ndarray, sal: np.ndarray,
               accom: np.ndarray | None, identity: bool, cfg: Config) -> KernelRun:
    """The whole turn loop in the compiled kernel; records rebuilt from its arrays."""
    n, k = pos0.shape
    t_max = cfg.max_turns
    xs = np.zeros((t_max + 1, n, k))
    qs = np.zeros((t_max + 1, n, k))
    probs = np.zeros((t_max + 1, n))
    risks = np.zeros((t_max + 1, n))
    movement = np.zeros(t_max)
    tgt = np.full((t_max, n), -1, dtype=np.int64)
    tval = np.zeros((t_max, n))
    tprob = np.zeros((t_max, n))
    bpi = np.zeros((t_max, n, k))
    bpr = np.zeros((t_max, n, k))
    qp_sq = np.zeros((t_max, n))
    qp_init = np.zeros((t_max, n))
    qp_rcvr = np.zeros((t_max, n))
    sel = np.full((t_max, n), -1, dtype=np.int64)
    moved = np.zeros((t_max, n), dtype=np.bool_)
    status = np.zeros(5, dtype=np.int64)
    acc = np.ascontiguousarray(accom if accom is not None else np.eye(n), dtype=float)
    mod.smp_loop(
        np.ascontiguousarray(cap, dtype=float), np.ascontiguousarray(pos0, dtype=float),
        np.ascontiguousarray(sal, dtype=float), acc, bool(identity),
        VOTING_RULES.index(cfg.voting), VICTORY_MODELS.index(cfg.victory),
        BIG_R_ADJUST.index(cfg.r_adjust), BIG_R_RANGE.index(cfg.r_range),
        THIRD_PARTY.index(cfg.third_party), INTER_VEC.index(cfg.inter_vec), bool(cfg.quirks),
        int(cfg.min_turns), int(cfg.max_turns), float(cfg.min_delta_ratio),
        float(cfg.min_sig_delta), float(cfg.pos_tol), float(cfg.min_sig_edu),
        bool(cfg.detect_cycles), xs, qs, probs, risks, movement, tgt, tval, tprob, bpi, bpr,
        qp_sq, qp_init, qp_rcvr, sel, moved, status)
    t_n, stop, c0, cp, err = (int(v) for v in status)
    if err:
        raise QuirkError("every position is equally likely (identical actors?): KTAB "
                         "computes 0/0 risk attitudes here and then fails")
    turns: list[TurnRecord] = []
    next_bid = 1000
    t_n_records = t_n if cfg.records else 0
    tgt_l, tval_l, tprob_l = tgt[:t_n].tolist(), tval[:t_n].tolist(), tprob[:t_n].tolist()
    sel_l, moved_l = sel[:t_n].tolist(), moved[:t_n].tolist()
    qsq_l, qin_l, qrc_l = qp_sq[:t_n].tolist(), qp_init[:t_n].tolist(), qp_rcvr[:t_n].tolist()
    for ti in range(t_n_records):
        x = xs[ti]
        tg, tv, tp = tgt_l[ti], tval_l[ti], tprob_l[ti]
        sl, mv = sel_l[ti], moved_l[ti]
        qsq, qin, qrc = qsq_l[ti], qin_l[ti], qrc_l[ti]
        bargains: list[Bargain] = []
        targets: list[dict[str, Any]] = []
        sq_of: list[Bargain] = []
        real_of: list[Bargain | None] = [None] * n
        for i in range(n):
            sq = Bargain(next_bid, i, i, x[i], x[i])
            next_bid += 1
            bargains.append(sq)
            sq_of.append(sq)
            j = tg[i]
            if j < 0:
                continue
            targets.append({"initiator": i, "target": j, "value": tv[i], "prob": tp[i]})
            b = Bargain(next_bid, i, j, bpi[ti, i], bpr[ti, i], tv[i], tp[i],
                        init_prob=qin[i], rcvr_prob=qrc[i], init_seld=sl[i] == i,
                        rcvr_seld=sl[j] == i)
            next_bid += 1
            bargains.append(b)
            real_of[i] = b
        chosen: list[int] = []
        mover: list[int | None] = [None] * n
        qprobs: list[list[tuple[int, float]]] = []
        incoming: list[list[int]] = [[] for _ in range(n)]  # initiators targeting each actor
        for i in range(n):
            if tg[i] >= 0:
                incoming[tg[i]].append(i)
        for kq in range(n):
            s = sl[kq]
            bid = sq_of[kq].bid if s < 0 else real_of[s].bid
            chosen.append(bid)
            if mv[kq]:
                mover[kq] = bid
            # queue order: bargains by initiator index, k's own status quo and bargain at k
            qk = [(real_of[i].bid, qrc[i]) for i in incoming[kq] if i < kq]  # type: ignore[union-attr]
            qk.append((sq_of[kq].bid, qsq[kq]))
            if tg[kq] >= 0:
                qk.append((real_of[kq].bid, qin[kq]))  # type: ignore[union-attr]
            qk += [(real_of[i].bid, qrc[i]) for i in incoming[kq] if i > kq]  # type: ignore[union-attr]
            qprobs.append(qk)
        turns.append(TurnRecord(ti + 1, risks[ti].copy(), targets, bargains, chosen, mover,
                                qprobs))
    stop_reason = ("max_turns", "converged", "cycle")[stop]
    return KernelRun(
        positions=xs[:t_n + 1].copy(),
        ideals=qs[:t_n + 1].copy(),
        probs=probs[:t_n + 1].copy(),
        risk=risks[:t_n + 1].copy(),
        turns=turns,
        stop_reason=stop_reason,
        converged=stop == 1,
        cycle=(c0, cp) if stop == 2 else None,
        perspective_probs=[],
        movement=movement[:t_n].tolist(),
    )


def run_smp(cap: np.ndarray, pos0: np.ndarray, sal: np.ndarray, accom: np.ndarray | None,
            cfg: Config, rng: np.random.Generator) -> KernelRun:
    """Run the SMP from initial positions ``pos0`` [actor, dim] on [0, 1].

    Uses the compiled kernel (:mod:`detente.models._spatial_numba`) when numba is installed
    and covers ``cfg``, else the NumPy implementation below; both give the same run."""
    cap = np.asarray(cap, dtype=float)
    sal = np.asarray(sal, dtype=float)
    n, k_dims = pos0.shape
    s_tot = sal.sum(axis=1)
    if cfg.quirks:
        if np.any(cap <= 0):
            raise QuirkError("an actor has zero capability: KTAB's vote() throws "
                             "'non-positive voting weight'")
        if np.any(s_tot <= 0):
            raise QuirkError("an actor has zero total salience: KTAB throws on it")
    identity = accom is None or np.allclose(accom, np.eye(n), atol=1e-10, rtol=0)
    mod = _choose_numba(cfg, n)
    if mod is not None:
        return _run_numba(mod, cap, pos0, sal, accom, identity, cfg)
    x = np.array(pos0, dtype=float)
    q = x.copy()
    xs, qs, probs, risks = [x.copy()], [q.copy()], [], []
    persp: list[np.ndarray] = []
    turns: list[TurnRecord] = []
    movement: list[float] = []
    seen: dict[bytes, int] = {}
    if cfg.detect_cycles:
        seen[np.round(x, cfg.cycle_decimals).tobytes()] = 0
    next_bid = 1000
    stop_reason, converged, cycle = "max_turns", False, None

    st = _State(x, q, cap, sal, cfg)

    def record_probs(state: _State) -> None:
        eq = equivalence(state.x, cfg.pos_tol)
        uniq, _ = unique_indices(state.x, cfg.pos_tol, eq)
        probs.append(_pos_probs(state, cap, cfg, None, uniq, eq))
        risks.append(state.risk.copy())
        if cfg.perspective_probs:
            persp.append(np.array([_pos_probs(state, cap, cfg, h, uniq, eq)
                                   for h in range(n)]))

    record_probs(st)
    t = 0
    while True:
        t += 1
        prob, edu = _challenges(st, cap, s_tot, cfg) if n > 1 else (
            np.full((n, n), 0.5), np.full((n, n), -np.inf))
        # targets: each initiator's first strict best challenge above the threshold
        valid = edu > cfg.min_sig_edu
        has = valid.any(axis=1)
        best_j = np.argmax(np.where(valid, edu, -np.inf), axis=1)
        inits = np.flatnonzero(has)
        tgts = best_j[inits]
        p_ij = prob[inits, tgts]
        b_i, b_j = _interp(x[inits], sal[inits], p_ij[:, None], x[tgts], sal[tgts],
                           1 - p_ij[:, None], cfg.inter_vec)
        queues: list[list[Bargain]] = [[] for _ in range(n)]
        bargains: list[Bargain] = []
        targets: list[dict[str, Any]] = []
        row_of = {int(i): r for r, i in enumerate(inits)}
        for i in range(n):
            sq = Bargain(next_bid, i, i, x[i], x[i])
            next_bid += 1
            queues[i].append(sq)
            bargains.append(sq)
            r = row_of.get(i)
            if r is None:
                continue
            j = int(tgts[r])
            pij, best = float(p_ij[r]), float(edu[i, j])
            targets.append({"initiator": i, "target": j, "value": best, "prob": pij})
            new: list[Bargain] = []
            if cfg.bargn == "InitOnlyInterp":
                new.append(Bargain(next_bid, i, j, b_i[r], b_j[r], best, pij))
                next_bid += 1
            else:
                pj_view, edu_j = _prob_edu_one(st, cap, s_tot, cfg, j, i, i, j)
                # KTAB shapes j's bargain with j's estimate of i's *gain* in place of the
                # probability (a defect); the default uses j's estimate of P(i > j).
                pji = edu_j if cfg.quirks else pj_view
                c_i, c_j = _interp(x[i], sal[i], pji, x[j], sal[j], 1 - pji, cfg.inter_vec)
                if cfg.bargn == "InitRcvrInterp":
                    new.append(Bargain(next_bid, i, j, b_i[r], b_j[r], best, pij))
                    new.append(Bargain(next_bid + 1, i, j, c_i, c_j, best, pji))
                    next_bid += 2
                else:  # PWCompInterp
                    wi = cap[i] * s_tot[i]
                    wj = (cap[i] if cfg.quirks else cap[j]) * s_tot[j]
                    if wi + wj > 0:
                        pi_ = (wi * b_i[r] + wj * c_i) / (wi + wj)
                        pj_ = (wi * b_j[r] + wj * c_j) / (wi + wj)
                    else:
                        pi_, pj_ = (b_i[r] + c_i) / 2, (b_j[r] + c_j) / 2
                    next_bid += 2  # KTAB numbers the two views before the compromise
                    new.append(Bargain(next_bid, i, j, pi_, pj_, best, pij))
                    next_bid += 1
            for b in new:
                queues[i].append(b)
                queues[j].append(b)
                bargains.append(b)
        # resolve each actor's queue independently (batched by queue length)
        real = [b for b in bargains if not b.is_sq]
        col = {b.bid: c + 1 for c, b in enumerate(real)}  # column 0: any status quo
        base = st.own.sum(axis=1)  # [a]
        util = np.empty((n, len(real) + 1))
        util[:, 0] = base / n
        if real:
            nb_ = len(real)
            pts = np.concatenate([np.array([b.pos_init for b in real]),
                                  np.array([b.pos_rcvr for b in real])])
            ub = bs_util(weighted_distance(q, pts, sal), st.risk[:, None])
            ii_ = np.array([b.init for b in real])
            rr_ = np.array([b.rcvr for b in real])
            util[:, 1:] = (ub[:, :nb_] + ub[:, nb_:] + base[:, None] - st.own[:, ii_]
                           - st.own[:, rr_]) / n
        qcols = [np.array([0 if b.is_sq else col[b.bid] for b in qb]) for qb in queues]
        qp = _queue_pces(util, qcols, cap, cfg)
        new_x = x.copy()
        chosen: list[int] = []
        mover: list[int | None] = [None] * n
        qprobs: list[list[tuple[int, float]]] = []
        for kq in range(n):
            qb, p = queues[kq], qp[kq]
            nb = len(qb)
            if cfg.transitions == "Stochastic" and nb > 1:
                m_sel = int(rng.choice(nb, p=p / p.sum()))
            else:
                m_sel = int(np.argmax(np.abs(p)))
            qprobs.append([(b.bid, float(pm)) for b, pm in zip(qb, p, strict=True)])
            sel = qb[m_sel]
            chosen.append(sel.bid)
            for b, pm in zip(qb, p, strict=True):
                if b.is_sq:
                    continue
                if b.init == kq:
                    b.init_prob, b.init_seld = float(pm), b is sel
                elif b.rcvr == kq:
                    b.rcvr_prob, b.rcvr_seld = float(pm), b is sel
            if not sel.is_sq:
                newp = sel.pos_init if sel.init == kq else sel.pos_rcvr
                if np.any(newp != x[kq]):
                    mover[kq] = sel.bid
                new_x[kq] = newp
        # ideals (identity is False only when an accommodation matrix was given)
        if identity or accom is None:
            new_q = new_x.copy()
        else:
            rs = np.minimum(accom.sum(axis=1), 1.0)
            new_q = accom @ new_x + (1.0 - rs)[:, None] * q
        turns.append(TurnRecord(t, st.risk.copy(), targets, bargains, chosen, mover, qprobs))
        move = float(np.sqrt(((new_x - x) ** 2).sum(axis=1)).sum())
        movement.append(move)
        x, q = new_x, new_q
        xs.append(x.copy())
        qs.append(q.copy())
        st = _State(x, q, cap, sal, cfg)
        record_probs(st)
        # stopping rule (§2.9) plus cycle detection
        ratio = move / (movement[0] + cfg.min_sig_delta)
        if cfg.min_turns <= t and ratio < cfg.min_delta_ratio:
            stop_reason, converged = "converged", True
            break
        if cfg.detect_cycles:
            key = np.round(x, cfg.cycle_decimals).tobytes()
            first = seen.get(key)
            if first is not None and t - first >= 2:  # fixed points are left to the ratio rule
                cycle = (first, t - first)
                stop_reason, converged = "cycle", False
                break
            seen[key] = t
        if cfg.max_turns <= t:
            stop_reason, converged = "max_turns", False
            break
    return KernelRun(
        positions=np.array(xs),
        ideals=np.array(qs),
        probs=np.array(probs),
        risk=np.array(risks),
        turns=turns,
        stop_reason=stop_reason,
        converged=converged,
        cycle=cycle,
        perspective_probs=persp,
        movement=movement,
    )
