"""Will a signed deal hold? Monthly breakdown hazard and survival curve (models.md §5.4).

After a deal x is signed at month t0, each month t it breaks down with probability::

    h_t = 1 - exp( -h0 * exp(beta * tau_t) * (1 - g * G) )
    tau_t = max_i max(0, W_i(t) - U_i(x))

``tau_t`` is the temptation to resume fighting: the best war value of a conflict side at month t
(§5.2's ``p_i - k_i D`` on the contested issue, in the side's own 0-1 share, read from
:func:`detente.conflict.attrition.attrition_path` with the front frozen from the signing month
-- a ceasefire -- while beliefs and events such as rearmament or an aid surge still move it)
minus what the deal gives that side on that issue. Terms that shift future
power (``scenario.meta["power_shift"]``, see :func:`~detente.conflict.attrition.deal_commitment`)
add to the war value of the side they favour. ``G`` in [0, 1] is the strength of guarantees and
monitoring (a proposal's ``guarantee``); ``g`` the hazard reduction of a full guarantee.
Survival to T is the product of ``1 - h_t``.

Left out: spoiler factions' own hazards and audience costs of reneging (both would multiply
``h_t``); calibrate h0, beta and g on ceasefire-duration data before trusting levels.

References
----------
Walter, B. F. (1997). The critical barrier to civil war settlement. *IO* 51(3).
Fortna, V. P. (2003). Scraps of paper? Agreements and the durability of peace. *IO* 57(2).
Stedman, S. J. (1997). Spoiler problems in peace processes. *International Security* 22(2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detente.conflict.attrition import AttritionParams, attrition_path
from detente.errors import ModelError
from detente.scenario.schema import Scenario

__all__ = ["ImplementationParams", "SurvivalCurve", "hazard", "survival", "deal_survival"]


class ImplementationParams(BaseModel):
    """Hazard-model constants (§5.4 defaults; calibrate on Fortna's ceasefire data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    h0: float = Field(default=0.01, ge=0, le=1, description="base monthly hazard")
    beta: float = Field(default=15.0, ge=0, description="hazard growth per unit temptation")
    g: float = Field(default=0.6, ge=0, le=1, description="hazard cut by a full guarantee")
    months: int = Field(default=24, ge=1, le=600, description="survival horizon")


def hazard(temptation: float | np.ndarray, guarantee: float = 0.0,
           params: ImplementationParams | None = None) -> np.ndarray:
    """Monthly breakdown probability for a given temptation and guarantee strength."""
    p = params or ImplementationParams()
    if not 0 <= guarantee <= 1:
        raise ModelError(f"guarantee={guarantee} must lie in [0, 1]")
    tau = np.maximum(np.asarray(temptation, dtype=float), 0.0)
    return 1.0 - np.exp(-p.h0 * np.exp(p.beta * tau) * (1.0 - p.g * guarantee))


def survival(temptations: np.ndarray | list[float], guarantee: float = 0.0,
             params: ImplementationParams | None = None) -> np.ndarray:
    """Survival curve ``S_t = prod_{s<=t} (1 - h_s)`` for a path of temptations.

    >>> round(float(survival([0.0] * 24)[-1]), 2), round(float(survival([0.1] * 24)[-1]), 2)
    (0.79, 0.34)
    """
    return np.cumprod(1.0 - hazard(np.asarray(temptations, dtype=float), guarantee, params))


@dataclass(frozen=True)
class SurvivalCurve:
    months: tuple[int, ...]  # months after signing, 1..T
    temptation: tuple[float, ...]
    tempted: tuple[str | None, ...]  # the side with the highest temptation each month
    hazard: tuple[float, ...]
    survival: tuple[float, ...]
    guarantee: float

    @property
    def final(self) -> float:
        return self.survival[-1] if self.survival else 1.0

    def at(self, months_after: int) -> float:
        if months_after <= 0:
            return 1.0
        return self.survival[min(months_after, len(self.survival)) - 1]

    def to_dict(self) -> dict[str, Any]:
        return {"guarantee": self.guarantee, "final": self.final,
                "months": list(self.months), "temptation": list(self.temptation),
                "tempted": list(self.tempted), "hazard": list(self.hazard),
                "survival": list(self.survival)}


def deal_survival(scenario: Scenario, terms: Mapping[str, float], *, guarantee: float = 0.0,
                  signed: int = 0, params: ImplementationParams | None = None,
                  attrition: AttritionParams | None = None) -> SurvivalCurve:
    """Survival of ``terms`` signed at month ``signed`` (needs ``conflict``; without it the
    temptation is zero and only the base hazard applies)."""
    p = params or ImplementationParams()
    T = p.months
    if scenario.conflict is None:
        tau = np.zeros(T)
        tempted: list[str | None] = [None] * T
    else:
        c = scenario.conflict
        iss = scenario.issue(c.issue)
        if c.issue not in terms:
            raise ModelError(f"the deal says nothing about the contested issue {c.issue!r}")
        x = (float(terms[c.issue]) - iss.scale_min) / iss.width
        dp = 0.0
        shifts = scenario.meta.get("power_shift") if isinstance(scenario.meta, dict) else None
        for iss_id, sh in (shifts or {}).items():
            if iss_id in terms:
                other = scenario.issue(iss_id)
                ref = (other.status_quo if other.status_quo is not None
                       else (other.scale_min + other.scale_max) / 2)
                dp += float(sh) * (float(terms[iss_id]) - ref) / other.width
        ap = (attrition or AttritionParams()).model_copy(update={"months": signed + T,
                                                              "ceasefire": signed})
        path = attrition_path(scenario, ap)
        low_s, high_s = c.sides
        tau = np.zeros(T)
        tempted = []
        for t in range(1, T + 1):
            m = path.at(signed + t)
            w_high = (m.low) + dp  # high side's war value: p_high - k_high D
            w_low = (1.0 - m.high) - dp  # low side's: 1 - (p_low + k_low D)
            t_high, t_low = w_high - x, w_low - (1.0 - x)
            best = max(t_high, t_low, 0.0)
            tau[t - 1] = best
            tempted.append(None if best <= 0 else (high_s if t_high >= t_low else low_s))
    h = hazard(tau, guarantee, p)
    s = np.cumprod(1.0 - h)
    return SurvivalCurve(months=tuple(range(1, T + 1)), temptation=tuple(map(float, tau)),
                         tempted=tuple(tempted), hazard=tuple(map(float, h)),
                         survival=tuple(map(float, s)), guarantee=float(guarantee))

