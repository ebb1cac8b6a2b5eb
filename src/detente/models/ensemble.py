"""Ensemble: a weighted average of other models' forecasts, each member optionally run with
fitted capability weights.

For each issue the ensemble forecast is ``sum_k w_k f_k / sum_k w_k`` over member models
``f_k``, clipped to the range of the actors' positions (the Pareto set of single-peaked
actors, so unanimity and a single actor return that position). A member that cannot
forecast an issue (``status_quo`` where the issue has no reference point) is replaced on
that issue by the ``fallback`` member, which keeps the weights fixed and the forecast
defined everywhere.

Fitted capability weights: a member may carry a table ``capability_multipliers[member]``
``{actor_id: factor}``; the member then runs on the scenario with each named actor's
capability multiplied by its factor (others keep theirs). The tables answer "which actors
carry more or less weight than their formal votes", which the DEU literature finds varies
by actor (Thomson 2011, ch. 5). They are keyed by DEU actor codes (``com``, ``ep``, ``de``,
``uk``...), so by default (``apply_multipliers="deu"``) they apply only to scenarios imported
from a DEU file (``meta.format == "deu"``); elsewhere the members run on the scenario's own
capabilities. ``"always"`` applies them to any scenario whose actor ids match.

Default: the equal-weight average of the compromise model and Stokman's exchange model,
each with its own capability table fitted on the DEU development set (how, and the
cross-validated accuracy: ``detente/data/fitted/ensemble.json``, ``docs/models/ensemble.md``).
The exchange member trades across the issues of one scenario, so run DEU proposals as one
scenario (``read_deu(..., by="proposal")``, which ``detente backtest`` does).

References
----------
Wolpert, D. H. (1992). Stacked generalization. *Neural Networks* 5(2).
Graefe, A., Armstrong, J. S., Jones, R. J. & Cuzán, A. G. (2014). Combining forecasts: an
application to elections. *International Journal of Forecasting* 30(1).
Stokman, F. N. & Van Oosten, R. (1994). The exchange of voting positions. In Bueno de
Mesquita & Stokman (eds.), *European Community Decision Making*, Yale UP.
Thomson, R. (2011). *Resolving Controversy in the European Union*, Cambridge UP.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from detente.errors import DetenteError, ModelError, NotConvergedWarning
from detente.models.base import Forecast, ForecastModel, ModelParams, ModelTags, RunResult
from detente.models.fitted import fitted_record
from detente.models.procedural import procedure_context, scenario_meta
from detente.random import SeedLike
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario

__all__ = ["EnsembleModel", "EnsembleParams", "member_outcomes"]


def _shipped(key: str) -> Any:
    value = fitted_record("ensemble")["params"][key]
    if key == "capability_multipliers":
        return {member: dict(table) for member, table in value.items()}
    return tuple(value)


class EnsembleParams(ModelParams):
    """members: registered model names; weights: one non-negative weight per member
    (normalised to sum 1); stochastic_draws: a stochastic member (exchange, through its
    tie-breaks) is run this many times on independent streams and averaged;
    capability_multipliers: ``{member: {actor: factor}}`` for the
    members that have a table (tables of models that are not members are unused);
    apply_multipliers: where the tables apply (see the module doc); fallback:
    the member that stands in where another fails."""

    members: tuple[str, ...] = Field(default_factory=lambda: _shipped("members"))
    weights: tuple[float, ...] = Field(default_factory=lambda: _shipped("weights"))
    capability_multipliers: dict[str, dict[str, float]] = Field(
        default_factory=lambda: _shipped("capability_multipliers"))
    apply_multipliers: Literal["deu", "always", "never"] = "deu"
    stochastic_draws: int = Field(default=8, ge=1, le=1000)
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
        for member, table in self.capability_multipliers.items():
            if any(not np.isfinite(v) or v < 0 for v in table.values()):
                raise ValueError(f"capability_multipliers.{member}: factors must be finite "
                                 "and >= 0")
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: each model may appear once")
        if "ensemble" in self.members or self.fallback == "ensemble":
            raise ValueError("members: an ensemble cannot contain itself")
        from detente.models.registry import available_models

        known = available_models()
        for name in (*self.members, self.fallback, *self.capability_multipliers):
            if name not in known:
                raise ValueError(f"unknown model {name!r}; choose from {', '.join(known)}")
        return self


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
                out[k] = float(model.forecast_arrays(arrays.issue_slice(k), rng=rng).outcome[0])
            except DetenteError:
                pass
        return out


class EnsembleModel(ForecastModel):
    """Weighted average of member models, each optionally with fitted capability weights.

    References
    ----------
    Wolpert (1992); Graefe et al. (2014); Stokman & Van Oosten (1994); Thomson (2011).
    """

    name = "ensemble"
    Params = EnsembleParams
    params: EnsembleParams
    # members may be joint (exchange) and stochastic (its tie-breaks): promise no more
    tags = ModelTags(per_issue=False, multi_dimensional=True, stochastic=True,
                     uses_status_quo=True)
    summary = ("average of compromise and exchange models with capability weights fitted on "
               "DEU (members and weights configurable)")
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "baselines": {"members": ("compromise", "weighted_median", "mean"),
                      "weights": (1.0, 0.0, 0.0), "capability_multipliers": {}},
    }

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        with procedure_context(scenario):
            return super().forecast(scenario, rng=rng)

    def _member_table(self, member: str) -> Mapping[str, float] | None:
        """The capability table ``member`` runs with here, or None."""
        p = self.params
        table = p.capability_multipliers.get(member)
        if table is None or p.apply_multipliers == "never":
            return None
        if p.apply_multipliers == "deu" and scenario_meta().get("format") != "deu":
            return None
        return table

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        from detente.models.registry import get_model

        if not bool(np.all(arrays.present.any(axis=0))):
            raise ModelError(f"{self.name}: an issue has no actor with a stance")
        p = self.params
        w = np.asarray(p.weights, dtype=float)
        w = w / w.sum()
        preds = np.empty((len(p.members), arrays.n_issues))
        factors: dict[str, dict[str, float]] = {}
        for j, name in enumerate(p.members):
            if w[j] == 0.0:
                preds[j] = 0.0
                continue
            table = self._member_table(name)
            member_arrays = arrays if table is None else arrays.with_capability_multipliers(table)
            if table is not None:
                factors[name] = {a: float(table.get(a, 1.0)) for a in arrays.actor_ids}
            member = get_model(name)
            draws = p.stochastic_draws if member.tags.stochastic else 1
            preds[j] = np.mean([member_outcomes(member, member_arrays, g)
                                for g in (rng.spawn(draws) if draws > 1 else [rng])], axis=0)
            if np.isnan(preds[j]).any():
                fallback = member_outcomes(get_model(p.fallback), member_arrays, rng)
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
                         "weights": dict(zip(p.members, map(float, w), strict=True)),
                         "capability_factors": factors}
                   for k, iss in enumerate(arrays.issue_ids)}
        return RunResult(outcome=out, positions=arrays.position[None, :, :].copy(),
                         rounds=np.zeros(arrays.n_issues, dtype=int),
                         converged=np.ones(arrays.n_issues, dtype=bool), details=details)
