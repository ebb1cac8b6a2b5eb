"""The month-by-month state of a war (shared by ``models.nash`` and ``detente.conflict``).

Private: the public API is :mod:`detente.conflict.attrition`, which documents the semantics.
It lives in the models layer because the Nash model's war disagreement point needs it and
imports flow scenario -> models -> conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from detente.errors import ModelError
from detente.scenario.schema import Scenario

__all__ = ["AttritionParams", "MonthState", "WarState", "need_conflict", "war_outcome",
           "war_values"]


class AttritionParams(BaseModel):
    """Settings of the monthly path (everything else comes from the scenario)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    months: int = Field(default=24, ge=0, le=600, description="months to trace after month 0")
    learning: float = Field(default=0.0, ge=0, le=1,
                            description="share of belief error closed each month")
    horizon: Literal["rolling", "countdown"] = "rolling"
    ceasefire: int | None = Field(default=None, ge=0,
                                  description="month from which the front stops moving "
                                              "(a signed deal); events still apply")


@dataclass(frozen=True)
class MonthState:
    """The bargaining range at one month. Shares are the high side's; ``*_x`` are scale units."""

    month: int
    front: float  # scale units
    remaining: float  # D_t, months
    low: float  # L_t (share): the high side accepts x >= low
    high: float  # U_t (share): the low side accepts x <= high
    low_x: float
    high_x: float
    expected: dict[str, float]  # each side's expected end state, scale units
    costs: dict[str, float]  # each side's monthly cost k_i
    events: tuple[str, ...] = ()

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def open(self) -> bool:
        return self.high >= self.low

    def clipped(self, lo: float, hi: float) -> tuple[float, float] | None:
        """The range in scale units cut to the scale, or None when closed/outside."""
        a, b = max(self.low_x, lo), min(self.high_x, hi)
        return (a, b) if a <= b else None

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "front": self.front, "remaining": self.remaining,
                "low": self.low, "high": self.high, "low_x": self.low_x, "high_x": self.high_x,
                "width": self.width, "open": self.open, "expected": dict(self.expected),
                "costs": dict(self.costs), "events": list(self.events)}


@dataclass
class _Belief:
    front_bias: float  # share
    drift: float  # share / month
    cost: float  # share / month


def need_conflict(scenario: Scenario) -> Any:
    c = scenario.conflict
    if c is None:
        raise ModelError(f"scenario {scenario.id!r} has no 'conflict' block; the attrition path "
                         f"needs conflict.issue, conflict.sides and conflict.front_line "
                         f"(and 'dynamics' for each side's costs and beliefs)")
    return c


class WarState:
    """Mutable month-by-month state (private; results are frozen MonthStates)."""

    def __init__(self, scenario: Scenario, params: AttritionParams) -> None:
        c = need_conflict(scenario)
        iss = scenario.issue(c.issue)
        self.lo, self.w = iss.scale_min, iss.width
        self.sides = (c.sides[0], c.sides[1])
        self.front = (c.front_line - self.lo) / self.w
        self.remaining = float(c.horizon_months)
        self.params = params
        dyn = {d.actor: d for d in scenario.dynamics}
        self.beliefs: dict[str, _Belief] = {}
        for a, d in dyn.items():
            bias = 0.0
            if d.expected_front_line is not None:
                bias = (d.expected_front_line - c.front_line) / self.w
            self.beliefs[a] = _Belief(bias, d.drift / self.w, d.monthly_cost)
        side_drifts = [self.beliefs[s].drift for s in self.sides if s in self.beliefs]
        self.realised = sum(side_drifts) / len(side_drifts) if side_drifts else 0.0
        for s in self.sides:
            self.beliefs.setdefault(s, _Belief(0.0, self.realised, 0.0))
        self.parent = {a.id: a.parent for a in scenario.actors}
        self.events: dict[int, list[Any]] = {}
        for e in scenario.events:
            self.events.setdefault(e.month, []).append(e)

    def belief(self, actor: str) -> _Belief:
        # factions without their own dynamics share their parent's beliefs and costs
        seen = set()
        a: str | None = actor
        while a is not None and a not in seen:
            if a in self.beliefs:
                return self.beliefs[a]
            seen.add(a)
            a = self.parent.get(a)
        return _Belief(0.0, self.realised, 0.0)

    def apply_events(self, month: int) -> tuple[str, ...]:
        labels = []
        for e in self.events.get(month, []):
            who = f" ({e.actor})" if e.actor else ""
            labels.append(e.label or f"{e.kind}{who} {e.value:g}")
            if e.kind == "front_shift":
                self.front += e.value / self.w
            elif e.kind == "drift_change":
                if e.actor is None:
                    self.realised = e.value / self.w
                    for b in self.beliefs.values():
                        b.drift = e.value / self.w
                else:
                    self.beliefs.setdefault(e.actor, _Belief(0.0, self.realised, 0.0))
                    self.beliefs[e.actor].drift = e.value / self.w
            elif e.kind == "cost_change":
                targets = [e.actor] if e.actor is not None else list(self.beliefs)
                for a in targets:
                    self.beliefs.setdefault(a, _Belief(0.0, self.realised, 0.0))
                    self.beliefs[a].cost = e.value
            elif e.kind == "horizon_change":
                self.remaining = max(float(e.value), 0.0)
        return tuple(labels)

    def expected(self, actor: str) -> float:
        """Actor's expected end state (share of the high side)."""
        b = self.belief(actor)
        return self.front + b.front_bias + b.drift * self.remaining

    def state(self, month: int, labels: tuple[str, ...]) -> MonthState:
        low_s, high_s = self.sides
        bl, bh = self.belief(low_s), self.belief(high_s)
        low = self.expected(high_s) - bh.cost * self.remaining
        high = self.expected(low_s) + bl.cost * self.remaining
        return MonthState(
            month=month,
            front=self.lo + self.front * self.w,
            remaining=self.remaining,
            low=low,
            high=high,
            low_x=self.lo + low * self.w,
            high_x=self.lo + high * self.w,
            expected={a: self.lo + self.expected(a) * self.w for a in self.sides},
            costs={a: self.belief(a).cost for a in self.sides},
            events=labels,
        )

    def advance(self, month: int) -> None:
        cf = self.params.ceasefire
        if cf is None or month <= cf:
            self.front = min(max(self.front + self.realised, 0.0), 1.0)
        lam = self.params.learning
        if lam:
            for b in self.beliefs.values():
                b.front_bias *= 1 - lam
                b.drift += lam * (self.realised - b.drift)
        if self.params.horizon == "countdown":
            self.remaining = max(self.remaining - 1.0, 0.0)


def war_values(scenario: Scenario, month: int = 0,
               params: AttritionParams | None = None) -> dict[str, tuple[float, float]]:
    """Every actor's view of continued war at ``month``: ``{actor: (expected end state in scale
    units, total expected cost k_i D_t as a share of the scale width)}``.

    Actors without a ``dynamics`` entry expect the realised path and pay nothing.
    """
    params = params or AttritionParams()
    st = WarState(scenario, params)
    for t in range(month + 1):
        if t:
            st.advance(t)
        st.apply_events(t)
    out = {}
    for a in scenario.actor_ids:
        e = min(max(st.expected(a), 0.0), 1.0)
        out[a] = (st.lo + e * st.w, st.belief(a).cost * st.remaining)
    return out


def war_outcome(scenario: Scenario, month: int = 0,
                params: AttritionParams | None = None) -> float:
    """Where the front is expected to end (realised path, scale units) if nobody deals."""
    params = params or AttritionParams()
    st = WarState(scenario, params)
    for t in range(month + 1):
        if t:
            st.advance(t)
        st.apply_events(t)
    e = min(max(st.front + st.realised * st.remaining, 0.0), 1.0)
    return st.lo + e * st.w
