"""Ensemble: a convex combination of other models' forecasts, with weights fitted on real
outcomes.

For each issue the ensemble forecast is ``sum_k w_k f_k / sum_k w_k`` over member models
``f_k``, clipped to the range of the actors' positions (the Pareto set of single-peaked
actors, so unanimity and a single actor return that position). A member that cannot
forecast an issue (``status_quo`` where the issue has no reference point) is replaced on
that issue by the ``fallback`` member, which keeps the weights fixed and the forecast
defined everywhere.

Members run with their default parameters. ``procedure_compromise`` members read the DEU
procedure meta as in their own ``forecast``. The default members and weights were fitted
on the DEU development set only (least absolute deviations under a convexity constraint;
``detente/data/fitted/ensemble.json`` records how, and the cross-validated accuracy).

The ensemble is per-issue, deterministic and invariant to scaling capabilities when its
members are (true for the defaults); with other members it inherits their behaviour.

References
----------
Wolpert, D. H. (1992). Stacked generalization. *Neural Networks* 5(2).
Breiman, L. (1996). Stacked regressions. *Machine Learning* 24(1).
Graefe, A., Armstrong, J. S., Jones, R. J. & Cuzán, A. G. (2014). Combining forecasts: an
application to elections. *International Journal of Forecasting* 30(1).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import model_validator

from detente.errors import DetenteError, ModelError, NotConvergedWarning
from detente.models.base import Forecast, ForecastModel, ModelParams, ModelTags, RunResult
from detente.models.procedural import procedure_context
from detente.random import SeedLike
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario

__all__ = ["EnsembleModel", "EnsembleParams", "member_outcomes"]


class EnsembleParams(ModelParams):
    """members: registered model names; weights: one non-negative weight per member
    (normalised to sum 1); fallback: the member that stands in where another fails."""

    members: tuple[str, ...] = ("compromise", "weighted_median", "mean", "status_quo",
                                "procedure_compromise")
    weights: tuple[float, ...] = (0.0, 0.0, 0.147207, 0.0, 0.852793)
    fallback: str = "compromise"
    clip_to_positions: bool = True

    @model_validator(mode="after")
    def _check(self) -> EnsembleParams:
        if not self.members:
            raise ValueError("members: give at least one model name")
        if len(self.weights) != len(self.members):
            raise ValueError(f"weights: {len(self.weights)} weights for {len(self.members)} "
                             "members; give one weight per member")
        if any(not np.isfinite(w) or w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights: must be finite, >= 0 and not all zero")
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: each model may appear once")
        if "ensemble" in self.members or self.fallback == "ensemble":
            raise ValueError("members: an ensemble cannot contain itself")
        from detente.models.registry import available_models

        known = available_models()
        for name in (*self.members, self.fallback):
            if name not in known:
                raise ValueError(f"unknown model {name!r}; choose from {', '.join(known)}")
        return self


def _issue_arrays(arrays: ScenarioArrays, k: int) -> ScenarioArrays:
    sl = slice(k, k + 1)
    return ScenarioArrays(
        actor_ids=arrays.actor_ids, issue_ids=arrays.issue_ids[sl],
        position=arrays.position[:, sl], salience=arrays.salience[:, sl],
        capability=arrays.capability[:, sl], present=arrays.present[:, sl],
        scale_min=arrays.scale_min[sl], scale_max=arrays.scale_max[sl],
        status_quo=arrays.status_quo[sl])


def member_outcomes(model: ForecastModel, arrays: ScenarioArrays,
                    rng: np.random.Generator) -> np.ndarray:
    """Outcome per issue of ``model``; NaN on issues where the model cannot run.

    A model that fails on the whole scenario is retried issue by issue when it is
    per-issue, so one issue without a status quo does not void the others.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        try:
            return np.asarray(model.forecast_arrays(arrays, rng=rng).outcome, dtype=float)
        except DetenteError:
            if not model.tags.per_issue or arrays.n_issues == 1:
                return np.full(arrays.n_issues, np.nan)
        out = np.full(arrays.n_issues, np.nan)
        for k in range(arrays.n_issues):
            try:
                out[k] = float(model.forecast_arrays(_issue_arrays(arrays, k), rng=rng).outcome[0])
            except DetenteError:
                pass
        return out


class EnsembleModel(ForecastModel):
    """Weighted combination of member models, fitted on the DEU development set.

    References
    ----------
    Wolpert (1992); Breiman (1996); Graefe et al. (2014).
    """

    name = "ensemble"
    Params = EnsembleParams
    tags = ModelTags(uses_status_quo=True)
    summary = "convex combination of member models, weights fitted on DEU (stacking)"
    presets: Mapping[str, Mapping[str, Any]] = {
        "baselines": {"members": ("compromise", "weighted_median", "mean"),
                      "weights": (1.0, 0.0, 0.0)},
    }

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        with procedure_context(scenario):
            return super().forecast(scenario, rng=rng)

    def _members(self) -> list[ForecastModel]:
        from detente.models.registry import get_model

        return [get_model(n) for n in self.params.members]

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        from detente.models.registry import get_model

        if not bool(np.all(arrays.present.any(axis=0))):
            raise ModelError(f"{self.name}: an issue has no actor with a stance")
        p = self.params
        w = np.asarray(p.weights, dtype=float)
        w = w / w.sum()
        preds = np.empty((len(p.members), arrays.n_issues))
        fallback = None
        for j, member in enumerate(self._members()):
            if w[j] == 0.0:
                preds[j] = 0.0
                continue
            preds[j] = member_outcomes(member, arrays, rng)
            if np.isnan(preds[j]).any():
                if fallback is None:
                    fallback = member_outcomes(get_model(p.fallback), arrays, rng)
                    if np.isnan(fallback).any():
                        raise ModelError(f"{self.name}: fallback model {p.fallback!r} cannot "
                                         "forecast every issue; choose another fallback")
                preds[j] = np.where(np.isnan(preds[j]), fallback, preds[j])
        out = w @ preds
        if p.clip_to_positions:
            lo = np.where(arrays.present, arrays.position, np.inf).min(axis=0)
            hi = np.where(arrays.present, arrays.position, -np.inf).max(axis=0)
            out = np.clip(out, lo, hi)
        out = np.clip(out, arrays.scale_min, arrays.scale_max)
        details = {iss: {"members": dict(zip(p.members, map(float, preds[:, k]), strict=True)),
                         "weights": dict(zip(p.members, map(float, w), strict=True))}
                   for k, iss in enumerate(arrays.issue_ids)}
        return RunResult(outcome=out, positions=arrays.position[None, :, :].copy(),
                         rounds=np.zeros(arrays.n_issues, dtype=int),
                         converged=np.ones(arrays.n_issues, dtype=bool), details=details)
