"""Vectorised kernels of the expected-utility model (models.md §1), batched on a leading axis.

Every function takes arrays shaped ``[B, n]`` (B independent draws of one issue, n actors)
and returns ``[B, ...]``; a single issue is ``B = 1``. Nothing here knows about scenarios,
ids or explanations: :mod:`detente.models.expected_utility` builds those on top.

Win probabilities use an exact O(n^2 log n) method for one dimension instead of the O(n^3)
vote tensor. Voter k compares two options a, b through ``g_k(d) = w_k d^{r_k}`` with
``w_k = c_k s_k`` and d the normalised distance; because ``g_k`` grows with distance, k prefers
the option nearer to it, i.e. for ``x_i < x_j`` exactly the voters left of the midpoint back
i. With voters sorted by position and column prefix sums ``C[m, a] = sum of g_k(d_ka) over
the m leftmost voters`` the positive vote mass for i against j is a difference of two table
look-ups. The `triples` denominator (every voter, every ordered pair of actors) is, per voter,
the sum of pairwise absolute differences of one row, which sorting gives in O(n log n).

The plain O(n^3) versions (``method="direct"``) stay for cross-checks; with numba installed
(optional, ``detente[fast]``) :func:`solve_rounds_numba`-style kernels are not needed: the
batched NumPy path is already bounded by memory traffic, so numba is only used for the
per-draw offer loop of large batches (see ``_numba_available``).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

__all__ = [
    "EPS",
    "KIND_NONE",
    "KIND_CONFLICT",
    "KIND_COMPROMISE",
    "KIND_CAPITULATION",
    "KIND_NAMES",
    "weighted_median",
    "weighted_mean",
    "vote_mass",
    "win_prob",
    "eu_challenge",
    "risk_from_threat",
    "offers",
    "pick_offers",
    "canonical_order",
    "offers_and_pick",
    "numba_enabled",
]

EPS = 0.0
"""Tolerance of the sign and order tests on expected utilities. It is 0: the reference
implementations compare exactly, and the published paths depend on it (an actor 1e-13 short of
a position still receives, and takes, a vanishing compromise offer). Order invariance is
obtained instead by solving on a canonical actor order (see ``canonical_order``)."""

KIND_NONE, KIND_CONFLICT, KIND_COMPROMISE, KIND_CAPITULATION = 0, 1, 2, 3
KIND_NAMES = {KIND_CONFLICT: "conflict", KIND_COMPROMISE: "compromise",
              KIND_CAPITULATION: "capitulation"}

_DIRECT_LIMIT = 4_000_000  # elements of a [chunk, n, n, n] tensor built at once
_PARALLEL_MIN = 200_000  # inner iterations below which numba kernels run on one thread
_SMALL_N = 24  # batches of at most this many actors use the direct O(n^3) vote mass

# the numba module (untyped), or None without it
_nb: Any
try:  # numba is optional (detente[fast]); everything falls back to NumPy without it
    import numba as _nb
except Exception:  # pragma: no cover - depends on the environment
    _nb = None


def _mass_direct_py(g: np.ndarray, out: np.ndarray) -> None:
    bsz, n, _ = g.shape
    chunk = max(1, _DIRECT_LIMIT // max(1, n ** 3))
    for a in range(0, bsz, chunk):
        gg = g[a:a + chunk]
        v = gg[:, :, None, :] - gg[:, :, :, None]  # [b, k, i, j] = G[k,j] - G[k,i]
        out[a:a + chunk] = np.maximum(v, 0.0).sum(axis=1)


if _nb is not None:

    def _mass_direct_body(g: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
        bsz, n, _ = g.shape
        for b in _nb.prange(bsz):
            for i in range(n):
                for j in range(n):
                    acc = 0.0
                    for k in range(n):
                        v = g[b, k, j] - g[b, k, i]
                        if v > 0.0:
                            acc += v
                    out[b, i, j] = acc

    _mass_direct_par = _nb.njit(parallel=True, cache=True)(_mass_direct_body)
    _mass_direct_ser = _nb.njit(cache=True)(_mass_direct_body)


def numba_enabled() -> bool:
    """Whether the optional numba kernels are in use."""
    return _nb is not None


def _mass_direct(g: np.ndarray) -> np.ndarray:
    out = np.empty(g.shape)
    if _nb is not None:
        try:
            fn = _mass_direct_par if g.size * g.shape[1] >= _PARALLEL_MIN else _mass_direct_ser
            fn(np.ascontiguousarray(g), out)
            return out
        except Exception:  # pragma: no cover - a broken numba install: fall back
            pass
    _mass_direct_py(g, out)
    return out


# ------------------------------------------------------------------------------ forecasts


def weighted_median(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The c·s-weighted median of each row (the 1-D Condorcet winner among positions).

    When the cumulative weight hits exactly half at a position, every point between that
    position and the next weighted one ties; the midpoint of that interval is returned.
    Rows whose weights are all zero use equal weights.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    tot = w.sum(axis=1)
    w = np.where((tot <= 0)[:, None], 1.0, w)
    tot = w.sum(axis=1)
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    ws = np.take_along_axis(w, order, axis=1)
    cum = np.cumsum(ws, axis=1)
    half = tot / 2.0
    tol = 1e-12 * np.maximum(tot, 1e-300)
    lo = np.argmax(cum >= (half - tol)[:, None], axis=1)
    hi = np.argmax(cum > (half + tol)[:, None], axis=1)
    rows = np.arange(x.shape[0])
    return 0.5 * (xs[rows, lo] + xs[rows, hi])


def weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The c·s-weighted mean of each row (the 'mean voter'); equal weights if all are 0."""
    w = np.asarray(w, dtype=float)
    tot = w.sum(axis=1)
    w = np.where((tot <= 0)[:, None], 1.0, w)
    return (w * x).sum(axis=1) / w.sum(axis=1)


def canonical_order(x: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per-row permutation sorting actors by (position, capability, salience).

    Solving on this order makes every floating-point sum independent of the order in which
    actors were listed (identical actors are interchangeable), so knife-edge comparisons
    cannot depend on the input order.
    """
    return np.lexsort((s, c, x), axis=-1)


# ------------------------------------------------------------------------------ votes


def _g(x: np.ndarray, w: np.ndarray, width: np.ndarray, r: np.ndarray | None) -> np.ndarray:
    """G[b, k, a] = w_k (|x_k - x_a| / W)^{r_k}: voter k's disutility of option a."""
    d = np.abs(x[:, :, None] - x[:, None, :]) / width[:, None, None]
    if r is not None:
        r = np.asarray(r, dtype=float)
        if not np.all(r == 1.0):
            d = d ** r[:, :, None]
    return w[:, :, None] * d


def _count_left(xs: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """cnt[b, i, j] = number of sorted positions xs[b] strictly below mid[b, i, j]."""
    bsz, n = xs.shape
    if bsz == 1:
        return np.searchsorted(xs[0], mid[0], side="left")[None]
    out = np.empty(mid.shape, dtype=np.intp)
    chunk = max(1, _DIRECT_LIMIT // max(1, n ** 3))
    for a in range(0, bsz, chunk):
        sl = slice(a, a + chunk)
        out[sl] = (xs[sl, None, None, :] < mid[sl, :, :, None]).sum(axis=-1)
    return out


def vote_mass(x: np.ndarray, w: np.ndarray, width: np.ndarray, r: np.ndarray | None = None,
              *, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Positive vote mass and the voter-disutility table.

    Returns ``(N, G)`` with ``N[b, i, j] = sum_k max(0, G[b,k,j] - G[b,k,i])`` (the weight of
    the votes for i against j, up to the factor 2 of the paper's utilities, which cancels in
    every probability) and ``G`` from :func:`_g`. ``method``: 'prefix' (exact, O(n^2 log n)
    per draw), 'direct' (the O(n^3) sum; numba-compiled when available) or 'auto' (direct for
    batches of small issues, prefix otherwise).
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    width = np.broadcast_to(np.asarray(width, dtype=float), (x.shape[0],))
    g = _g(x, w, width, r)
    bsz, n = x.shape
    if method == "auto":
        method = "direct" if (bsz > 1 and n <= _SMALL_N) else "prefix"
    if method == "direct":
        return _mass_direct(g), g
    if method != "prefix":
        raise ValueError(f"unknown method {method!r}")
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    gs = np.take_along_axis(g, order[:, :, None], axis=1)
    c = np.zeros((bsz, n + 1, n))
    np.cumsum(gs, axis=1, out=c[:, 1:, :])
    tot = c[:, n, :]  # [b, a]
    mid = 0.5 * (x[:, :, None] + x[:, None, :])
    cnt = _count_left(xs, mid)  # [b, i, j]
    bi = np.arange(bsz)[:, None, None]
    ii = np.arange(n)[None, :, None]
    jj = np.arange(n)[None, None, :]
    left_j = c[bi, cnt, jj]  # sum over voters left of mid of G[k, j]
    left_i = c[bi, cnt, ii]
    xi = x[:, :, None]
    xj = x[:, None, :]
    n_left = left_j - left_i  # i on the left: left voters back i
    n_right = (tot[:, None, :] - left_j) - (tot[:, :, None] - left_i)
    mass = np.where(xi < xj, n_left, np.where(xi > xj, n_right, 0.0))
    np.maximum(mass, 0.0, out=mass)
    return mass, g


def _pair_abs_sum(g: np.ndarray) -> np.ndarray:
    """sum_k sum_{a,b} |G[b,k,a] - G[b,k,b']| per batch row, via sorting each voter's row."""
    gs = np.sort(g, axis=2)
    n = g.shape[2]
    coef = 2.0 * np.arange(n) - (n - 1)
    return 2.0 * (gs * coef).sum(axis=(1, 2))


def win_prob(x: np.ndarray, c: np.ndarray, s: np.ndarray, width: np.ndarray | float,
             variant: str, r: np.ndarray | None = None, *, method: str = "auto"
             ) -> np.ndarray:
    """P[b, i, j]: probability that i beats j in a contest decided by all actors' votes.

    ``variant``: ``paper`` (positive votes / all |votes|), ``net`` (net vote / all |votes|),
    ``exclude_ij`` (as paper without the votes of i and j), ``triples`` (positive votes /
    |votes| of every voter on every ordered pair of actors). ``r``: voters' risk exponents
    (``None``: all 1). Ties of positions give 0.5 (``triples``: 0, as in jmckib); a zero
    denominator gives 0.5 (``triples``: 0).
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(c, dtype=float) * np.asarray(s, dtype=float)
    width = np.broadcast_to(np.asarray(width, dtype=float), (x.shape[0],))
    mass, g = vote_mass(x, w, width, r, method=method)
    if variant == "triples":
        den = _pair_abs_sum(g)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = mass / den[:, None, None]
        return np.where(den[:, None, None] > 0, p, 0.0)
    if variant == "exclude_ij":
        mass = np.maximum(mass - g, 0.0)  # voter i's own vote for i over j is G[i, j]
    elif variant not in ("paper", "net"):
        raise ValueError(f"unknown win-probability variant {variant!r}")
    mt = np.swapaxes(mass, 1, 2)
    den = mass + mt
    num = np.maximum(mass - mt, 0.0) if variant == "net" else mass
    with np.errstate(invalid="ignore", divide="ignore"):
        p = num / den
    fill = 0.0 if variant == "net" else 0.5
    return np.where(den > 0, p, fill)


# ------------------------------------------------------------------------------ utilities


def _gain(z: np.ndarray, r: np.ndarray | float) -> np.ndarray:
    """4·0.5^r·(1 - (1 + z)^r), computed without cancellation for small |z|.

    Every utility of §1.4 is ``U = 2 - 4 (0.5 (1 + z))^r`` for some z, and
    ``U - U_sq = 4·0.5^r·(1 - (1 + z)^r)``; ``-expm1(r log1p(z))`` keeps full relative
    precision when two positions nearly coincide (the naive ``2 - 4 base^r`` difference of
    O(1) numbers is pure rounding noise there and decides offers at random).
    """
    z = np.maximum(z, -1.0)
    with np.errstate(divide="ignore"):
        return -4.0 * np.power(0.5, r) * np.expm1(r * np.log1p(z))


def gains(d: np.ndarray, r: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(U^s - U^sq, U^f - U^sq) for distance ``d`` and exponent ``r`` (exact 2d, -2d at r=1)."""
    if np.isscalar(r) and float(cast(float, r)) == 1.0:
        return 2.0 * d, -2.0 * d
    return _gain(-d, r), _gain(d, r)


def eu_from_gains(gs: np.ndarray, gf: np.ndarray, p: np.ndarray, s_target: np.ndarray,
                  dmu: np.ndarray, d: np.ndarray, r: np.ndarray | float, q: float, t: float
                  ) -> np.ndarray:
    """:func:`eu_challenge` from precomputed :func:`gains` (shared by EU_ij and EU_ji)."""
    # s (P gs + (1 - P) gf) + (1 - s) gs == gf + (gs - gf) (1 - s (1 - P))
    out = (1.0 - p) * s_target
    np.subtract(1.0, out, out=out)
    out *= gs - gf
    out += gf
    if q != 1.0:
        half = 0.5 * (dmu + d)
        out = out - (1.0 - q) * (t * _gain(-half, r) + (1.0 - t) * _gain(half, r))
    return out


def eu_challenge(d: np.ndarray, p: np.ndarray, s_target: np.ndarray, dmu: np.ndarray,
                 r: np.ndarray | float, q: float, t: float) -> np.ndarray:
    """Expected utility to a challenger of challenging a target (models.md §1.6).

    All arguments broadcast: ``d`` challenger-target distance / W, ``p`` challenger's win
    probability, ``s_target`` the target's salience (its probability of resisting), ``dmu``
    the challenger's distance to the median / W, ``r`` the risk exponent the utilities are
    evaluated with, ``q``/``t`` BDM's Q and T. Utilities enter as differences from the
    status-quo utility (which cancels exactly), see :func:`_gain`.
    """
    gs, gf = gains(d, r)
    return eu_from_gains(gs, gf, p, s_target, dmu, d, r, q, t)


def risk_from_threat(threat: np.ndarray, lo: np.ndarray | None = None,
                     hi: np.ndarray | None = None) -> np.ndarray:
    """r = (1 - R/3)/(1 + R/3) with R = (2 threat - max - min)/(max - min) (§1.7).

    ``lo``/``hi`` default to the row minimum/maximum of ``threat`` (comparison across
    actors); pass them for another comparison set. A zero range gives r = 1.
    """
    threat = np.asarray(threat, dtype=float)
    if hi is None:
        hi = threat.max(axis=-1, keepdims=True)
    if lo is None:
        lo = threat.min(axis=-1, keepdims=True)
    rng = hi - lo
    scale = np.maximum(np.abs(hi), np.abs(lo))
    ok = rng > 1e-12 * np.maximum(scale, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        big_r = np.where(ok, (2.0 * threat - hi - lo) / np.where(ok, rng, 1.0), 0.0)
    big_r = np.clip(big_r, -1.0, 1.0)
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)


# ------------------------------------------------------------------------------ offers


def offers(x: np.ndarray, a: np.ndarray, b: np.ndarray, capitulation: bool
           ) -> tuple[np.ndarray, np.ndarray]:
    """Classify every offer j makes to receiver i (§1.8): returns ``(kind, target)``.

    ``a[b, i, j] = EU_ij`` and ``b[b, i, j] = EU_ji`` as i sees them. ``kind`` is one of the
    KIND_* codes; ``target`` is where i would move if it accepted.
    """
    xi = x[:, :, None]
    xj = x[:, None, :]
    valid = (xi != xj) & (b > EPS)
    conflict = valid & (a > EPS) & (b > a + EPS)
    losing = valid & (a < -EPS)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(losing, -a / np.where(losing, b, 1.0), 0.0)
    compromise = losing & (phi < 1.0 - EPS)
    capit = losing & ~compromise
    if not capitulation:
        capit = np.zeros_like(capit)
    kind = np.zeros(a.shape, dtype=np.int8)
    kind[conflict] = KIND_CONFLICT
    kind[compromise] = KIND_COMPROMISE
    kind[capit] = KIND_CAPITULATION
    frac = np.where(compromise, phi, 1.0)
    target = xi + (xj - xi) * frac
    target = np.where(kind > 0, target, xi)
    return kind, np.broadcast_to(target, a.shape).copy()


def _select(mask: np.ndarray, key: np.ndarray, mode: str) -> np.ndarray:
    """Restrict ``mask`` to entries whose key is minimal ('min') or maximal ('max') per row."""
    big = np.inf if mode == "min" else -np.inf
    k = np.where(mask, key, big)
    best = k.min(axis=2, keepdims=True) if mode == "min" else k.max(axis=2, keepdims=True)
    if mode == "min":
        return mask & (k <= best)
    return mask & (k >= best)


def pick_offers(x: np.ndarray, kind: np.ndarray, target: np.ndarray, a: np.ndarray,
                b: np.ndarray, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Which offer each receiver accepts: returns ``(new_x, counterpart)`` ([B, n]);
    counterpart is -1 where i accepts none.

    ``least_move``: the smallest move, ties to the larger sender EU, then the lower target.
    ``jmckib``: conflicts first (smallest move), else compromises ranked by
    (|A| x_i + B x_j)/(|A| + B) (smallest first), else capitulations (smallest move).
    ``max_sender_eu``: the largest sender EU B, ties to the smallest move, then lower target.
    """
    has = kind > 0
    dist = np.abs(target - x[:, :, None])
    if rule == "least_move":
        m = _select(has, dist, "min")
        m = _select(m, b, "max")
    elif rule == "max_sender_eu":
        m = _select(has, b, "max")
        m = _select(m, dist, "min")
    elif rule == "jmckib":
        conf = kind == KIND_CONFLICT
        comp = kind == KIND_COMPROMISE
        capi = kind == KIND_CAPITULATION
        any_conf = conf.any(axis=2, keepdims=True)
        any_comp = comp.any(axis=2, keepdims=True)
        xi = x[:, :, None]
        xj = x[:, None, :]
        absa = np.abs(a)
        with np.errstate(invalid="ignore", divide="ignore"):
            ckey = (absa * xi + np.abs(b) * xj) / (absa + np.abs(b))
        m_conf = _select(conf, dist, "min")
        m_comp = _select(comp, ckey, "min")
        m_capi = _select(capi, dist, "min")
        m = np.where(any_conf, m_conf, np.where(any_comp, m_comp, m_capi))
    else:
        raise ValueError(f"unknown offer rule {rule!r}")
    m = _select(m, target, "min")
    any_offer = m.any(axis=2)
    j = np.argmax(m, axis=2)
    new = np.take_along_axis(target, j[:, :, None], axis=2)[:, :, 0]
    new = np.where(any_offer, new, x)
    return new, np.where(any_offer, j, -1)


_RULES = {"least_move": 0, "max_sender_eu": 1, "jmckib": 2}

if _nb is not None:

    @_nb.njit(cache=True, inline="always")
    def _better(rule: int, kind: int, dist: float, bb: float, tgt: float, ckey: float,
                bkind: int, bdist: float, bbb: float, btgt: float, bckey: float
                ) -> bool:  # pragma: no cover - compiled
        if bkind == 0:
            return True
        if rule == 0:
            if dist != bdist:
                return dist < bdist
            if bb != bbb:
                return bb > bbb
            return tgt < btgt
        if rule == 1:
            if bb != bbb:
                return bb > bbb
            if dist != bdist:
                return dist < bdist
            return tgt < btgt
        # jmckib: conflict (1) before compromise (2) before capitulation (3)
        if kind != bkind:
            return kind < bkind
        if kind == 2:
            if ckey != bckey:
                return ckey < bckey
            return tgt < btgt
        if dist != bdist:
            return dist < bdist
        return tgt < btgt

    def _offers_pick_body(x, a, b, capitulation, rule, kind, target, new, cp
                          ) -> None:  # pragma: no cover - compiled
        bsz, n = x.shape
        for q in _nb.prange(bsz):
            for i in range(n):
                xi = x[q, i]
                bk = 0
                bdist = 0.0
                bbb = 0.0
                btgt = xi
                bck = 0.0
                bj = -1
                for j in range(n):
                    xj = x[q, j]
                    aa = a[q, i, j]
                    bb = b[q, i, j]
                    k = 0
                    tg = xi
                    if xi != xj and bb > 0.0:
                        if aa > 0.0 and bb > aa:
                            k = 1
                            tg = xj
                        elif aa < 0.0:
                            phi = -aa / bb
                            if phi < 1.0:
                                k = 2
                                tg = xi + (xj - xi) * phi
                            elif capitulation:
                                k = 3
                                tg = xj
                    kind[q, i, j] = k
                    target[q, i, j] = tg
                    if k == 0:
                        continue
                    dist = abs(tg - xi)
                    ck = 0.0
                    if k == 2:
                        ck = (abs(aa) * xi + abs(bb) * xj) / (abs(aa) + abs(bb))
                    if _better(rule, k, dist, bb, tg, ck, bk, bdist, bbb, btgt, bck):
                        bk = k
                        bdist = dist
                        bbb = bb
                        btgt = tg
                        bck = ck
                        bj = j
                new[q, i] = btgt if bj >= 0 else xi
                cp[q, i] = bj

    # threads only pay for large batches; small calls run serially (no thread start-up)
    _offers_pick_par = _nb.njit(parallel=True, cache=True)(_offers_pick_body)
    _offers_pick_ser = _nb.njit(cache=True)(_offers_pick_body)


def offers_and_pick(x: np.ndarray, a: np.ndarray, b: np.ndarray, capitulation: bool,
                    rule: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`offers` then :func:`pick_offers`: ``(kind, target, new_x, counterpart)``.

    Uses one compiled pass when numba is available, the NumPy versions otherwise (same
    comparisons, same tie-breaks).
    """
    if rule not in _RULES:
        raise ValueError(f"unknown offer rule {rule!r}")
    if _nb is not None and EPS == 0.0:
        bsz, n = x.shape
        kind = np.empty((bsz, n, n), dtype=np.int8)
        target = np.empty((bsz, n, n))
        new = np.empty((bsz, n))
        cp = np.empty((bsz, n), dtype=np.int64)
        try:
            fn = _offers_pick_par if bsz * n * n >= _PARALLEL_MIN else _offers_pick_ser
            fn(np.ascontiguousarray(x), np.ascontiguousarray(a),
                            np.ascontiguousarray(b), bool(capitulation), _RULES[rule],
                            kind, target, new, cp)
            return kind, target, new, cp
        except Exception:  # pragma: no cover - a broken numba install: fall back
            pass
    kind, target = offers(x, a, b, capitulation)
    new, cp = pick_offers(x, kind, target, a, b, rule)
    return kind, target, new, cp

