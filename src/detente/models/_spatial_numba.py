"""Numba kernel of the spatial model (the optional ``detente[fast]`` path).

One compiled function runs the whole turn loop of :func:`detente.models.spatial_kernel.run_smp`
for the configurations it covers (Conditional PCE, deterministic transitions, InitOnlyInterp
bargains, no per-estimator probability log); everything else stays on the NumPy path. The
arithmetic repeats the NumPy kernel's expressions in the same order, and sums that NumPy
computes pairwise (contiguous reductions) are computed with the same pairwise scheme, so both
paths agree to the last few bits (the tests compare them).

The turn's outcome comes back as flat arrays (targets, bargain coordinates, queue
probabilities, selections); :mod:`detente.models.spatial_kernel` turns them into its records.
Import this module only through ``spatial_kernel`` (it needs numba);
``spatial_kernel.warm_up()`` compiles it into numba's on-disk cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# integer codes of the configuration (index into the tuples in spatial_kernel)
ERR_NONE, ERR_FLAT_RISK = 0, 1
STOP_MAX, STOP_CONVERGED, STOP_CYCLE = 0, 1, 2


@njit("float64(int64, float64, float64)", cache=True)
def _vote(rule: int, w: float, du: float) -> float:
    # VOTING_RULES = ("Binary", "PropBin", "Prop", "PropCbc", "Cubic", "ASymProsp")
    if rule == 2:
        return w * du
    if rule == 0:
        return w * min(max(du / 1e-8, -1.0), 1.0)
    if rule == 1:
        return w * ((1 - 0.2) * du + 0.2 * min(max(du / 1e-8, -1.0), 1.0))
    if rule == 3:
        return w * ((1 - 0.5) * du + 0.5 * (du * du * du))
    if rule == 4:
        return w * (du * du * du)
    if du < 0.0:
        return w * du
    if du > 0.0:
        return (2.0 * w * du) / 3.0
    return 0.0


@njit("float64(float64[::1], int64, int64)", cache=True)
def _pwblock(a, lo: int, n: int) -> float:
    """One leaf of NumPy's pairwise summation (n <= 128)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    end = n - (n % 8)
    while i < end:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit("float64(float64[::1], int64, int64)", cache=True)
def _pwsum(a, lo: int, n: int) -> float:
    """NumPy's pairwise summation of a[lo:lo+n], bit-identical to ``np.sum`` (an explicit
    stack instead of recursion: numba cannot cache recursive functions)."""
    if n <= 128:
        return _pwblock(a, lo, n)
    # post-order evaluation of the split tree: left + right at every inner node
    st_lo = np.empty(64, dtype=np.int64)
    st_n = np.empty(64, dtype=np.int64)
    st_state = np.zeros(64, dtype=np.int64)  # 0: expand, 1: left done, 2: both done
    vals = np.empty(64)
    left = np.empty(64)
    sp = 0
    st_lo[0], st_n[0], st_state[0] = lo, n, 0
    result = 0.0
    while sp >= 0:
        cl, cn, cs = st_lo[sp], st_n[sp], st_state[sp]
        if cn <= 128:
            v = _pwblock(a, cl, cn)
            sp -= 1
            if sp < 0:
                result = v
                break
            if st_state[sp] == 0:
                left[sp] = v
                st_state[sp] = 1
            else:
                vals[sp] = left[sp] + v
                st_state[sp] = 2
            continue
        n2 = cn // 2
        n2 -= n2 % 8
        if cs == 0:
            sp += 1
            st_lo[sp], st_n[sp], st_state[sp] = cl, n2, 0
        elif cs == 1:
            sp += 1
            st_lo[sp], st_n[sp], st_state[sp] = cl + n2, cn - n2, 0
        else:
            v = vals[sp]
            sp -= 1
            if sp < 0:
                result = v
                break
            if st_state[sp] == 0:
                left[sp] = v
                st_state[sp] = 1
            else:
                vals[sp] = left[sp] + v
                st_state[sp] = 2
    return result


@njit("void(float64[:, ::1], int64, float64[:, ::1])", cache=True)
def _victory(c, victory: int, out) -> None:
    """out[i, j] = P(option i beats j) from coalitions c (VICTORY_MODELS order)."""
    m = c.shape[0]
    for i in range(m):
        for j in range(m):
            a = c[i, j]
            b = c[j, i]
            if victory == 0:
                x1, x2 = a, b
            elif victory == 1:
                x1, x2 = a * a, b * b
            elif victory == 2:
                x1, x2 = (a * a) ** 2, (b * b) ** 2
            elif victory == 3:
                x1, x2 = ((a * a) ** 2) ** 2, ((b * b) ** 2) ** 2
            else:
                thresh, min_x = 1.10, 1e-6
                r12 = a / (a + b)
                p12 = (r12 * (thresh + 1.0) - 1.0) / (thresh - 1.0)
                if a >= thresh * b:
                    x1, x2 = 1.0, min_x
                elif b >= thresh * a:
                    x1, x2 = min_x, 1.0
                else:
                    x1, x2 = p12, 1 - p12
            out[i, j] = x1 / (x1 + x2)
        out[i, i] = 0.5


@njit("void(float64[:, ::1], int64[::1], int64, float64[::1], int64, int64, boolean, "
      "float64[::1])", cache=True)
def _cond_pce(u, cols, ncol: int, w, rule: int, victory: int, guard: bool, p_out) -> None:
    """Conditional PCE over options cols[:ncol] (columns of u [voter, option]), voters
    weighted w: p_out[:ncol]. ``guard``: uniform if the products sum to zero (like ``pce``)."""
    nv = u.shape[0]
    c = np.empty((ncol, ncol))
    for i in range(ncol):
        for j in range(ncol):
            s = 0.0
            if i > j:
                for a in range(nv):
                    v = _vote(rule, w[a], u[a, cols[i]] - u[a, cols[j]])
                    if v > 0.0:
                        s += v
            elif i < j:
                for a in range(nv):
                    v = _vote(rule, w[a], u[a, cols[j]] - u[a, cols[i]])
                    if -v > 0.0:
                        s += -v
            c[i, j] = s + 1e-8
        c[i, i] = 1e-8
    pv = np.empty((ncol, ncol))
    _victory(c, victory, pv)
    prod = np.empty(ncol)
    for i in range(ncol):
        x = 1.0
        for j in range(ncol):
            x *= pv[i, j]
        prod[i] = x
    s = _pwsum(prod, 0, ncol)
    if guard and not s > 0:
        for i in range(ncol):
            p_out[i] = 1.0 / ncol
    else:
        for i in range(ncol):
            p_out[i] = prod[i] / s


@njit("void(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[::1], "
      "float64[:, ::1])", cache=True)
def _wdist(q, pts, sal, ss, out) -> None:
    """out[i, j]: salience-weighted distance from q[i] to pts[j] (``weighted_distance``)."""
    n, k = q.shape
    m = pts.shape[0]
    tmp = np.empty(k)
    for i in range(n):
        for j in range(m):
            if ss[i] > 0:
                for d in range(k):
                    ds = (q[i, d] - pts[j, d]) * sal[i, d]
                    tmp[d] = ds * ds
                out[i, j] = np.sqrt(_pwsum(tmp, 0, k) / ss[i])
            else:
                out[i, j] = 0.0


@njit("float64(float64, float64)", cache=True)
def _bs(d: float, r: float) -> float:
    if d <= 1:
        return (1 - d) * (1 + d * r)
    return (1 - d) * (1 + r)


@njit("float64(float64, float64, int64)", cache=True)
def _est(rh: float, ri: float, adjust: int) -> float:
    # BIG_R_ADJUST = ("None", "OneThird", "Half", "TwoThirds", "Full")
    if adjust == 1:
        return ((2.0 * rh) + ri) / 3.0
    if adjust == 0:
        return rh
    if adjust == 2:
        return (rh + ri) / 2
    if adjust == 3:
        return (rh + (2.0 * ri)) / 3.0
    return ri


@njit("int64(float64[:, ::1], float64[:, ::1], float64[::1], float64[:, ::1], "
      "float64[::1], int64, int64, int64, boolean, float64[:, ::1], float64[::1])", cache=True)
def _state(x, q, cap, sal, ss, rule: int, victory: int, r_range: int, quirks: bool,
           dist, risk) -> int:
    """Distances, risk attitudes and the estimated-risk matrix of a state; 1 on flat risk."""
    n = x.shape[0]
    _wdist(q, x, sal, ss, dist)
    u0 = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            u0[i, j] = 1.0 - dist[i, j]
    cols = np.arange(n)
    p = np.empty(n)
    _cond_pce(u0, cols, n, cap, rule, victory, True, p)
    pmin, pmax = p.min(), p.max()
    span = pmax - pmin
    if not span > 0.0:
        if quirks:
            return ERR_FLAT_RISK
        for i in range(n):
            risk[i] = 0.0
        return ERR_NONE
    # BIG_R_RANGE = ("Min", "Mid", "Max")
    for i in range(n):
        if r_range == 0:
            risk[i] = (p[i] - pmin) / span
        elif r_range == 1:
            risk[i] = (3 * p[i] - (pmax + 2 * pmin)) / (2 * span)
        else:
            risk[i] = (2 * p[i] - (pmax + pmin)) / span
    return ERR_NONE


@njit("void(float64[:, ::1], float64[:, ::1], float64[::1], float64[::1], int64, "
      "float64, float64[::1])", cache=True)
def _pos_probs(x, dist, risk, cap, victory: int, pos_tol: float, out) -> None:
    """PCE probability of each actor's position over the unique positions (own view)."""
    n, k = x.shape
    eq = np.zeros((n, n), dtype=np.bool_)
    tmp = np.empty(k)
    for i in range(n):
        for j in range(n):
            for d in range(k):
                df = x[i, d] - x[j, d]
                tmp[d] = df * df
            eq[i, j] = np.sqrt(_pwsum(tmp, 0, k)) < pos_tol
    uniq = np.empty(n, dtype=np.int64)
    nu = 0
    for i in range(n):
        hit = False
        for m in range(nu):
            if eq[i, uniq[m]]:
                hit = True
                break
        if not hit:
            uniq[nu] = i
            nu += 1
    own = np.empty((n, n))
    for a in range(n):
        for j in range(n):
            own[a, j] = _bs(dist[a, j], risk[a])
    p = np.empty(nu)
    _cond_pce(own, uniq, nu, cap, 2, victory, True, p)
    for i in range(n):
        last = 0
        for m in range(nu):
            if eq[i, uniq[m]]:
                last = m
        out[i] = p[last]


@njit("float64(float64)", cache=True)
def _round4(v: float) -> float:
    return np.trunc(0.5 + v * 10000.0) / 10000.0


@njit("void(float64[:, ::1], float64[::1], float64[::1], float64[::1], int64, int64, int64, "
      "boolean, float64[:, ::1], float64[:, ::1], float64[:, ::1])", cache=True)
def _challenges(dist, risk, w, s_tot, rule, r_adjust, third_party, quirks, u, prob, edu):
    """prob[i, j] = P^i(i > j) and edu[i, j] = dEU^i_i(i -> j) for every initiator i and
    target j, every third party voting (the O(N^3) step; ``_challenges`` in NumPy)."""
    n = dist.shape[0]
    c_i = np.empty(n)
    c_j = np.empty(n)
    chij = np.empty(n)
    chji = np.empty(n)
    vpos = np.empty(n)
    vneg = np.empty(n)
    for i in range(n):
        for a in range(n):
            r_ = _est(risk[i], risk[a], r_adjust)
            for c in range(n):
                u[a, c] = _bs(dist[a, c], r_)
        u_ii = u[i, i]
        for j in range(n):
            c_i[j] = _vote(rule, w[i], u_ii - u[i, j])
            c_j[j] = _vote(rule, w[j], u[j, i] - u[j, j])
            a1 = c_i[j] if c_i[j] > 0.0 else 0.0
            a2 = c_j[j] if c_j[j] > 0.0 else 0.0
            chij[j] = 1e-10 + a1 + a2
            b1 = -c_i[j] if -c_i[j] > 0.0 else 0.0
            b2 = -c_j[j] if -c_j[j] > 0.0 else 0.0
            chji[j] = 1e-10 + b1 + b2
        for j in range(n):
            ci0 = chij[j]
            cj0 = chji[j]
            for m in range(n):
                if m == i or m == j:
                    vpos[m] = 0.0
                    vneg[m] = 0.0
                    continue
                uni = u[m, i]
                unj = u[m, j]
                unn = u[m, m]
                v0 = _vote(rule, w[m], uni - unj)
                cni = ci0 + v0 if v0 > 0 else ci0
                cnj = cj0 - v0 if v0 < 0 else cj0
                pin = cni / (cni + cnj)
                pjn = 1.0 - pin
                # THIRD_PARTY = ("NoCommit", "SemiCommit", "FullCommit")
                if third_party == 1:
                    u_ikj = pin * (uni + uni + unn) + pjn * (unj + unj + unj)
                    u_ijk = pin * (uni + uni + uni) + pjn * (unj + unj + unn)
                elif quirks:
                    if third_party == 2:
                        u_ikj = pin * (uni + uni + uni) + pjn * (unj + unj + unj)
                    else:
                        u_ikj = pin * (uni + uni + unn) + pjn * (unj + unj + unn)
                    u_ijk = u_ikj
                else:
                    mag = abs(v0)
                    p_ik = (ci0 + mag) / (ci0 + cj0 + mag)
                    p_jk = ci0 / (ci0 + cj0 + mag)
                    if third_party == 2:
                        u_ikj = p_ik * (uni + uni + uni) + (1 - p_ik) * (unj + unj + unj)
                        u_ijk = p_jk * (uni + uni + uni) + (1 - p_jk) * (unj + unj + unj)
                    else:
                        u_ikj = p_ik * (uni + uni + unn) + (1 - p_ik) * (unj + unj + unn)
                        u_ijk = p_jk * (uni + uni + unn) + (1 - p_jk) * (unj + unj + unn)
                vn = _vote(rule, w[m], u_ikj - u_ijk)
                vpos[m] = vn if vn > 0.0 else 0.0
                vneg[m] = -vn if -vn > 0.0 else 0.0
            hij = ci0 + _pwsum(vpos, 0, n)
            hji = cj0 + _pwsum(vneg, 0, n)
            phij = hij / (hij + hji)
            phji = hji / (hij + hji)
            u_ij = u[i, j]
            eu_sq = u_ii + u_ij
            eu_v = u_ii + u_ii
            eu_l = u_ij + u_ij
            eu_c = phij * eu_v + phji * eu_l
            sj = s_tot[j]
            prob[i, j] = phij
            edu[i, j] = ((1 - sj) * eu_v + sj * eu_c) - eu_sq
        edu[i, i] = -np.inf

@njit("void(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[:, ::1], float64, int64, "
      "int64[::1], float64[::1], float64[::1], float64[:, ::1], float64[:, ::1])", cache=True)
def _bargains(x, sal, prob, edu, min_sig_edu, inter_vec, tgt, tval, tprob, bpi, bpr):
    """Each initiator's best target (first strict maximum above the threshold) and the
    compromise it proposes (coordinates for itself, bpi, and for its target, bpr)."""
    n, k = x.shape
    for i in range(n):
        best = -1
        bv = -np.inf
        for j in range(n):
            e = edu[i, j]
            if e > min_sig_edu and (best < 0 or e > bv):
                best = j
                bv = e
        tgt[i] = best
        if best < 0:
            continue
        j = best
        pij = prob[i, j]
        tval[i] = bv
        tprob[i] = pij
        p_i = pij
        p_j = 1 - pij
        # INTER_VEC = ("S1P1", "S2P2", "S2PMax")
        for d in range(k):
            xi, xj = x[i, d], x[j, d]
            si, sj = sal[i, d], sal[j, d]
            if inter_vec == 2:
                di = max(p_j - p_i, 0.0)
                dj = max(p_i - p_j, 0.0)
                si2, sj2 = si * si, sj * sj
                dik = (di * sj2) / ((di * sj2) + 1e-6 + ((1 - di) * si2))
                djk = (dj * si2) / ((dj * si2) + 1e-6 + ((1 - dj) * sj2))
                bpi[i, d] = xi + dik * (xj - xi)
                bpr[i, d] = xj + djk * (xi - xj)
            else:
                if inter_vec == 0:
                    wi = si * p_i
                    wj = sj * p_j
                else:
                    wi = (si * si) * (p_i * p_i)
                    wj = (sj * sj) * (p_j * p_j)
                bpi[i, d] = _round4(((wi + 1e-6) * xi + wj * xj) / (wi + 1e-6 + wj))
                bpr[i, d] = _round4((wi * xi + (1e-6 + wj) * xj) / (wi + 1e-6 + wj))

@njit("void(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[::1], float64[:, ::1], "
      "float64[::1], float64[::1], int64, int64, int64[::1], float64[:, ::1], float64[:, ::1], "
      "float64[::1], float64[::1], float64[::1], int64[::1], boolean[::1], float64[:, ::1])",
      cache=True)
def _resolve(x, q, sal, ss, dist, risk, cap, rule, victory, tgt, bpi, bpr, qp_sq, qp_init,
             qp_rcvr, sel, moved, new_x):
    """Every actor's queue of bargains resolved by a scalar PCE; new positions in new_x."""
    n, k = x.shape
    own = np.empty((n, n))
    base = np.empty(n)
    rowbuf = np.empty(n)
    for a in range(n):
        for j in range(n):
            own[a, j] = _bs(dist[a, j], risk[a])
        for j in range(n):
            rowbuf[j] = own[a, j]
        base[a] = _pwsum(rowbuf, 0, n)
    nb = 0
    for i in range(n):
        if tgt[i] >= 0:
            nb += 1
    inits = np.empty(nb, dtype=np.int64)
    r = 0
    for i in range(n):
        if tgt[i] >= 0:
            inits[r] = i
            r += 1
    pts = np.empty((2 * nb, k))
    for r in range(nb):
        i = inits[r]
        for d in range(k):
            pts[r, d] = bpi[i, d]
            pts[nb + r, d] = bpr[i, d]
    db = np.empty((n, 2 * nb))
    _wdist(q, pts, sal, ss, db)
    util = np.empty((n, nb + 1))
    for a in range(n):
        util[a, 0] = base[a] / n
        for r in range(nb):
            i = inits[r]
            jj = tgt[i]
            util[a, r + 1] = (_bs(db[a, r], risk[a]) + _bs(db[a, nb + r], risk[a]) + base[a]
                              - own[a, i] - own[a, jj]) / n
    colof = np.zeros(n, dtype=np.int64)
    for r in range(nb):
        colof[inits[r]] = r + 1
    cols = np.empty(nb + 1, dtype=np.int64)
    who = np.empty(nb + 1, dtype=np.int64)  # initiator of each queue entry (-1: status quo)
    qpk = np.empty(nb + 1)
    for kq in range(n):
        # queue order: the initiators' loop, kq's status quo (and own bargain) at kq
        L = 0
        for i in range(n):
            if i == kq:
                cols[L] = 0
                who[L] = -1
                L += 1
                if colof[i] > 0:
                    cols[L] = colof[i]
                    who[L] = i
                    L += 1
            elif colof[i] > 0 and tgt[i] == kq:
                cols[L] = colof[i]
                who[L] = i
                L += 1
        if L > 1:
            _cond_pce(util, cols, L, cap, rule, victory, False, qpk)
        else:
            qpk[0] = 1.0
        m_sel = 0
        best = abs(qpk[0])
        for m in range(1, L):
            if abs(qpk[m]) > best:
                best = abs(qpk[m])
                m_sel = m
        sel[kq] = who[m_sel]
        for m in range(L):
            i = who[m]
            if i < 0:
                qp_sq[kq] = qpk[m]
            elif i == kq:
                qp_init[kq] = qpk[m]
            else:
                qp_rcvr[i] = qpk[m]
        i = who[m_sel]
        mv = False
        for d in range(k):
            if i < 0:
                nv = x[kq, d]
            elif i == kq:
                nv = bpi[i, d]
            else:
                nv = bpr[i, d]
            if nv != x[kq, d]:
                mv = True
            new_x[kq, d] = nv
        moved[kq] = mv


@njit(cache=True)
def smp_loop(cap, pos0, sal, accom, identity: bool, rule: int, victory: int, r_adjust: int,
             r_range: int, third_party: int, inter_vec: int, quirks: bool, min_turns: int,
             max_turns: int, min_delta_ratio: float, min_sig_delta: float, pos_tol: float,
             min_sig_edu: float, detect_cycles: bool,
             xs, qs, probs, risks, movement, tgt, tval, tprob, bpi, bpr, qp_sq, qp_init,
             qp_rcvr, sel, moved, status):
    """Run the SMP turn loop; fills the preallocated outputs. status[:] = (turns, stop code,
    cycle start, cycle period, error code)."""
    n, k = pos0.shape
    s_tot = np.empty(n)
    ss = np.empty(n)
    tmp = np.empty(k)
    for i in range(n):
        for d in range(k):
            tmp[d] = sal[i, d]
        s_tot[i] = _pwsum(tmp, 0, k)
        for d in range(k):
            tmp[d] = sal[i, d] * sal[i, d]
        ss[i] = _pwsum(tmp, 0, k)
    w = np.empty(n)
    for i in range(n):
        w[i] = cap[i] * s_tot[i]
    rs = np.empty(n)
    if not identity:
        col = np.empty(n)
        for i in range(n):
            for j in range(n):
                col[j] = accom[i, j]
            rs[i] = min(_pwsum(col, 0, n), 1.0)
    x = pos0.copy()
    q = pos0.copy()
    dist = np.empty((n, n))
    risk = np.empty(n)
    for i in range(n):
        for d in range(k):
            xs[0, i, d] = x[i, d]
            qs[0, i, d] = q[i, d]
    if _state(x, q, cap, sal, ss, rule, victory, r_range, quirks, dist, risk) != 0:
        status[4] = ERR_FLAT_RISK
        return
    _pos_probs(x, dist, risk, cap, victory, pos_tol, probs[0])
    risks[0, :] = risk
    # rounded-history hashes for cycle detection
    hk = np.empty(n * k)  # fixed irrational-ish weights: a cheap prefilter before comparing
    for e in range(n * k):
        hk[e] = 1.0 + ((e + 1) * 0.6180339887498949) % 1.0
    hist_h = np.empty(max_turns + 1)
    rounded = np.empty((max_turns + 1, n, k)) if detect_cycles else np.empty((1, n, k))
    if detect_cycles:
        h = 0.0
        for i in range(n):
            for d in range(k):
                r = np.rint(x[i, d] * 1e9) / 1e9
                rounded[0, i, d] = r
                h += r * hk[i * k + d]
        hist_h[0] = h

    u = np.empty((n, n))
    prob = np.empty((n, n))
    edu = np.empty((n, n))
    new_x = np.empty((n, k))
    rowbuf = np.empty(n)
    t = 0
    while True:
        t += 1
        ti = t - 1
        _challenges(dist, risk, w, s_tot, rule, r_adjust, third_party, quirks, u, prob, edu)
        _bargains(x, sal, prob, edu, min_sig_edu, inter_vec, tgt[ti], tval[ti], tprob[ti],
                  bpi[ti], bpr[ti])
        _resolve(x, q, sal, ss, dist, risk, cap, rule, victory, tgt[ti], bpi[ti], bpr[ti],
                 qp_sq[ti], qp_init[ti], qp_rcvr[ti], sel[ti], moved[ti], new_x)
        # --- ideals, movement, new state
        if identity:
            for a in range(n):
                for d in range(k):
                    q[a, d] = new_x[a, d]
        else:
            nq = np.empty((n, k))
            for a in range(n):
                for d in range(k):
                    s = 0.0
                    for b in range(n):
                        s += accom[a, b] * new_x[b, d]
                    nq[a, d] = s + (1.0 - rs[a]) * q[a, d]
            q[:, :] = nq
        for a in range(n):
            for d in range(k):
                df = new_x[a, d] - x[a, d]
                tmp[d] = df * df
            rowbuf[a] = np.sqrt(_pwsum(tmp, 0, k))
        move = _pwsum(rowbuf, 0, n)
        movement[ti] = move
        for a in range(n):
            for d in range(k):
                x[a, d] = new_x[a, d]
                xs[t, a, d] = x[a, d]
                qs[t, a, d] = q[a, d]
        if _state(x, q, cap, sal, ss, rule, victory, r_range, quirks, dist, risk) != 0:
            status[0] = t
            status[4] = ERR_FLAT_RISK
            return
        _pos_probs(x, dist, risk, cap, victory, pos_tol, probs[t])
        risks[t, :] = risk
        ratio = move / (movement[0] + min_sig_delta)
        if min_turns <= t and ratio < min_delta_ratio:
            status[0] = t
            status[1] = STOP_CONVERGED
            return
        if detect_cycles:
            h = 0.0
            for a in range(n):
                for d in range(k):
                    rv = np.rint(x[a, d] * 1e9) / 1e9
                    rounded[t, a, d] = rv
                    h += rv * hk[a * k + d]
            hist_h[t] = h
            for f in range(t - 1, -1, -1):
                if hist_h[f] != h:
                    continue
                same = True
                for a in range(n):
                    for d in range(k):
                        if rounded[f, a, d] != rounded[t, a, d]:
                            same = False
                            break
                    if not same:
                        break
                if same:
                    if t - f >= 2:
                        status[0] = t
                        status[1] = STOP_CYCLE
                        status[2] = f
                        status[3] = t - f
                        return
                    break
        if max_turns <= t:
            status[0] = t
            status[1] = STOP_MAX
            return

