"""Compiled realisation loop of the exchange model's ``queue`` scheduler (optional numba).

The same arithmetic as :class:`detente.models._exchange_engine._Round` (``_calc``,
``_check_overshoot``, ``_move_valid``, ``_max_move``, ``_random_split``,
``apply_outcome_update``, ``recalc``), written per exchange so that a realisation costs
microseconds instead of NumPy call overhead. Used when numba is installed (``detente[fast]``);
tests check that it gives bit-identical forecasts to the NumPy path.

The random-rate split (``p > 0``) reads its u, v, z from a pre-drawn array ``uni`` at
``upos`` (the engine's ``UniformStream``), three per computed exchange, in the order the
NumPy path draws them: the first pass in exchange order, and after each realisation the
exchanges it touches in increasing id order. ``queue_loop`` stops at the top of an iteration
when fewer values remain than one realisation may need, and resumes from its saved state
once the caller has refilled the array.
"""

from __future__ import annotations

import heapq

import numpy as np

try:  # pragma: no cover - exercised when numba is installed
    import numba

    # error_model="numpy": a float division by zero gives inf/nan instead of a checked raise
    # (no divisor here can be zero: actors without salience or capability do not trade)
    _njit = numba.njit(cache=True, error_model="numpy")
    # per-exchange helpers are inlined into the loops: a call that passes some twenty arrays
    # costs more than the arithmetic it does
    _njit_inline = numba.njit(cache=True, inline="always", error_model="numpy")
    AVAILABLE = True
except Exception:  # pragma: no cover
    AVAILABLE = False

    def _njit(f):
        return f

    _njit_inline = _njit

EPS_MOVE = 1e-10
EPS_EDGE = 1e-9
TIE_TOL = 1e-9


@_njit_inline
def _valid_move(xs, fsum, fmin, fmax, move):
    am = abs(move)
    if not (am <= 100.0 and am > EPS_MOVE):
        return False
    to = xs + move
    if not (to >= -EPS_EDGE and to <= 100.0 + EPS_EDGE):
        return False
    if not (fsum + move <= 100.0 + EPS_EDGE):
        return False
    lo = min(fmin, move)
    hi = max(fmax, move)
    return (lo < 0 and hi < 0) or (lo > 0 and hi > 0)


@_njit_inline
def _overshoot(e, X, act, sup, xs, xd, ss, sd, ws, mv, y, gain, P0, W, Num, Uval, Uhas, Uadj):
    Y = 1 - X
    a = act[e, X]
    b = act[e, Y]
    d = sup[e, X]
    wa = ws[e, X]
    Wd = W[d]
    inU = Uhas[b, d, a]
    Ua = Uval[b, d, a]
    cur = Ua if inU else P0[a, d]
    numU = Num[d] + Uadj[b, d]
    xsX = xs[e, X]
    nbs0 = (numU + (xsX - cur) * wa) / Wd
    nbs1 = (numU + (y[e, X] - cur) * wa) / Wd
    x = xd[e, Y]
    if (x - nbs0 >= 0 and x - nbs1 >= 0) or (x - nbs0 <= 0 and x - nbs1 <= 0):
        return
    pos_eff = Ua if inU else xsX
    num_all = numU + (pos_eff - cur) * wa
    delta = abs((x * Wd - num_all) / wa)
    rX = delta * wa / Wd
    rY = (ss[e, X] + sd[e, Y]) / (sd[e, X] + ss[e, Y]) * rX
    mY = abs(rY * W[sup[e, Y]] / ws[e, Y])
    mX = delta
    if xs[e, Y] > xd[e, X]:
        mY = -mY
    if xsX > x:
        mX = -mX
    mv[e, X] = mX
    mv[e, Y] = mY
    y[e, X] = xsX + mX
    y[e, Y] = xs[e, Y] + mY
    gain[e] = abs(rY * ss[e, Y] - rX * sd[e, Y])


@_njit_inline
def _max_move(e, k, act, sup, xs, xd, ws, P0, W, Num, Uval, Uhas, Uadj):
    """Largest move of side k of exchange e and the outcome shift it gives (the engine's
    ``_max_move``)."""
    a = act[e, k]
    b = act[e, 1 - k]
    d = sup[e, k]
    wa = ws[e, k]
    Wd = W[d]
    x = xs[e, k]
    target = xd[e, 1 - k]
    full = abs(target - x)
    cur = Uval[b, d, a] if Uhas[b, d, a] else P0[a, d]
    o0 = (Num[d] + Uadj[b, d] + (x - cur) * wa) / Wd
    room = (target - o0) * (1.0 if target >= x else -1.0)
    move = full
    if room > 0:
        lim = room * Wd / wa
        if lim < full:
            move = lim
    return move, move * wa / Wd


@_njit_inline
def _random_split(e, p, u, v, z, act, sup, xs, xd, ss, sd, ws, mv, y, gain, fsum, fmin,
                  fmax, P0, W, Num, Uval, Uhas, Uadj):
    """The random-rate split of exchange e (the engine's ``_random_split``, same operation
    order); returns whether the new moves are valid."""
    X = 1 if u >= 0.5 else 0
    Y = 1 - X
    MX, DX = _max_move(e, X, act, sup, xs, xd, ws, P0, W, Num, Uval, Uhas, Uadj)
    MY, DY = _max_move(e, Y, act, sup, xs, xd, ws, P0, W, Num, Uval, Uhas, Uadj)
    ssX = ss[e, X]
    ssY = ss[e, Y]
    sdX = sd[e, X]
    sdY = sd[e, Y]
    eu = gain[e]
    dx_top = DY * ssY / sdY
    if not (DX > dx_top) and dx_top == dx_top:  # np.minimum: the first unless larger / NaN
        dx_top = DX
    eu_max = dx_top * (sdX * sdY / ssY - ssX)
    if not (eu_max >= eu or eu_max != eu_max):  # np.maximum(eu_max, eu)
        eu_max = eu
    if v < 0.5:
        T = eu + p * z * (eu_max - eu)
    else:
        T = eu * (1.0 - p * z)
    dY = (T + DX * ssX) / sdX
    if dY > DY:
        dX = (DY * sdX - T) / ssX
        if not (dX >= 0.0 or dX != dX):  # np.maximum(dX, 0.0)
            dX = 0.0
        mXv = dX * W[sup[e, X]] / ws[e, X]
        mYv = MY
    else:
        mXv = MX
        mYv = dY * W[sup[e, Y]] / ws[e, Y]
    ok = True
    for k in range(2):
        m = mXv if k == X else mYv
        if xs[e, k] > xd[e, 1 - k]:
            m = -m
        mv[e, k] = m
        y[e, k] = xs[e, k] + m
    for k in range(2):
        ok = ok and _valid_move(xs[e, k], fsum[e, k], fmin[e, k], fmax[e, k], mv[e, k])
    return ok


@_njit_inline
def _calc_one(e, act, sup, xs, xd, ss, sd, ws, mv, y, gain, valid, fsum, fmin, fmax,
              P0, W, Num, Uval, Uhas, Uadj, p, uni, upos):
    """Equal-gain computation of exchange e, then (p > 0, valid) its random-rate split with
    u, v, z = ``uni[upos:upos + 3]``; returns the position of the next unread draw."""
    xs0 = xs[e, 0]
    xs1 = xs[e, 1]
    xd0 = xd[e, 0]
    xd1 = xd[e, 1]
    ss0 = ss[e, 0]
    ss1 = ss[e, 1]
    sd0 = sd[e, 0]
    sd1 = sd[e, 1]
    w0 = ws[e, 0]
    w1 = ws[e, 1]
    Wq = W[sup[e, 0]]
    Wp = W[sup[e, 1]]
    dist1 = abs(xd0 - xs1)
    dist0 = abs(xd1 - xs0)
    dp = dist1 * w1 / Wp
    dq = (ss1 + sd0) / (sd1 + ss0) * dp
    m0 = dq * Wq / w0
    m1 = dist1
    if abs(m0) > dist0:
        dq = dist0 * w0 / Wq
        dp = (ss0 + sd1) / (sd0 + ss1) * dq
        m0 = dist0
        m1 = dp * Wp / w1
    if xs0 > xd1:
        m0 = -m0
    if xs1 > xd0:
        m1 = -m1
    mv[e, 0] = m0
    mv[e, 1] = m1
    y[e, 0] = xs0 + m0
    y[e, 1] = xs1 + m1
    g = abs(dq * ss0 - dp * sd0)
    gain[e] = g
    ok = (_valid_move(xs0, fsum[e, 0], fmin[e, 0], fmax[e, 0], m0)
          and _valid_move(xs1, fsum[e, 1], fmin[e, 1], fmax[e, 1], m1) and g >= 1e-10)
    if ok:
        _overshoot(e, 0, act, sup, xs, xd, ss, sd, ws, mv, y, gain, P0, W, Num, Uval, Uhas,
                   Uadj)
        _overshoot(e, 1, act, sup, xs, xd, ss, sd, ws, mv, y, gain, P0, W, Num, Uval, Uhas,
                   Uadj)
        ok = (_valid_move(xs[e, 0], fsum[e, 0], fmin[e, 0], fmax[e, 0], mv[e, 0])
              and _valid_move(xs[e, 1], fsum[e, 1], fmin[e, 1], fmax[e, 1], mv[e, 1]))
        if ok and p > 0.0:
            ok = _random_split(e, p, uni[upos], uni[upos + 1], uni[upos + 2], act, sup, xs,
                               xd, ss, sd, ws, mv, y, gain, fsum, fmin, fmax, P0, W, Num,
                               Uval, Uhas, Uadj)
            upos += 3
    valid[e] = ok
    return upos


@_njit
def queue_loop(act, sup, xs, xd, ss, sd, ws, mv, y, gain, valid, fsum, fmin, fmax, start,
               P0, w, W, Num, Uval, Uhas, Uadj, sptr, sids, dptr, dids, m, decide_updates,
               us, out, version, alive, counters, p, uni, upos, need):
    """Realise exchanges best-first; writes (id, x0, x1) rows into ``out``. ``us`` holds the
    uniform draws for ties (one per tie, in order). The loop's state lives in the caller's
    arrays: ``version`` (zeros), ``alive`` (a copy of ``valid``) and ``counters`` (realised,
    ties, tie draws used; zeros), so that a call can resume where the last one stopped.

    Random rate (p > 0): u, v, z are read from ``uni`` at ``upos``; when fewer than ``need``
    values are left at the top of an iteration the call returns ``(False, upos)`` before
    touching anything, and the caller refills ``uni`` and calls again. Returns
    ``(True, upos)`` when no exchange is left. On entry the queue is rebuilt from the alive
    exchanges: every alive exchange has exactly one current entry ``(-gain, id, version)``
    and stale entries are skipped, so the realisation order is that of an unbroken run."""
    E = act.shape[0]
    mark = np.zeros(E, np.int64)
    stamp = 0
    heap = [(0.0, 0, 0)]
    heap.pop()
    for e in range(E):
        if alive[e]:
            heap.append((-gain[e], e, version[e]))
    heapq.heapify(heap)
    n_alive_entries = len(heap)
    count = counters[0]
    ties = counters[1]
    nu = counters[2]
    tied_g = np.empty(E, np.float64)
    tied_e = np.empty(E, np.int64)
    tied_v = np.empty(E, np.int64)
    touched = np.empty(E, np.int64)
    while len(heap) > 0:
        if p > 0.0 and uni.shape[0] - upos < need:
            counters[0] = count
            counters[1] = ties
            counters[2] = nu
            return False, upos
        # best current entry
        found = False
        g = 0.0
        r = 0
        v = 0
        while len(heap) > 0:
            g, r, v = heapq.heappop(heap)
            if alive[r] and version[r] == v:
                found = True
                break
        if not found:
            break
        k = 0
        tied_g[0] = g
        tied_e[0] = r
        tied_v[0] = v
        k = 1
        while len(heap) > 0:
            g2, r2, v2 = heapq.heappop(heap)
            if not (alive[r2] and version[r2] == v2):
                continue
            if g2 - g <= TIE_TOL * max(1.0, -g):
                tied_g[k] = g2
                tied_e[k] = r2
                tied_v[k] = v2
                k += 1
            else:
                heapq.heappush(heap, (g2, r2, v2))
                break
        if k > 1:
            ties += 1
            order = np.argsort(tied_e[:k])
            pick = int(us[nu] * k)
            nu += 1
            if pick >= k:
                pick = k - 1
            for t in range(k):
                if t != pick:
                    idx = order[t]
                    heapq.heappush(heap, (tied_g[idx], tied_e[idx], tied_v[idx]))
            r = tied_e[order[pick]]
        alive[r] = False
        out[count, 0] = r
        out[count, 1] = xs[r, 0]
        out[count, 2] = xs[r, 1]
        count += 1
        # outcome updates (Decide's ``updates``)
        for side in range(2):
            a = act[r, side]
            d = sup[r, side]
            b = act[r, 1 - side]
            yy = y[r, side]
            if Uhas[b, d, a]:
                old = Uval[b, d, a]
                new = yy
                if decide_updates:
                    st = start[r, side]
                    if st <= old:
                        new = old if old < yy else yy
                    else:
                        new = old if old > yy else yy
            else:
                old = P0[a, d]
                new = yy
            Uadj[b, d] += (new - old) * w[a, d]
            Uval[b, d, a] = new
            Uhas[b, d, a] = True
        # touched exchanges
        stamp += 1
        a0 = act[r, 0]
        a1 = act[r, 1]
        s0 = sup[r, 0]
        s1 = sup[r, 1]
        y0 = y[r, 0]
        y1 = y[r, 1]
        keys_s = (a0 * m + s0, a1 * m + s1)
        keys_d = (a1 * m + s0, a0 * m + s1)
        nt = 0
        for pass_ in range(4):
            if pass_ < 2:
                key = keys_s[pass_]
                lo_, hi_ = sptr[key], sptr[key + 1]
                src = sids
            else:
                key = keys_d[pass_ - 2]
                lo_, hi_ = dptr[key], dptr[key + 1]
                src = dids
            for t in range(lo_, hi_):
                e = src[t]
                if not alive[e] or mark[e] == stamp:
                    continue
                mark[e] = stamp
                touched[nt] = e
                nt += 1
        if p > 0.0 and nt > 1:
            # the NumPy path draws u, v, z in increasing id order (equal gain: any order)
            touched[:nt] = np.sort(touched[:nt])
        for t in range(nt):
            e = touched[t]
            for side in range(2):
                if act[e, side] == a0 and sup[e, side] == s0:
                    mvh = mv[e, side]
                    fsum[e, side] += mvh
                    fmin[e, side] = min(fmin[e, side], mvh)
                    fmax[e, side] = max(fmax[e, side], mvh)
                    xs[e, side] = y0
                elif act[e, side] == a1 and sup[e, side] == s1:
                    mvh = mv[e, side]
                    fsum[e, side] += mvh
                    fmin[e, side] = min(fmin[e, side], mvh)
                    fmax[e, side] = max(fmax[e, side], mvh)
                    xs[e, side] = y1
            g_old = gain[e]
            upos = _calc_one(e, act, sup, xs, xd, ss, sd, ws, mv, y, gain, valid, fsum,
                             fmin, fmax, P0, W, Num, Uval, Uhas, Uadj, p, uni, upos)
            if valid[e]:
                if gain[e] != g_old:  # an unchanged gain keeps its queue entry
                    version[e] += 1
                    heapq.heappush(heap, (-gain[e], e, version[e]))
                    n_alive_entries += 1
            else:
                alive[e] = False
        # drop stale entries when they dominate the queue
        if len(heap) > 4 * n_alive_entries + 1024:
            fresh = [(0.0, 0, 0)]
            fresh.pop()
            for item in heap:
                if alive[item[1]] and version[item[1]] == item[2]:
                    fresh.append(item)
            heapq.heapify(fresh)
            heap = fresh
            n_alive_entries = len(heap)
    counters[0] = count
    counters[1] = ties
    counters[2] = nu
    return True, upos


@_njit
def calc_all(act, sup, xs, xd, ss, sd, ws, mv, y, gain, valid, fsum, fmin, fmax, P0, W, Num,
             Uval, Uhas, Uadj, p, uni, upos):
    """The computation of every candidate (the round's first pass; with p > 0 ``uni`` must
    hold at least 3 E values from ``upos``). Returns the position of the next unread draw."""
    for e in range(act.shape[0]):
        upos = _calc_one(e, act, sup, xs, xd, ss, sd, ws, mv, y, gain, valid, fsum, fmin,
                         fmax, P0, W, Num, Uval, Uhas, Uadj, p, uni, upos)
    return upos


@_njit
def candidates(ok, left):
    """Candidate exchanges (i, j, p, q) in creation order (see the engine's ``_candidates``:
    issue pairs p < q, then group A x D, then B x C, each in actor order)."""
    n, m = ok.shape
    total = 0
    for p in range(m - 1):
        for q in range(p + 1, m):
            cnt = np.zeros(4, np.int64)
            for a in range(n):
                if ok[a, p] and ok[a, q]:
                    cnt[int(left[a, p]) + 2 * int(left[a, q])] += 1
            total += cnt[0] * cnt[3] + cnt[1] * cnt[2]
    ii = np.empty(total, np.int64)
    jj = np.empty(total, np.int64)
    pp = np.empty(total, np.int64)
    qq = np.empty(total, np.int64)
    g = np.empty((4, n), np.int64)
    k = 0
    for p in range(m - 1):
        for q in range(p + 1, m):
            cnt = np.zeros(4, np.int64)
            for a in range(n):
                if ok[a, p] and ok[a, q]:
                    c = int(left[a, p]) + 2 * int(left[a, q])
                    g[c, cnt[c]] = a
                    cnt[c] += 1
            for g1, g2 in ((0, 3), (1, 2)):
                for x in range(cnt[g1]):
                    for y in range(cnt[g2]):
                        ii[k] = g[g1, x]
                        jj[k] = g[g2, y]
                        pp[k] = p
                        qq[k] = q
                        k += 1
    return ii, jj, pp, qq
