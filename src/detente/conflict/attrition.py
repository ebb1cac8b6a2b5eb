"""Bargaining while fighting: Fearon's range, its month-by-month path, Powell's commitment test.

Conventions
-----------
The contested issue is the scenario's ``conflict.issue``. ``conflict.sides`` is ``(low, high)``:
the side favoured by low values and the side favoured by high values. Internally positions are
shares ``s = (x - scale_min) / W`` of the *high* side (so the high side plays Fearon's A, who
prefers larger x); results are reported both as shares and in the issue's own scale units.

At month t, side i expects the war to end at ``p_i = z_i + m_i D_t`` (its belief about the front
``z_i`` plus its believed monthly drift ``m_i`` times the expected remaining months ``D_t``) and to
pay ``k_i D_t`` (``monthly_cost`` is already a share of the scale width). Hence (models.md §5.2)::

    high side accepts x >= L_t = p_high - k_high D_t
    low side  accepts x <= U_t = p_low  + k_low  D_t
    deal possible  <=>  L_t <= U_t

How the scenario drives the path
--------------------------------
* ``conflict.front_line`` is the front at month 0; ``dynamics[i].expected_front_line`` (if
  given) is side i's own belief about it, kept as a constant bias over the front.
* The battlefield moves by the *realised* drift, the mean of the two sides' believed drifts at
  month 0 (with common beliefs: the common drift); ``drift_change`` events without an actor set it.
* ``horizon_months`` is the expected remaining war ``D``. By default it is *rolling* (a war
  expected to last another year still looks that way a month later) and changes only through
  ``horizon_change`` events; ``horizon="countdown"`` makes it shrink by one each month.
* Events (``scenario.events``) apply at the start of their month:
  ``front_shift`` adds ``value`` scale units to the front (and to every belief about it);
  ``drift_change`` sets the believed drift of ``actor`` to ``value`` scale units per month, or,
  without an actor, sets the realised drift and every belief; ``cost_change`` sets the
  ``monthly_cost`` of ``actor`` (every actor with dynamics when none is named);
  ``horizon_change`` sets the expected remaining months to ``value``.
* ``learning`` (0-1) closes that fraction of each side's belief error (drift and front) every
  month, the fighting-reveals-information mechanism of Slantchev (2003); default 0.

Actors other than the two sides get a war value the same way (own beliefs if they have a
``dynamics`` entry, else their parent's, else the realised path and zero cost);
:func:`war_values` returns them for the Nash model, ratification and the implementation
hazard.

References
----------
Fearon, J. D. (1995). Rationalist explanations for war. *International Organization* 49(3).
Powell, R. (2006). War as a commitment problem. *International Organization* 60(1).
Slantchev, B. L. (2003). The principle of convergence in wartime negotiations. *APSR* 97(4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from detente.errors import ModelError
from detente.models._war import (
    AttritionParams,
    MonthState,
    WarState,
    need_conflict,
    war_values,
)
from detente.scenario.schema import Scenario

__all__ = [
    "AttritionParams",
    "AttritionPath",
    "CommitmentResult",
    "MonthState",
    "attrition_path",
    "attrition_range",
    "commitment_test",
    "deal_commitment",
    "fearon_range",
    "war_values",
]


# ---------------------------------------------------------------------------------------
# closed forms


def fearon_range(p: float, cost_a: float, cost_b: float) -> tuple[float, float]:
    """Fearon's bargaining range ``(p - c_A, p + c_B)`` on the [0, 1] issue (A prefers larger x).

    >>> tuple(round(v, 2) for v in fearon_range(0.6, 0.10, 0.15))
    (0.5, 0.75)
    """
    if not 0 <= p <= 1:
        raise ModelError(f"fearon_range: p={p} must lie in [0, 1]")
    if cost_a < 0 or cost_b < 0:
        raise ModelError("fearon_range: war costs must be >= 0")
    return p - cost_a, p + cost_b


def attrition_range(z: float, *, drift_a: float, drift_b: float, cost_a: float, cost_b: float,
                    months: float, z_a: float | None = None,
                    z_b: float | None = None) -> tuple[float, float]:
    """The range ``(L, U)`` of §5.2 in shares of side A (A prefers larger x).

    ``z``: A's share now; ``drift_*``: believed drift per month; ``cost_*``: cost per month;
    ``months``: expected remaining war D; ``z_a``/``z_b``: the sides' own beliefs about z.

    >>> [round(v, 3) for v in attrition_range(0.70, drift_a=0.005, drift_b=0.005,
    ...                                       cost_a=0.008, cost_b=0.012, months=12)]
    [0.664, 0.904]
    """
    za = z if z_a is None else z_a
    zb = z if z_b is None else z_b
    lo = za + drift_a * months - cost_a * months
    hi = zb + drift_b * months + cost_b * months
    return lo, hi


@dataclass(frozen=True)
class CommitmentResult:
    """Powell's test for the declining side: war now vs accepting today's best offer."""

    war_value: float  # p_now / (1 - delta) - C
    peace_value: float  # 1 + delta * (p_next / (1 - delta) - C)
    prefers_war: bool

    def to_dict(self) -> dict[str, Any]:
        return {"war_value": self.war_value, "peace_value": self.peace_value,
                "prefers_war": self.prefers_war}


def commitment_test(p_now: float, p_next: float, *, delta: float,
                    war_cost: float) -> CommitmentResult:
    """§5.3: the declining side prefers war now iff
    ``p_now/(1-delta) - C > 1 + delta (p_next/(1-delta) - C)`` (per-period pie 1).

    >>> commitment_test(0.5, 0.45, delta=0.9, war_cost=1).prefers_war
    False
    >>> commitment_test(0.5, 0.30, delta=0.9, war_cost=1).prefers_war
    True
    """
    if not 0 <= delta < 1:
        raise ModelError(f"commitment_test: delta={delta} must lie in [0, 1)")
    war = p_now / (1 - delta) - war_cost
    peace = 1 + delta * (p_next / (1 - delta) - war_cost)
    return CommitmentResult(war, peace, bool(war > peace))


# ---------------------------------------------------------------------------------------
# the monthly path


@dataclass(frozen=True)
class AttritionPath:
    """The month-by-month range of a scenario's war."""

    issue: str
    sides: tuple[str, str]  # (low side, high side)
    scale: tuple[float, float]
    months: tuple[MonthState, ...]
    transitions: tuple[tuple[int, str], ...] = field(default=())  # (month, 'opens'|'closes')

    @property
    def first_open(self) -> int | None:
        for m in self.months:
            if m.open:
                return m.month
        return None

    def at(self, month: int) -> MonthState:
        return self.months[min(max(month, 0), len(self.months) - 1)]

    def to_dict(self) -> dict[str, Any]:
        return {"issue": self.issue, "sides": list(self.sides), "scale": list(self.scale),
                "first_open": self.first_open,
                "transitions": [{"month": m, "change": c} for m, c in self.transitions],
                "months": [m.to_dict() for m in self.months]}


def attrition_path(scenario: Scenario, params: AttritionParams | None = None,
                   **overrides: Any) -> AttritionPath:
    """Trace the bargaining range month by month (month 0 = now) under the scenario's events."""
    params = (params or AttritionParams()).model_copy(update=overrides) if overrides else (
        params or AttritionParams())
    st = WarState(scenario, params)
    states: list[MonthState] = []
    for t in range(params.months + 1):
        if t:
            st.advance(t)
        labels = st.apply_events(t)
        states.append(st.state(t, labels))
    transitions = []
    for prev, cur in zip(states, states[1:], strict=False):
        if cur.open != prev.open:
            transitions.append((cur.month, "opens" if cur.open else "closes"))
    c = need_conflict(scenario)
    iss = scenario.issue(c.issue)
    return AttritionPath(issue=c.issue, sides=st.sides, scale=(iss.scale_min, iss.scale_max),
                         months=tuple(states), transitions=tuple(transitions))


def deal_commitment(scenario: Scenario, terms: dict[str, float], *, month: int = 0,
                    params: AttritionParams | None = None) -> dict[str, Any] | None:
    """Powell's test for a deal whose terms shift future power.

    Reads ``scenario.meta["power_shift"]`` = ``{issue_id: delta_p}``: moving that issue from
    ``scale_min`` to ``scale_max`` changes the *high* side's future war share by ``delta_p``
    (linear in between, measured from the issue's status quo, or its midpoint without one).
    ``scenario.meta["commitment"]`` may set ``discount`` (default 0.9) and ``war_cost``
    (lump-sum cost per side in per-period-pie units; default ``k_i * D``).
    Returns None when the scenario declares no power shifts.
    """
    shifts = scenario.meta.get("power_shift") if isinstance(scenario.meta, dict) else None
    if not shifts:
        return None
    c = need_conflict(scenario)
    opts = scenario.meta.get("commitment", {}) or {}
    delta = float(opts.get("discount", 0.9))
    costs = opts.get("war_cost", {}) or {}
    st = WarState(scenario, params or AttritionParams())
    for t in range(month + 1):
        if t:
            st.advance(t)
        st.apply_events(t)
    dp = 0.0
    for iss_id, shift in shifts.items():
        if iss_id not in terms:
            continue
        iss = scenario.issue(iss_id)
        ref = iss.status_quo if iss.status_quo is not None else (iss.scale_min + iss.scale_max) / 2
        dp += float(shift) * (terms[iss_id] - ref) / iss.width
    low_s, high_s = c.sides
    out: dict[str, Any] = {"delta_p_high": dp, "discount": delta, "sides": {}}
    for side, sign in ((high_s, 1.0), (low_s, -1.0)):
        p_now = st.expected(side)
        p_now = p_now if sign > 0 else 1 - p_now
        p_now = min(max(p_now, 0.0), 1.0)
        p_next = min(max(p_now + sign * dp, 0.0), 1.0)
        cost = float(costs.get(side, st.belief(side).cost * st.remaining))
        res = commitment_test(p_now, p_next, delta=delta, war_cost=cost)
        out["sides"][side] = {"p_now": p_now, "p_next": p_next, "war_cost": cost,
                              **res.to_dict()}
    out["prefers_war"] = [s for s, v in out["sides"].items() if v["prefers_war"]]
    return out

