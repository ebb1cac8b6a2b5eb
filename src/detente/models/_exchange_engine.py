"""The round engine of Stokman's equal-gain exchange model (see ``exchange.py`` and
``docs/models/exchange.md``).

Everything here works on positions normalised to 0-100 per issue, like Decide. One round:

1. expected outcome ``O_d = sum c s x / sum c s`` per issue (``W_d = sum c s``);
2. candidate exchanges for every issue pair (p, q), p before q: actors right of both
   outcomes (group A) with actors left of or on both (group D), and actors left on p only (B)
   with actors left on q only (C); built with NumPy for all pairs at once;
3. the equal-gain computation of every candidate (vectorised, `_calc`), including the
   check that the demander's outcome is not overshot (`_check_overshoot`, Decide's
   ``check_nbs``);
4. realisation: the best exchange is realised, then every remaining exchange that shares an
   (actor, supply issue) or an (actor, demand issue) with it is recomputed. An
   (actor, issue) -> exchanges index finds them; the rest is untouched.
5. end of round: voting positions give the round's outcome; the next round starts from
   ``x' = x + (0.4 (1 - s) + 0.1) (y - x)``.

Two realisation schedulers share steps 1-5:

* ``"queue"`` (default): a priority queue keyed on the gain; ties (equal gains within
  ``TIE_TOL``) are broken uniformly at random with the caller's generator, the tied
  exchanges taken in creation order so the draw is reproducible;
* ``"decide"``: an exact emulation of Decide's list (stable sort by gain each step, a coin
  flip between the two best when they tie, and the list corruption that flip causes, see
  ``docs/models/exchange.md``).

No code is taken from Decide; its behaviour was read and re-derived.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

USE_NUMBA = True  # use the compiled kernels when numba is installed (tests switch it off)
TIE_TOL = 1e-9  # gains closer than this are equal (Decide: exact Decimal equality)
_EPS_MOVE = 1e-10  # Decide: a move of at most 1e-10 is no move
_EPS_EDGE = 1e-9  # float slack for "inside [0, 100]" (Decide uses 28-digit Decimals)
# random rate, compiled loop: values pre-drawn per exchange of the round at each refill, on
# top of what one realisation may need (tests set 0: a refill after every realisation)
REFILL = 3
UNI_BLOCK = 3072  # smallest number of values a UniformStream draws at a time


class UniformStream:
    """The u, v, z draws of the random-rate split, read in order from one generator.

    Both backends read the same sequence: the NumPy path takes exactly what each computation
    needs, the compiled loop reads a pre-drawn block (``reserve``) and comes back for more
    when fewer than it may need remain. Values are drawn in blocks (``Generator.random(k)``
    followed by ``random(l)`` gives the same numbers as ``random(k + l)``) and unread ones
    carry over to the next round, so the forecast does not depend on the backend; only how
    far the generator has been advanced past the last value read does."""

    def __init__(self, gen: np.random.Generator, block: int | None = None) -> None:
        self.gen = gen
        self.block = int(UNI_BLOCK if block is None else block)
        self.buf = np.zeros(0)
        self.pos = 0

    def reserve(self, k: int) -> None:
        """Make sure at least ``k`` unread values are in ``buf[pos:]``."""
        left = self.buf.size - self.pos
        if left < k:
            new = self.gen.random(max(k - left, self.block))
            self.buf = np.concatenate([self.buf[self.pos:], new])
            self.pos = 0

    def take(self, k: int) -> np.ndarray:
        """The next ``k`` values."""
        self.reserve(k)
        out = self.buf[self.pos:self.pos + k]
        self.pos += k
        return out


@dataclass
class RoundResult:
    expected: np.ndarray  # [m] outcome at the start of the round (normalised)
    outcome: np.ndarray  # [m] outcome on the voting positions (normalised)
    voting: np.ndarray  # [n, m] voting positions (normalised)
    next_start: np.ndarray  # [n, m] start positions of the next round (normalised)
    realized: list[dict[str, Any]] = field(default_factory=list)
    ties: int = 0
    n_candidates: int = 0


class _Round:
    """State of one round (arrays over candidate exchanges; side 0 = Decide's ``i``, which
    supplies issue q and demands p; side 1 = Decide's ``j``, which supplies p, demands q)."""

    def __init__(self, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray, present: np.ndarray,
                 *, decide_updates: bool, compiled: bool = True, random_rate: float = 0.0,
                 rng: np.random.Generator | UniformStream | None = None) -> None:
        # the random-rate split draws u, v, z per computation from one stream (both backends)
        self.random_rate = float(random_rate)
        if isinstance(rng, UniformStream):
            self.uni = rng
        else:
            self.uni = UniformStream(rng if rng is not None else np.random.default_rng(0))
        self.compiled = compiled
        self.P0 = np.ascontiguousarray(np.where(present, pos, 0.0))
        self.S = sal
        self.C = cap
        self.present = present
        self.decide_updates = decide_updates
        n, m = pos.shape
        self.n, self.m = n, m
        w = np.where(present, sal * cap, 0.0)
        self.w = w
        self.W = w.sum(axis=0)
        x0 = np.where(present, pos, 0.0)
        self.Num = (x0 * w).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self.Num / self.W
        # an issue where nobody has weight: plain mean (no exchange can move it)
        cnt = present.sum(axis=0)
        mean = np.where(cnt > 0, x0.sum(axis=0) / np.maximum(cnt, 1), 0.0)
        self.O = np.where(self.W > 0, out, mean)
        # outcome adjustments recorded per (demander b, issue d): Decide's ``updates``
        self.Uval = np.zeros((n, m, n))
        self.Uhas = np.zeros((n, m, n), dtype=bool)
        self.Uadj = np.zeros((n, m))

    # -- candidates ---------------------------------------------------------------------
    def build(self) -> None:
        n, m = self.n, self.m
        P, S, C = self.P0, self.S, self.C
        ok = self.present & (S > 0) & (C > 0)
        left = P <= self.O[None, :] + 1e-9
        from detente.models import _exchange_numba as nb

        if nb.AVAILABLE and self.compiled:
            i, j, p, q = nb.candidates(np.ascontiguousarray(ok), np.ascontiguousarray(left))
        else:
            i, j, p, q = _candidates(ok, left)
        self.E = E = i.size
        # who supplies what: the actor with the lower s_p / s_q supplies p (side 1)
        lhs = S[i, p] * S[j, q]
        rhs = S[j, p] * S[i, q]
        swap = lhs < rhs - 1e-12 * np.maximum(np.abs(lhs), np.abs(rhs))
        a0 = np.where(swap, j, i)  # side 0 supplies q
        a1 = np.where(swap, i, j)  # side 1 supplies p
        self.act = np.stack([a0, a1], axis=1)
        self.sup = np.stack([q, p], axis=1)
        dem = np.stack([p, q], axis=1)
        self.dem = dem
        self.xs = P[self.act, self.sup]
        self.start = self.xs.copy()
        self.xd = P[self.act, dem]  # own position on the demand issue (fixed in the round)
        self.ss = S[self.act, self.sup]
        self.sd = S[self.act, dem]
        self.cs = C[self.act, self.sup]
        self.ws = self.ss * self.cs
        self.mv = np.zeros((E, 2))
        self.y = self.xs.copy()
        self.fsum = np.zeros((E, 2))
        self.fmin = np.full((E, 2), np.inf)
        self.fmax = np.full((E, 2), -np.inf)
        self.gain = np.zeros(E)
        self.valid = np.zeros(E, dtype=bool)
        # (actor, issue) -> exchanges where that actor supplies / demands that issue
        key_s = (self.act * m + self.sup).ravel()
        key_d = (self.act * m + dem).ravel()
        eid = np.repeat(np.arange(E), 2)
        self._sptr, self._sids = _csr(key_s, eid, n * m)
        self._dptr, self._dids = _csr(key_d, eid, n * m)
        if E:
            from detente.models import _exchange_numba as nb

            if nb.AVAILABLE and self.compiled:
                uni = self.uni
                if self.random_rate > 0:
                    uni.reserve(3 * E)  # at most one u, v, z per exchange
                uni.pos = nb.calc_all(
                    self.act, self.sup, self.xs, self.xd, self.ss, self.sd, self.ws, self.mv,
                    self.y, self.gain, self.valid, self.fsum, self.fmin, self.fmax, self.P0,
                    self.W, self.Num, self.Uval, self.Uhas, self.Uadj, self.random_rate,
                    uni.buf, uni.pos)
            else:
                self._calc(np.arange(E))

    # -- the equal-gain computation -----------------------------------------------------
    def _move_valid(self, ids: np.ndarray, side: int, move: np.ndarray) -> np.ndarray:
        xs = self.xs[ids, side]
        am = np.abs(move)
        ok = (am <= 100) & (am > _EPS_MOVE)
        to = xs + move
        ok &= (to >= -_EPS_EDGE) & (to <= 100 + _EPS_EDGE)
        ok &= self.fsum[ids, side] + move <= 100 + _EPS_EDGE
        lo = np.minimum(self.fmin[ids, side], move)
        hi = np.maximum(self.fmax[ids, side], move)
        ok &= ((lo < 0) & (hi < 0)) | ((lo > 0) & (hi > 0))
        return ok

    def _calc(self, ids: np.ndarray) -> None:
        """Equal-gain exchange of every exchange in ``ids`` (Decide's ``calculate``)."""
        if ids.size == 0:
            return
        xs0, xs1 = self.xs[ids, 0], self.xs[ids, 1]
        xd0, xd1 = self.xd[ids, 0], self.xd[ids, 1]
        ss0, ss1 = self.ss[ids, 0], self.ss[ids, 1]
        sd0, sd1 = self.sd[ids, 0], self.sd[ids, 1]
        w0, w1 = self.ws[ids, 0], self.ws[ids, 1]
        Wq = self.W[self.sup[ids, 0]]
        Wp = self.W[self.sup[ids, 1]]
        dist1 = np.abs(xd0 - xs1)  # side 1 (supplier on p) moves to side 0's position on p
        dist0 = np.abs(xd1 - xs0)
        dp = dist1 * w1 / Wp
        dq = (ss1 + sd0) / (sd1 + ss0) * dp
        m0 = dq * Wq / w0
        m1 = dist1.copy()
        cap = np.abs(m0) > dist0
        if cap.any():
            dq_c = dist0 * w0 / Wq
            dp_c = (ss0 + sd1) / (sd0 + ss1) * dq_c
            dq = np.where(cap, dq_c, dq)
            dp = np.where(cap, dp_c, dp)
            m0 = np.where(cap, dist0, m0)
            m1 = np.where(cap, dp_c * Wp / w1, m1)
        m0 = np.where(xs0 > xd1, -m0, m0)
        m1 = np.where(xs1 > xd0, -m1, m1)
        self.mv[ids, 0] = m0
        self.mv[ids, 1] = m1
        self.y[ids, 0] = xs0 + m0
        self.y[ids, 1] = xs1 + m1
        gain = np.abs(dq * ss0 - dp * sd0)
        self.gain[ids] = gain
        ok = self._move_valid(ids, 0, m0) & self._move_valid(ids, 1, m1) & (gain >= 1e-10)
        self.valid[ids] = ok
        sub = ids[ok]
        if sub.size:
            self._check_overshoot(sub, 0)
            self._check_overshoot(sub, 1)
            ok2 = (self._move_valid(sub, 0, self.mv[sub, 0])
                   & self._move_valid(sub, 1, self.mv[sub, 1]))
            self.valid[sub] = ok2
            if self.random_rate > 0:
                sub = sub[ok2]
                if sub.size:
                    self._random_split(sub)

    def _check_overshoot(self, ids: np.ndarray, X: int) -> None:
        """If side X's move carries the outcome on its supply issue past the partner's own
        position, shrink the moves so that the outcome lands on it (Decide's ``check_nbs``)."""
        Y = 1 - X
        a = self.act[ids, X]
        b = self.act[ids, Y]
        d = self.sup[ids, X]
        wa = self.ws[ids, X]
        Wd = self.W[d]
        inU = self.Uhas[b, d, a]
        Ua = self.Uval[b, d, a]
        cur = np.where(inU, Ua, self.P0[a, d])
        numU = self.Num[d] + self.Uadj[b, d]
        xsX = self.xs[ids, X]
        nbs0 = (numU + (xsX - cur) * wa) / Wd
        nbs1 = (numU + (self.y[ids, X] - cur) * wa) / Wd
        x = self.xd[ids, Y]
        same = ((x - nbs0 >= 0) & (x - nbs1 >= 0)) | ((x - nbs0 <= 0) & (x - nbs1 <= 0))
        if same.all():
            return
        k = ~same
        ids, a, d, wa, Wd, inU, Ua, cur, numU, xsX, x = (
            v[k] for v in (ids, a, d, wa, Wd, inU, Ua, cur, numU, xsX, x))
        pos_eff = np.where(inU, Ua, xsX)
        num_all = numU + (pos_eff - cur) * wa
        delta = np.abs((x * Wd - num_all) / wa)
        rX = delta * wa / Wd
        rY = (self.ss[ids, X] + self.sd[ids, Y]) / (self.sd[ids, X] + self.ss[ids, Y]) * rX
        mY = np.abs(rY * self.W[self.sup[ids, Y]] / self.ws[ids, Y])
        mX = delta
        mY = np.where(self.xs[ids, Y] > self.xd[ids, X], -mY, mY)
        mX = np.where(xsX > x, -mX, mX)
        self.mv[ids, X] = mX
        self.mv[ids, Y] = mY
        self.y[ids, X] = xsX + mX
        self.y[ids, Y] = self.xs[ids, Y] + mY
        self.gain[ids] = np.abs(rY * self.ss[ids, Y] - rX * self.sd[ids, Y])

    def _max_move(self, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Largest move of side k on its supply issue and the outcome shift it gives: all the
        way to the partner's position, but not carrying the outcome (as the partner sees it,
        with the moves it has recorded) across the partner's own position (the rule of
        ``_check_overshoot``: an outcome already on or past that position is not limited)."""
        a = self.act[ids, k]
        b = self.act[ids, 1 - k]
        d = self.sup[ids, k]
        wa = self.ws[ids, k]
        Wd = self.W[d]
        xs = self.xs[ids, k]
        target = self.xd[ids, 1 - k]
        full = np.abs(target - xs)
        cur = np.where(self.Uhas[b, d, a], self.Uval[b, d, a], self.P0[a, d])
        o0 = (self.Num[d] + self.Uadj[b, d] + (xs - cur) * wa) / Wd
        room = (target - o0) * np.where(target >= xs, 1.0, -1.0)  # outcome shift left
        lim = np.where(room > 0, room * Wd / wa, np.inf)
        move = np.minimum(full, lim)
        return move, move * wa / Wd

    def _random_split(self, ids: np.ndarray) -> None:
        """The random-rate variant (models.md §4.2 step 9): the joint gain of each exchange is
        split at random instead of equally. Per exchange u, v, z ~ U(0, 1): u < 0.5 picks side
        0 (Decide's i), else side 1, as the side X whose gain is drawn; v < 0.5 lets X win,
        its gain rising from the equal gain eu to ``eu + p z (eu_max - eu)``, where eu_max is
        X's gain when the partner Y gains nothing; otherwise X loses, its gain falling to
        ``eu (1 - p z)``. The moves then follow the Pareto frontier: X gives the largest shift
        it can and Y the shift that gives X exactly its drawn gain, unless that exceeds what
        Y can give, in which case Y gives its largest shift and X's shift follows. Decide's
        arithmetic slips in this computation are not reproduced (docs/models/exchange.md).
        The realisation order stays that of the equal gains, as in Decide."""
        p = self.random_rate
        uvz = self.uni.take(3 * ids.size).reshape(ids.size, 3)
        u, v, z = uvz[:, 0], uvz[:, 1], uvz[:, 2]
        X = (u >= 0.5).astype(np.int64)
        Y = 1 - X
        rows = np.arange(ids.size)
        m0, d0 = self._max_move(ids, 0)
        m1, d1 = self._max_move(ids, 1)
        M = np.stack([m0, m1], axis=1)
        D = np.stack([d0, d1], axis=1)
        ss = self.ss[ids]
        sd = self.sd[ids]
        DX, DY = D[rows, X], D[rows, Y]
        ssX, ssY, sdX, sdY = ss[rows, X], ss[rows, Y], sd[rows, X], sd[rows, Y]
        eu = self.gain[ids]
        # X's best point with Y at zero gain: Y's shift dY = dX sdY / ssY
        dx_top = np.minimum(DX, DY * ssY / sdY)
        eu_max = np.maximum(dx_top * (sdX * sdY / ssY - ssX), eu)
        T = np.where(v < 0.5, eu + p * z * (eu_max - eu), eu * (1.0 - p * z))
        dY = (T + DX * ssX) / sdX
        cap = dY > DY
        dX = np.where(cap, np.maximum((DY * sdX - T) / ssX, 0.0), DX)
        dY = np.where(cap, DY, dY)
        # moves; the side that gives all it can moves exactly its largest move
        Wk = self.W[self.sup[ids]]
        mv = np.empty((ids.size, 2))
        mv[rows, X] = np.where(cap, dX * Wk[rows, X] / self.ws[ids][rows, X], M[rows, X])
        mv[rows, Y] = np.where(cap, M[rows, Y], dY * Wk[rows, Y] / self.ws[ids][rows, Y])
        for k in (0, 1):
            m = np.where(self.xs[ids, k] > self.xd[ids, 1 - k], -mv[:, k], mv[:, k])
            self.mv[ids, k] = m
            self.y[ids, k] = self.xs[ids, k] + m
        self.valid[ids] = (self._move_valid(ids, 0, self.mv[ids, 0])
                           & self._move_valid(ids, 1, self.mv[ids, 1]))

    # -- realisation --------------------------------------------------------------------
    def affected(self, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exchanges touched by realising ``r``: by supply of side 0's / side 1's (actor,
        issue), and by demand of (side 1's actor, side 0's supply issue) / the mirror."""
        m = self.m
        a0, a1 = self.act[r]
        s0, s1 = self.sup[r]
        sp, si, dp, di = self._sptr, self._sids, self._dptr, self._dids
        k1, k2, k3, k4 = a0 * m + s0, a1 * m + s1, a1 * m + s0, a0 * m + s1
        return (si[sp[k1]:sp[k1 + 1]], si[sp[k2]:sp[k2 + 1]],
                di[dp[k3]:dp[k3 + 1]], di[dp[k4]:dp[k4 + 1]])

    def apply_outcome_update(self, r: int) -> None:
        """Record the realised voting positions in the demanders' adjusted outcomes."""
        for side in (0, 1):
            a = self.act[r, side]
            d = self.sup[r, side]
            b = self.act[r, 1 - side]
            y = self.y[r, side]
            if self.Uhas[b, d, a]:
                old = self.Uval[b, d, a]
                new = y
                if self.decide_updates:  # Decide's rule keeps the smaller / larger value
                    st = self.start[r, side]
                    if st <= old:
                        new = old if old < y else y
                    else:
                        new = old if old > y else y
            else:
                old = self.P0[a, d]
                new = y
            self.Uadj[b, d] += (new - old) * self.w[a, d]
            self.Uval[b, d, a] = new
            self.Uhas[b, d, a] = True

    def recalc(self, r: int, ids: np.ndarray, yr: np.ndarray | None = None) -> None:
        """Recompute ``ids`` (alive, distinct from r unless duplicated) after realising r."""
        if ids.size == 0:
            return
        yr = self.y[r].copy() if yr is None else yr
        for side_r in (0, 1):
            a = self.act[r, side_r]
            s = self.sup[r, side_r]
            for side in (0, 1):
                hit = (self.act[ids, side] == a) & (self.sup[ids, side] == s)
                if hit.any():
                    h = ids[hit]
                    mvh = self.mv[h, side]
                    self.fsum[h, side] += mvh
                    self.fmin[h, side] = np.minimum(self.fmin[h, side], mvh)
                    self.fmax[h, side] = np.maximum(self.fmax[h, side], mvh)
                    self.xs[h, side] = yr[side_r]
        self._calc(ids)

    def realized_record(self, r: int) -> dict[str, Any]:
        a0, a1 = (int(v) for v in self.act[r])
        return {
            "i": a0, "i_supply": int(self.sup[r, 0]), "i_x": float(self.xs[r, 0]),
            "i_y": float(self.y[r, 0]),
            "j": a1, "j_supply": int(self.sup[r, 1]), "j_x": float(self.xs[r, 1]),
            "j_y": float(self.y[r, 1]),
            "gain": float(self.gain[r]),
        }


def _candidates(ok: np.ndarray, left: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate exchanges (i, j, p, q) in creation order: issue pairs p < q, then group A
    (right of both outcomes) x D (left of both), then B (left on p only) x C (left on q)."""
    n, m = ok.shape
    ii, jj, pp, qq = [], [], [], []
    ar = np.arange(n)
    for p in range(m - 1):
        for q in range(p + 1, m):
            e = ok[:, p] & ok[:, q]
            lp, lq = left[:, p], left[:, q]
            A = ar[e & ~lp & ~lq]
            D = ar[e & lp & lq]
            B = ar[e & lp & ~lq]
            Cg = ar[e & ~lp & lq]
            for g1, g2 in ((A, D), (B, Cg)):
                if g1.size and g2.size:
                    a, b = np.meshgrid(g1, g2, indexing="ij")
                    ii.append(a.ravel())
                    jj.append(b.ravel())
                    pp.append(np.full(a.size, p))
                    qq.append(np.full(a.size, q))
    if not ii:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    return (np.concatenate(ii), np.concatenate(jj), np.concatenate(pp), np.concatenate(qq))


def _csr(keys: np.ndarray, vals: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    # small integer keys: a stable sort on int16/int32 is a radix sort (linear time)
    if size < 2**15:
        keys = keys.astype(np.int16)
    elif size < 2**31:
        keys = keys.astype(np.int32)
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    vs = np.ascontiguousarray(vals[order], dtype=np.int64)
    bounds = np.searchsorted(ks, np.arange(size + 1)).astype(np.int64)
    return bounds, vs


def _touch_bound(R: _Round) -> int:
    """Most exchanges one realisation can recompute (the sizes of the four index lists it
    reads, largest over all exchanges)."""
    if R.E == 0:
        return 0
    m = R.m
    a0, a1 = R.act[:, 0], R.act[:, 1]
    s0, s1 = R.sup[:, 0], R.sup[:, 1]
    ns = np.diff(R._sptr)
    nd = np.diff(R._dptr)
    return int((ns[a0 * m + s0] + ns[a1 * m + s1] + nd[a1 * m + s0] + nd[a0 * m + s1]).max())


def _union(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)


def run_round(pos: np.ndarray, sal: np.ndarray, cap: np.ndarray, present: np.ndarray, *,
              choose: Callable[[int], np.ndarray] | None, salience_weight: float,
              fixed_weight: float, decide_updates: bool, random_rate: float = 0.0,
              rng: np.random.Generator | UniformStream | None = None) -> RoundResult:
    """One round on normalised positions (the ``queue`` scheduler; the ``decide`` preset runs
    ``_exchange_decide``). ``choose(n)`` returns n uniform draws for the ties (tie t picks
    ``int(u_t * k)`` of its k tied exchanges in creation order); ``rng`` draws u, v, z of the
    random-rate variant when ``random_rate > 0``: pass one :class:`UniformStream` for all the
    rounds of a run (a generator is wrapped afresh each round, which drops the unread
    values of a compiled round's block)."""
    R = _Round(pos, sal, cap, present, decide_updates=decide_updates, compiled=USE_NUMBA,
               random_rate=random_rate, rng=rng)
    R.build()
    order: list[tuple[int, float, float]] = []
    ties = 0
    if R.E:
        us = choose(R.E + 1) if choose is not None else np.zeros(R.E + 1)
        order, ties = _schedule_queue(R, us)
    realized = []
    for r, x0, x1 in order:
        rec = R.realized_record(r)
        rec["i_x"], rec["j_x"] = x0, x1
        realized.append(rec)
    V = pos.copy()
    for rec in realized:
        V[rec["i"], rec["i_supply"]] = rec["i_y"]
        V[rec["j"], rec["j_supply"]] = rec["j_y"]
    w = R.w
    vx = np.where(present, V, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(R.W > 0, (vx * w).sum(axis=0) / np.where(R.W > 0, R.W, 1), R.O)
    lam = salience_weight * (1.0 - sal) + fixed_weight
    nxt = np.where(present, pos + lam * (V - pos), pos)
    return RoundResult(expected=R.O.copy(), outcome=out, voting=V, next_start=nxt,
                       realized=realized, ties=ties, n_candidates=R.E)


def _schedule_queue(R: _Round, us: np.ndarray, *, compiled: bool | None = None,
                    ) -> tuple[list[tuple[int, float, float]], int]:
    """Priority queue with lazy deletion; tie t picks ``int(us[t] * k)`` of its k tied
    exchanges (in creation order). Runs compiled when numba is available."""
    from detente.models import _exchange_numba as nb

    if compiled is None:
        compiled = nb.AVAILABLE and R.compiled
    if compiled:
        out = np.zeros((R.E, 3))
        version = np.zeros(R.E, dtype=np.int64)
        alive = R.valid.copy()
        counters = np.zeros(3, dtype=np.int64)  # realised, ties, tie draws used
        need = 0
        chunk = 0
        if R.random_rate > 0:
            # u, v, z needed by one realisation: at most one per exchange it touches
            need = 3 * int(_touch_bound(R)) + 3
            chunk = need + REFILL * max(R.E, need)
        uni = R.uni
        while True:
            if need:
                uni.reserve(chunk)
            done, uni.pos = nb.queue_loop(
                R.act, R.sup, R.xs, R.xd, R.ss, R.sd, R.ws, R.mv, R.y, R.gain, R.valid,
                R.fsum, R.fmin, R.fmax, R.start, R.P0, R.w, R.W, R.Num, R.Uval, R.Uhas,
                R.Uadj, R._sptr, R._sids, R._dptr, R._dids, R.m, R.decide_updates, us, out,
                version, alive, counters, R.random_rate, uni.buf, uni.pos, need)
            if done:  # otherwise the block ran low: refill and resume where it stopped
                break
        return [(int(out[k, 0]), float(out[k, 1]), float(out[k, 2]))
                for k in range(int(counters[0]))], int(counters[1])
    version = np.zeros(R.E, dtype=np.int64)
    alive = R.valid.copy()
    heap = [(-float(R.gain[e]), int(e), 0) for e in np.flatnonzero(alive)]
    heapq.heapify(heap)
    realized: list[tuple[int, float, float]] = []
    ties = 0

    def pop_current():
        while heap:
            g, e, v = heapq.heappop(heap)
            if alive[e] and version[e] == v:
                return g, e, v
        return None

    while True:
        top = pop_current()
        if top is None:
            break
        tied = [top]
        while heap:
            nxt = pop_current()
            if nxt is None:
                break
            if nxt[0] - top[0] <= TIE_TOL * max(1.0, -top[0]):
                tied.append(nxt)
            else:
                heapq.heappush(heap, nxt)
                break
        if len(tied) > 1:
            ties += 1
            tied.sort(key=lambda t: t[1])
            k = min(int(us[ties - 1] * len(tied)), len(tied) - 1)
            pick = tied.pop(k)
            for t in tied:
                heapq.heappush(heap, t)
        else:
            pick = tied[0]
        r = pick[1]
        alive[r] = False
        realized.append((r, float(R.xs[r, 0]), float(R.xs[r, 1])))
        R.apply_outcome_update(r)
        ids = _union(R.affected(r))
        ids = ids[alive[ids]]
        g_old = R.gain[ids].copy()
        R.recalc(r, ids)
        ok = R.valid[ids]
        alive[ids[~ok]] = False
        still = ids[ok & (R.gain[ids] != g_old)]  # an unchanged gain keeps its entry
        version[still] += 1
        for e in still:
            heapq.heappush(heap, (-float(R.gain[e]), int(e), int(version[e])))
    return realized, ties
