"""Procedure-aware compromise: the compromise model with fitted exponents, institution
weights that depend on the legislative procedure, and a pull toward the reference point
that depends on the Council's voting rule.

For each issue, with positions x_i, saliences s_i (0-1) and capabilities c_i,

    w_i = c_i^alpha * s_i^beta * m_i
    m_i = commission_weight          for the Commission (ids in ``commission_ids``)
          parliament_weight_cod      for the Parliament under co-decision (COD)
          parliament_weight_cns      for the Parliament under consultation (CNS)
          1                          otherwise
    y   = sum w_i x_i / sum w_i
    out = clip((1 - lambda) y + lambda rp, [min x_i, max x_i])

with lambda = ``rp_pull_unanimity`` under unanimity and ``rp_pull_qmv`` under qualified
majority. Actors with zero capability or zero salience carry no weight. Clipping to the range
of positions keeps the forecast in the Pareto set of single-peaked actors (so unanimity and
a single actor return that position).

Where the procedure and voting rule come from: with ``procedure="auto"`` and
``voting_rule="auto"`` the model reads ``meta.proc`` (``COD``/``CNS``) and ``meta.counvte``
(``Unan``/``QMV``...) of the scenario, as the DEU importer writes them. Without them (any
non-DEU scenario, or :meth:`forecast_arrays`, which sees no meta) the Parliament multiplier
is 1 and there is no pull toward the reference point; issues without a status quo get no
pull either. With neutral parameters (exponents 1, multipliers 1, pulls 0) the model is
the compromise model exactly.

The default parameters were fitted on the DEU development set only, by coordinate search
minimising mean absolute error; how, and their cross-validated accuracy, is in
``detente/data/fitted/procedure_compromise.json`` and ``docs/models/procedure_compromise.md``.

References
----------
Achen, C. H. (2006). Evaluating political decision-making models. In Thomson, Stokman,
Achen & König (eds.), *The European Union Decides*, Cambridge UP.
Tsebelis, G. & Garrett, G. (2000). Legislative politics in the European Union. *European
Union Politics* 1(1) (procedures and the Parliament's power).
Thomson, R. (2011). *Resolving Controversy in the European Union*, Cambridge UP.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from detente.errors import ModelError
from detente.models.base import Forecast, ForecastModel, ModelParams, ModelTags, RunResult
from detente.random import SeedLike
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario

__all__ = [
    "ProcedureCompromiseModel",
    "ProcedureCompromiseParams",
    "procedure_compromise_batch",
    "procedure_context",
    "scenario_meta",
]

# The scenario meta the current ``forecast`` call runs under (procedure, voting rule).
_NO_CONTEXT: Mapping[str, Any] = MappingProxyType({})
_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "detente_procedure_context", default=_NO_CONTEXT)


@contextmanager
def procedure_context(scenario: Scenario) -> Iterator[None]:
    """Make ``scenario.meta`` (proc, counvte) visible to models run inside the block."""
    token = _CONTEXT.set(dict(scenario.meta))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def _procedure(meta: Mapping[str, Any], setting: str) -> str | None:
    if setting != "auto":
        return setting
    proc = str(meta.get("proc") or "").strip().upper()
    return proc if proc in ("COD", "CNS") else None


def _rule(meta: Mapping[str, Any], setting: str) -> str | None:
    if setting != "auto":
        return setting
    rule = str(meta.get("counvte") or "").strip().lower()
    if rule.startswith("unan"):
        return "unanimity"
    if rule.startswith("qmv"):
        return "qmv"
    return None


def scenario_meta() -> Mapping[str, Any]:
    """The meta of the scenario whose ``forecast`` is running (empty outside one)."""
    return _CONTEXT.get()


class ProcedureCompromiseParams(ModelParams):
    """Exponents, institution multipliers and reference-point pulls (see the module doc).

    Defaults are the values fitted on the DEU development set (data/fitted)."""

    capability_exponent: float = Field(default=1.0, ge=0.0, le=4.0)
    salience_exponent: float = Field(default=2.0, ge=0.0, le=6.0)
    commission_weight: float = Field(default=1.0, ge=0.0, le=20.0)
    parliament_weight_cod: float = Field(default=2.0, ge=0.0, le=20.0)
    parliament_weight_cns: float = Field(default=0.0, ge=0.0, le=20.0)
    rp_pull_unanimity: float = Field(default=0.0, ge=0.0, le=1.0)
    rp_pull_qmv: float = Field(default=0.0, ge=0.0, le=1.0)
    procedure: Literal["auto", "COD", "CNS"] = "auto"
    voting_rule: Literal["auto", "qmv", "unanimity"] = "auto"
    commission_ids: tuple[str, ...] = ("com",)
    parliament_ids: tuple[str, ...] = ("ep",)


NEUTRAL: dict[str, Any] = {
    "capability_exponent": 1.0, "salience_exponent": 1.0, "commission_weight": 1.0,
    "parliament_weight_cod": 1.0, "parliament_weight_cns": 1.0, "rp_pull_unanimity": 0.0,
    "rp_pull_qmv": 0.0,
}


def _safe_pow(v: np.ndarray, e: float) -> np.ndarray:
    out = np.zeros_like(v, dtype=float)
    pos = v > 0
    out[pos] = v[pos] ** e
    return out


def procedure_compromise_batch(
    position: np.ndarray,
    salience: np.ndarray,
    capability: np.ndarray,
    present: np.ndarray,
    multiplier: np.ndarray,
    status_quo: np.ndarray,
    pull: np.ndarray,
    *,
    capability_exponent: float,
    salience_exponent: float,
) -> np.ndarray:
    """Vectorised core over ``[issue, actor]`` arrays (absent actors: ``present`` False).

    ``multiplier`` holds each actor's institution multiplier, ``pull`` each issue's lambda
    (0 where there is no status quo). Shared by the model and the fitting code, so the
    fitted numbers are the model's numbers.
    """
    x = np.where(present, position, 0.0)
    w = (_safe_pow(np.where(present, capability, 0.0), capability_exponent)
         * _safe_pow(np.where(present, salience, 0.0), salience_exponent)
         * np.where(present, multiplier, 0.0))
    tot = w.sum(axis=1)
    n = present.sum(axis=1)
    mean = x.sum(axis=1) / np.maximum(n, 1)
    y = np.where(tot > 0, (w * x).sum(axis=1) / np.where(tot > 0, tot, 1.0), mean)
    sq = np.where(np.isnan(status_quo), y, status_quo)
    lam = np.where(np.isnan(status_quo), 0.0, pull)
    y = (1.0 - lam) * y + lam * sq
    lo = np.where(present, position, np.inf).min(axis=1)
    hi = np.where(present, position, -np.inf).max(axis=1)
    return np.clip(y, lo, hi)


class ProcedureCompromiseModel(ForecastModel):
    """Compromise model aware of the EU legislative procedure (see the module docstring).

    References
    ----------
    Achen (2006) in *The European Union Decides*; Tsebelis & Garrett (2000); Thomson (2011).
    """

    name = "procedure_compromise"
    Params = ProcedureCompromiseParams
    params: ProcedureCompromiseParams
    tags = ModelTags(uses_status_quo=True)
    summary = ("compromise with fitted exponents, procedure-dependent Parliament weight and a "
               "voting-rule pull toward the reference point (fitted on DEU)")
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {"neutral": NEUTRAL}

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        with procedure_context(scenario):
            return super().forecast(scenario, rng=rng)

    def multipliers(self, actor_ids: tuple[str, ...], meta: Mapping[str, Any]) -> np.ndarray:
        p = self.params
        proc = _procedure(meta, p.procedure)
        ep = {"COD": p.parliament_weight_cod, "CNS": p.parliament_weight_cns}.get(proc or "", 1.0)
        return np.array([p.commission_weight if a in p.commission_ids
                         else ep if a in p.parliament_ids else 1.0 for a in actor_ids])

    def pull(self, meta: Mapping[str, Any]) -> float:
        rule = _rule(meta, self.params.voting_rule)
        return {"unanimity": self.params.rp_pull_unanimity,
                "qmv": self.params.rp_pull_qmv}.get(rule or "", 0.0)

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        if not bool(np.all(arrays.present.any(axis=0))):
            bad = [i for i, ok in zip(arrays.issue_ids, np.any(arrays.present, axis=0), strict=True)
                   if not ok]
            raise ModelError(f"{self.name}: issue(s) {', '.join(bad)} have no actor with a stance")
        meta = scenario_meta()
        p = self.params
        m = arrays.n_issues
        mult = self.multipliers(arrays.actor_ids, meta)
        out = procedure_compromise_batch(
            arrays.position.T, arrays.salience.T, arrays.capability.T, arrays.present.T,
            np.broadcast_to(mult, (m, arrays.n_actors)), arrays.status_quo,
            np.full(m, self.pull(meta)), capability_exponent=p.capability_exponent,
            salience_exponent=p.salience_exponent)
        return RunResult(outcome=out, positions=arrays.position[None, :, :].copy(),
                         rounds=np.zeros(m, dtype=int), converged=np.ones(m, dtype=bool))
