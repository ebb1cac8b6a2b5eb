"""Exact emulation of the Decide exchange model for the ``decide`` preset.

The default engine (``_exchange_engine.py``) works on float arrays and a priority queue. This
module instead follows Decide's own bookkeeping, object by object and in 28-digit
``decimal.Decimal`` arithmetic with the same operation order, so that the ``decide`` preset
reproduces Decide's runs exactly (models.md §4.2), including:

* the order of exchanges whose gains differ only by Decimal rounding noise (Decide sorts its
  list on those gains, so the noise decides the realisation order);
* its tie rule (a coin between the two best of a stably sorted list) and the duplicate entry
  the rule leaves in the list;
* per-exchange state: every exchange keeps its own copy of the supply positions, its move
  history and its own record of the partners' voting positions (``updates``). When the list
  holds a duplicate of the exchange just realised, the duplicate is recomputed against itself
  while the list is walked: exchanges listed *after* it see its new voting positions, those
  before it the old ones, and the realised exchange's voting positions change too;
* the random-rate split of Decide's equal-gain model with ``p > 0`` (draws u, v, z per
  computation, see :func:`_randomized_gain`), with its defects.

Speed is not a goal here (Decide itself takes minutes on 60 x 20). Decide's behaviour was read
from the public package and re-derived; no code is taken from it.

Assumptions about the input: numbers are taken as the shortest decimal that reproduces the
float (at most 15 significant digits, which recovers the values written in a Decide file),
sums over the actors of an issue run in the order of the scenario's stances (Decide sums in
the file order of the ``#D`` rows, which the importer keeps; ``cop21.csv`` lists ALBA before
AOSIS there but not in its ``#A`` rows, and the order changes the last Decimal digit, which
can decide a tie). ``forecast_arrays`` has no stances and sums in actor order.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from detente.models._exchange_engine import RoundResult

# Decide runs in the default context (28 digits, half-even); use our own copy of it so that
# nothing else in the process can change the precision under us.
_CTX = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN,
                       traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                              decimal.Overflow])
_ZERO = Decimal(0)
_E10 = Decimal(1e-10)  # Decide compares Decimals with the float 1e-10 (exactly)
_E20 = Decimal(1e-20)
_HALF = 0.5

Draw = Callable[[str, Any], float]


def to_dec(v: float) -> Decimal:
    """The decimal a Decide file most likely held for the float ``v``."""
    return Decimal(format(float(v), ".15g"))


class _Side:
    """One actor of an exchange (Decide's exchange actor)."""

    __slots__ = ("a", "sup", "dem", "x", "s", "c", "xd", "sd", "start", "y", "move", "moves",
                 "eu", "eu_max", "nbs_0", "nbs_1", "ex", "opp")

    def __init__(self, ex: _Exchange, a: int, sup: int, dem: int, st: _State) -> None:
        self.ex = ex
        self.a, self.sup, self.dem = a, sup, dem
        self.x = st.pos[sup][a]  # supply position (the exchange's own copy)
        self.s = st.sal[sup][a]
        self.c = st.cap[sup][a]
        self.xd = st.pos[dem][a]  # own position on the demand issue (fixed in a round)
        self.sd = st.sal[dem][a]
        self.start = self.x
        self.y: Decimal = self.x
        self.move = _ZERO
        self.moves: list[Decimal] = []
        self.eu = _ZERO
        self.eu_max: Decimal | None = None
        self.nbs_0 = _ZERO
        self.nbs_1 = _ZERO
        self.opp: _Side = self


class _Exchange:
    __slots__ = ("i", "j", "gain", "valid", "updates", "uid")

    def __init__(self, st: _State, a: int, b: int, p: int, q: int, uid: int) -> None:
        S = st.sal
        # the actor with the lower s_p / s_q supplies p
        with decimal.localcontext(_CTX):
            lower = (S[p][a] / S[q][a]) < (S[p][b] / S[q][b])
        ia, ja = (b, a) if lower else (a, b)
        self.i = _Side(self, ia, q, p, st)  # supplies q, demands p
        self.j = _Side(self, ja, p, q, st)  # supplies p, demands q
        self.i.opp, self.j.opp = self.j, self.i
        self.gain = _ZERO
        self.valid = True
        self.updates: dict[int, dict[int, Decimal]] = {}
        self.uid = uid


class _State:
    """Positions (Decimal, normalised 0-100) per issue and actor, and the round's outcome."""

    def __init__(self, pos: list[dict[int, Decimal]], sal: list[dict[int, Decimal]],
                 cap: list[dict[int, Decimal]], p: Decimal | None, draw: Draw,
                 update_rule: str) -> None:
        self.pos, self.sal, self.cap = pos, sal, cap
        self.m = len(pos)
        self.p = p
        self.draw = draw
        self.decide_updates = update_rule == "decide"
        self.den: list[Decimal] = [_ZERO] * self.m
        self.nbs: list[Decimal] = [_ZERO] * self.m

    # -- outcomes -------------------------------------------------------------------------
    def calc_nbs(self) -> None:
        for d in range(self.m):
            den: Decimal | int = 0
            num: Decimal | int = 0
            for a in self.pos[d]:
                den += self.sal[d][a] * self.cap[d][a]
            for a, x in self.pos[d].items():
                num += x * self.sal[d][a] * self.cap[d][a]
            self.den[d] = Decimal(den)
            self.nbs[d] = _ZERO if den == 0 else Decimal(num) / den

    def _num(self, d: int, upd: dict[int, Decimal], actor: int, x: Decimal) -> Decimal:
        num: Decimal | int = 0
        for a, xa in self.pos[d].items():
            v = x if a == actor else upd.get(a, xa)
            num += v * self.sal[d][a] * self.cap[d][a]
        return Decimal(num)

    def adjust_nbs(self, side: _Side, x: Decimal) -> Decimal:
        """The outcome on ``side``'s supply issue with its partners' recorded voting positions
        and ``side`` at ``x``."""
        d = side.sup
        den = self.den[d]
        if den == 0:
            return _ZERO
        return self._num(d, side.ex.updates.get(d, {}), side.a, x) / den

    def position_for(self, side: _Side, target: Decimal) -> Decimal:
        """Decide's ``adjusted_nbs_by_position``: the move of ``side`` (from its supply
        position, or from its recorded voting position if it has one) that puts the outcome
        on ``target``."""
        d = side.sup
        upd = side.ex.updates.get(d, {})
        num: Decimal | int = 0
        for a, xa in self.pos[d].items():
            if a in upd:
                v = upd[a]
            elif a == side.a:
                v = side.x
            else:
                v = xa
            num += v * self.sal[d][a] * self.cap[d][a]
        left = target * self.den[d] - num
        return left / (side.s * side.c)

    # -- one exchange ---------------------------------------------------------------------
    @staticmethod
    def move_ok(side: _Side, move: Decimal) -> bool:
        if abs(move) > 100 or abs(move) <= _E10:
            return False
        if side.x + move < 0 or side.x + move > 100:
            return False
        if sum(side.moves) > 100:
            return False
        lo, hi = min(side.moves), max(side.moves)
        return (lo < 0 and hi < 0) or (lo > 0 and hi > 0)

    def ratio(self, side: _Side, dist: Decimal) -> Decimal:
        """Outcome shift on side's supply issue when it moves ``dist``."""
        return (dist * side.s * side.c) / self.den[side.sup]

    def reverse(self, side: _Side, shift: Decimal) -> Decimal:
        """Move of ``side`` that shifts the outcome on its supply issue by ``shift``."""
        return (shift * self.den[side.sup]) / (side.c * side.s)

    @staticmethod
    def by_rate(side: _Side, shift: Decimal) -> Decimal:
        """The partner's shift that gives both the same gain (equal-gain exchange rate)."""
        o = side.opp
        return ((side.s + o.sd) / (side.sd + o.s)) * shift

    @staticmethod
    def utility(side: _Side, own_shift: Decimal, other_shift: Decimal) -> Decimal:
        return abs(own_shift * side.s - other_shift * side.sd)

    def check_nbs(self, X: _Side) -> None:
        """If X's move carries the outcome past the partner's own position, shrink both moves
        so that the outcome lands on it (Decide's ``check_nbs``)."""
        ex, Y = X.ex, X.opp
        X.nbs_0 = self.adjust_nbs(X, X.x)
        X.nbs_1 = self.adjust_nbs(X, X.y)
        x = Y.xd
        if (x - X.nbs_0 >= 0 and x - X.nbs_1 >= 0) or (x - X.nbs_0 <= 0 and x - X.nbs_1 <= 0):
            return
        delta = abs(self.position_for(X, x))
        dX = self.ratio(X, delta)
        dY = self.by_rate(X, dX)
        Y.move = abs(self.reverse(Y, dY))
        X.move = delta
        if Y.x > X.xd:
            Y.move *= -1
        if X.x > Y.xd:
            X.move *= -1
        Y.moves.pop()
        X.moves.pop()
        Y.moves.append(Y.move)
        X.moves.append(X.move)
        Y.y = Y.x + Y.move
        X.y = X.x + X.move
        ex.gain = abs(self.utility(Y, dY, dX))
        b1 = self.move_ok(Y, Y.move)
        b2 = self.move_ok(X, X.move)
        X.nbs_1 = self.adjust_nbs(X, X.y)
        ex.valid = b1 and b2

    def calculate(self, ex: _Exchange) -> None:
        """Equal-gain exchange (Decide's ``EqualGainExchange.calculate``)."""
        i, j = ex.i, ex.j
        dp = self.ratio(j, abs(i.xd - j.x))
        dq = self.by_rate(j, dp)
        i.move = self.reverse(i, dq)
        j.move = abs(i.xd - j.x)
        if abs(i.move) > abs(j.xd - i.x):
            dq = self.ratio(i, abs(j.xd - i.x))
            dp = self.by_rate(i, dq)
            i.move = abs(j.xd - i.x)
            j.move = self.reverse(j, dp)
        if i.x > j.xd:
            i.move *= -1
        if j.x > i.xd:
            j.move *= -1
        i.moves.append(i.move)
        j.moves.append(j.move)
        i.y = i.x + i.move
        j.y = j.x + j.move
        ex.gain = self.utility(i, dq, dp)  # equal to j's (Decide checks it to 1e-20)
        i.eu = j.eu = ex.gain
        ex.valid = self.move_ok(i, i.move) and self.move_ok(j, j.move)
        if ex.gain < _E10:
            ex.valid = False
        if not ex.valid:
            return
        self.check_nbs(i)
        self.check_nbs(j)
        ex.valid = self.move_ok(i, i.move) and self.move_ok(j, j.move)
        if self.p is not None and self.p > 0:
            u = self.draw("uniform", None)
            v = self.draw("uniform", None)
            z = Decimal(self.draw("uniform", None))
            self._max_utility(ex)
            _randomized_gain(self, i if u < _HALF else j, v, z)

    # -- random-rate split (Decide's EqualGainModel with randomized_value p) ----------------
    def _max_utility(self, ex: _Exchange) -> None:
        """Each side's largest gain on the exchange's frontier (Decide's
        ``calculate_maximum_utility``, defects included: its "already at the partner's
        position" test compares positions on two different issues, and one comparison picks
        the binding issue for both sides)."""
        i, j = ex.i, ex.j
        i_opt = i.xd == i.y
        j_opt = j.xd == j.y
        di = abs(i.nbs_0 - self.adjust_nbs(i, i.y if i_opt else j.xd))
        dj = abs(j.nbs_0 - self.adjust_nbs(j, j.y if j_opt else i.xd))
        loss_1 = dj * j.s
        gain_2 = dj * i.sd
        loss_2 = di * i.s
        gain_1 = di * j.sd
        u_i = gain_1 - loss_1
        u_j = gain_2 - loss_2
        over = None
        if i_opt and u_i > 0:
            over = gain_2 - (loss_1 / j.sd) * i.s
        if j_opt and u_j > 0:
            over = gain_1 - (loss_2 / i.sd) * j.s
        if gain_2 > gain_1:
            actor, gain, loss = j, gain_1, loss_2
        else:
            actor, gain, loss = i, gain_2, loss_1
        s = actor.s / (actor.s + actor.opp.sd)
        d_u1 = loss / (s * actor.opp.sd)
        d_u2 = gain / (s * actor.s)
        if over:
            actor.opp.eu_max = over
        else:
            actor.opp.eu_max = s * actor.opp.sd * d_u2 - loss
        actor.eu_max = gain - (s * actor.s * d_u1)


def _randomized_gain(st: _State, X: _Side, v: float, z: Decimal) -> None:
    """Decide's random split of an exchange's joint gain: side X (chosen by u) wins
    (``v < 0.5``: gain ``eu + p z (eu_max - eu)``) or loses (gain ``eu (1 - p z)``); X then
    moves all the way to its partner's position and the partner's move follows from X's gain,
    unless that move is too long, in which case the partner moves all the way and X's move
    follows. Decide's defects are kept: the overshoot test of the capped branch compares the
    outcome with itself (never fires), and the overshoot correction of the other branch keeps
    X's full move with its sign flipped twice."""
    ex, Y = X.ex, X.opp
    p = st.p
    assert p is not None
    eu = ex.gain
    if v < _HALF:
        assert X.eu_max is not None
        eui = eu + p * z * (X.eu_max - eu)
    else:
        eui = eu - p * z * eu
    move_i = abs(X.x - Y.xd)
    rq = st.ratio(X, move_i)
    rp = (eui + rq * X.s) / X.sd
    move_j = st.reverse(Y, rp)
    euj = abs(st.utility(Y, rp, rq))
    dist_j = abs(Y.x - X.xd)
    if abs(move_j) > dist_j:
        rp = st.ratio(Y, dist_j)
        rq = abs((eui - rp * X.sd) / X.s)
        move_j = dist_j
        move_i = st.reverse(X, rq)
        if abs(move_i) < abs(X.x - Y.xd):
            euj = abs(st.utility(Y, rp, rq))
    else:
        move_i_a = -move_i if X.x > Y.xd else move_i
        nbs_adj = st.adjust_nbs(X, X.x + move_i_a)
        x = Y.xd
        if not ((x >= X.nbs_0 and x >= nbs_adj) or (x <= X.nbs_0 and x <= nbs_adj)):
            delta = abs(st.position_for(X, x))
            rq = st.ratio(X, delta)
            rp = (eui + rq * X.s) / X.sd
            move_j = st.reverse(Y, rp)
            euj = abs(st.utility(Y, rp, rq))
            move_i = move_i_a
    X.eu = eui
    Y.eu = euj
    X.move = move_i
    Y.move = move_j
    if X.x > Y.xd:
        X.move *= -1
    if Y.x > X.xd:
        Y.move *= -1
    X.moves.pop()
    X.moves.append(X.move)
    Y.moves.pop()
    Y.moves.append(Y.move)
    X.y = X.x + X.move
    Y.y = Y.x + Y.move
    ex.valid = st.move_ok(X, X.move) and st.move_ok(Y, Y.move)
    X.nbs_0 = st.adjust_nbs(X, X.x)
    X.nbs_1 = st.adjust_nbs(X, X.y)
    Y.nbs_0 = st.adjust_nbs(Y, Y.x)
    Y.nbs_1 = st.adjust_nbs(Y, Y.y)


def _recalculate(st: _State, e: _Exchange, r: _Exchange) -> None:
    """Update exchange ``e`` after ``r`` was realised (Decide's ``recalculate``)."""
    hit = False
    hit_i = hit_j = False
    for mine in (e.i, e.j):
        for theirs in (r.i, r.j):
            if mine.a == theirs.a and mine.sup == theirs.sup:
                mine.x = theirs.y
                mine.moves.append(theirs.moves[-1])
                if mine is e.i:
                    hit_i = True
                else:
                    hit_j = True
                break
    if hit_i or hit_j:
        e.i.moves.pop()
        e.j.moves.pop()
        hit = True
    # the demanders of r's supply issues record the partner's new voting position
    for dem, sup in ((r.j, r.i), (r.i, r.j)):
        if (dem.a == e.j.a and dem.dem == e.j.dem) or (dem.a == e.i.a and dem.dem == e.i.dem):
            rec = e.updates.setdefault(dem.dem, {})
            if sup.a in rec and st.decide_updates:
                old = rec[sup.a]
                if sup.start <= old:
                    rec[sup.a] = old if old < sup.y else sup.y
                else:
                    rec[sup.a] = old if old > sup.y else sup.y
            else:
                rec[sup.a] = sup.y
            if not hit:
                e.i.moves.pop()
                e.j.moves.pop()
                hit = True
    if hit:
        st.calculate(e)


def _round(st: _State, n_actors: int, order: list[int]) -> tuple[list[_Exchange], int, int]:
    """One round of Decide's loop on the state's positions; returns the realised exchanges
    (objects, read at the end of the round as Decide does), the tie count, the candidates."""
    st.calc_nbs()
    m = st.m
    left = [{a: x <= st.nbs[d] for a, x in st.pos[d].items()} for d in range(m)]
    L: list[_Exchange] = []
    uid = 0
    for p in range(m - 1):
        for q in range(p + 1, m):
            groups: list[list[int]] = [[], [], [], []]
            for a in order:
                if a in left[p] and a in left[q]:
                    if st.sal[p][a] == 0 or st.sal[q][a] == 0 or st.cap[p][a] == 0 \
                            or st.cap[q][a] == 0:
                        continue  # Decide divides by these and crashes; detente skips
                    groups[int(left[p][a]) | int(left[q][a]) * 2].append(a)
            for g1, g2 in ((groups[0], groups[3]), (groups[1], groups[2])):
                for a in g1:
                    for b in g2:
                        ex = _Exchange(st, a, b, p, q, uid)
                        uid += 1
                        with decimal.localcontext(_CTX):
                            st.calculate(ex)
                        L.append(ex)
    n_cand = len(L)
    realized: list[_Exchange] = []
    ties = 0
    with decimal.localcontext(_CTX):
        while L:
            L.sort(key=lambda e: e.gain, reverse=True)
            r = L.pop(0)
            if L:
                nx = L[0]
                if abs(r.gain - nx.gain) < _E20:
                    ties += 1
                    key = ((r.i.a, r.i.sup, r.j.a, r.j.sup), (nx.i.a, nx.i.sup, nx.j.a, nx.j.sup))
                    if st.draw("coin", key) >= _HALF:
                        L.append(r)
                        r = L.pop(0)
                    else:
                        L.append(nx)
            if not r.valid:
                continue
            kept = []
            for e in L:
                if e.valid:
                    _recalculate(st, e, r)
                    if e.valid:
                        kept.append(e)
            L = kept
            realized.append(r)
    return realized, ties, n_cand


def run_decide_rounds(pos: np.ndarray, sal: np.ndarray, cap: np.ndarray, present: np.ndarray,
                      scale_min: np.ndarray, scale_max: np.ndarray, *, p: float | None,
                      sum_order: list[list[int]] | None = None, draw: Draw,
                      salience_weight: float, fixed_weight: float,
                      update_rule: str) -> Callable[[np.ndarray, int], RoundResult]:
    """A ``step(x, t)`` function for ``iterate`` that runs Decide's rounds on a Decimal state
    built from the raw scenario values (``pos`` on the issues' own scales). ``x`` is not
    read: the state carries the exact Decimal start positions from round to round."""
    n, m = pos.shape
    if sum_order is None:
        sum_order = [list(range(n)) for _ in range(m)]
    P: list[dict[int, Decimal]] = []
    S: list[dict[int, Decimal]] = []
    C: list[dict[int, Decimal]] = []
    with decimal.localcontext(_CTX):
        for d in range(m):
            lo, hi = to_dec(scale_min[d]), to_dec(scale_max[d])
            delta = hi - lo
            step_size = Decimal(100) / delta if delta != 0 else _ZERO
            ids = [a for a in sum_order[d] if present[a, d]]
            ids += [a for a in range(n) if present[a, d] and a not in ids]
            P.append({a: (to_dec(pos[a, d]) - lo) * step_size for a in ids})
            S.append({a: to_dec(sal[a, d]) for a in ids})
            C.append({a: to_dec(cap[a, d]) for a in ids})
    pd = None if p is None or p == 0 else Decimal(str(p))
    st = _State(P, S, C, pd, draw, update_rule)
    sw, fw = Decimal(salience_weight), Decimal(fixed_weight)
    order = list(range(n))

    def to_float() -> np.ndarray:
        out = np.zeros((n, m))
        for d in range(m):
            for a, x in st.pos[d].items():
                out[a, d] = float(x)
        return out

    def step(_x: np.ndarray, _t: int) -> RoundResult:
        with decimal.localcontext(_CTX):
            realized, ties, n_cand = _round(st, n, order)
        expected = np.array([float(v) for v in st.nbs])
        recs = []
        for r in realized:
            recs.append({
                "i": r.i.a, "i_supply": r.i.sup, "i_x": float(r.i.x), "i_y": float(r.i.y),
                "j": r.j.a, "j_supply": r.j.sup, "j_x": float(r.j.x), "j_y": float(r.j.y),
                "gain": float(r.gain),
            })
        with decimal.localcontext(_CTX):
            for r in realized:
                st.pos[r.i.sup][r.i.a] = r.i.y
                st.pos[r.j.sup][r.j.a] = r.j.y
            voting = to_float()
            st.calc_nbs()
            outcome = np.array([float(v) for v in st.nbs])
            for r in realized:
                for sd in (r.i, r.j):
                    one = 1 - sd.s
                    st.pos[sd.sup][sd.a] = (one * sw * sd.y + fw * sd.y
                                            + (1 - one * sw - fw) * sd.start)
        return RoundResult(expected=expected, outcome=outcome, voting=voting,
                           next_start=to_float(), realized=recs, ties=ties,
                           n_candidates=n_cand)

    return step
