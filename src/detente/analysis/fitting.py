"""Fit the parameters of ``procedure_compromise`` and the capability tables of ``ensemble``
on backtest cases (issues with recorded outcomes), minimising mean absolute error.

Used only through cross-validation grouped by proposal (``scripts/backtest_table.py``):
parameters are fitted on the training folds and scored on the held-out proposals, and the
shipped parameters are a fit on the whole development set.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from detente.analysis.backtest import BacktestCase
from detente.errors import NotConvergedWarning
from detente.models.base import ForecastModel
from detente.models.procedural import (
    NEUTRAL,
    ProcedureCompromiseModel,
    ProcedureCompromiseParams,
    _procedure,
    _rule,
    procedure_compromise_batch,
)
from detente.models.registry import get_model
from detente.scenario.arrays import scenario_arrays

__all__ = [
    "CAPABILITY_PENALTIES",
    "PROCEDURE_GRID",
    "ActorPanel",
    "CaseBatch",
    "fit_capability_multipliers",
    "fit_log_multipliers",
    "fit_procedure_compromise",
    "member_panel",
    "procedure_params_model",
    "procedure_predictions",
]

PROCEDURE_GRID: Mapping[str, tuple[float, ...]] = {
    "capability_exponent": (0.0, 0.5, 1.0, 1.5, 2.0),
    "salience_exponent": (0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
    "commission_weight": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
    "parliament_weight_cod": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
    "parliament_weight_cns": (0.0, 0.5, 1.0, 1.5, 2.0),
    "rp_pull_unanimity": (0.0, 0.1, 0.2, 0.3, 0.4),
    "rp_pull_qmv": (0.0, 0.1, 0.2, 0.3),
}
"""Values searched per parameter (coordinate search from the neutral start)."""


@dataclass(frozen=True)
class CaseBatch:
    """Padded ``[case, actor]`` arrays of backtest cases, for fast repeated evaluation."""

    position: np.ndarray
    salience: np.ndarray
    capability: np.ndarray
    present: np.ndarray
    is_com: np.ndarray
    is_ep: np.ndarray
    cod: np.ndarray
    cns: np.ndarray
    unanimity: np.ndarray
    qmv: np.ndarray
    status_quo: np.ndarray
    outcome: np.ndarray
    width: np.ndarray

    @classmethod
    def from_cases(cls, cases: Sequence[BacktestCase],
                   commission_ids: tuple[str, ...] = ("com",),
                   parliament_ids: tuple[str, ...] = ("ep",)) -> CaseBatch:
        n = len(cases)
        arrs = [scenario_arrays(c.scenario) for c in cases]
        a_max = max(a.n_actors for a in arrs)
        pos = np.zeros((n, a_max))
        sal, cap = np.zeros_like(pos), np.zeros_like(pos)
        present = np.zeros((n, a_max), dtype=bool)
        is_com, is_ep = np.zeros_like(present), np.zeros_like(present)
        proc = [_procedure(c.scenario.meta, "auto") for c in cases]
        rule = [_rule(c.scenario.meta, "auto") for c in cases]
        sq = np.empty(n)
        for i, (c, a) in enumerate(zip(cases, arrs, strict=True)):
            k = a.issue_index(c.issue_id)
            m = a.n_actors
            pos[i, :m] = np.nan_to_num(a.position[:, k])
            sal[i, :m] = a.salience[:, k]
            cap[i, :m] = a.capability[:, k]
            present[i, :m] = a.present[:, k]
            is_com[i, :m] = [x in commission_ids for x in a.actor_ids]
            is_ep[i, :m] = [x in parliament_ids for x in a.actor_ids]
            sq[i] = a.status_quo[k]
        return cls(pos, sal, cap, present, is_com, is_ep,
                   np.array([p == "COD" for p in proc]), np.array([p == "CNS" for p in proc]),
                   np.array([r == "unanimity" for r in rule]), np.array([r == "qmv" for r in rule]),
                   sq, np.array([c.outcome for c in cases]), np.array([c.width for c in cases]))

    def predict(self, p: Mapping[str, float]) -> np.ndarray:
        ep = np.where(self.cod, p["parliament_weight_cod"],
                      np.where(self.cns, p["parliament_weight_cns"], 1.0))
        mult = np.where(self.is_com, p["commission_weight"],
                        np.where(self.is_ep, ep[:, None], 1.0))
        pull = np.where(self.unanimity, p["rp_pull_unanimity"],
                        np.where(self.qmv, p["rp_pull_qmv"], 0.0))
        return procedure_compromise_batch(
            self.position, self.salience, self.capability, self.present, mult, self.status_quo,
            pull, capability_exponent=p["capability_exponent"],
            salience_exponent=p["salience_exponent"])

    def mae(self, pred: np.ndarray) -> float:
        return float(np.mean(np.abs(pred - self.outcome) / self.width * 100.0))


def fit_procedure_compromise(cases: Sequence[BacktestCase], *,
                             grid: Mapping[str, Sequence[float]] = PROCEDURE_GRID,
                             max_sweeps: int = 6) -> tuple[dict[str, float], float]:
    """Coordinate search over ``grid`` from the neutral parameters (the compromise model):
    each sweep sets every parameter in turn to the grid value with the lowest MAE (ties keep
    the current value, so nothing moves without an improvement). Returns the parameters and
    their in-sample MAE."""
    batch = CaseBatch.from_cases(cases)
    params = {k: float(v) for k, v in NEUTRAL.items()}
    best = batch.mae(batch.predict(params))
    for _ in range(max_sweeps):
        changed = False
        for name, values in grid.items():
            for v in values:
                if v == params[name]:
                    continue
                trial = {**params, name: float(v)}
                score = batch.mae(batch.predict(trial))
                if score < best - 1e-9:
                    best, params, changed = score, trial, True
        if not changed:
            break
    return params, best


def procedure_predictions(cases: Sequence[BacktestCase], params: Mapping[str, float]
                          ) -> np.ndarray:
    """Forecasts of ``procedure_compromise`` with ``params`` (vectorised path)."""
    return CaseBatch.from_cases(cases).predict(params)


def procedure_params_model(params: Mapping[str, float]) -> ProcedureCompromiseModel:
    """A model instance with fitted ``params`` (other settings at their defaults)."""
    return ProcedureCompromiseModel(ProcedureCompromiseParams(**params))


# ---------------------------------------------------------------------------------------
# capability tables (ensemble members)

CAPABILITY_PENALTIES: tuple[float, ...] = (0.03, 0.1, 0.3)
"""Ridge penalties on the log-multipliers; the shipped table is the mean of the fits at
each (averaging over the grid instead of picking one, so no penalty is tuned)."""

SMOOTHING = 1.0
"""The loss is mean sqrt(e^2 + SMOOTHING) on the 0-100 scale: absolute error, smoothed
near zero so that the gradient exists."""


@dataclass(frozen=True)
class ActorPanel:
    """``[case, actor]`` arrays of one member model on backtest cases, actors keyed by id:
    the member's final-round positions and capability x salience weights (0 where the
    actor holds no stance), positions and outcomes rescaled to 0-100."""

    actor_ids: tuple[str, ...]
    position: np.ndarray
    weight: np.ndarray
    outcome: np.ndarray

    def predict(self, log_multipliers: np.ndarray, rows: np.ndarray | None = None
                ) -> np.ndarray:
        """Weighted mean of the final positions with weights x exp(log_multipliers)."""
        sel = slice(None) if rows is None else rows
        w = self.weight[sel] * np.exp(log_multipliers)[None, :]
        return (w * self.position[sel]).sum(axis=1) / w.sum(axis=1)


def member_panel(cases: Sequence[BacktestCase], member: str | ForecastModel, *,
                 seed: int = 0, draws: int = 1) -> ActorPanel:
    """Run ``member`` once per distinct scenario of ``cases`` (with the scenario's own
    capabilities) and collect its final positions and weights per case. A stochastic member
    is run ``draws`` times on independent streams and its final positions averaged."""
    model = get_model(member) if isinstance(member, str) else member
    if not model.tags.stochastic:
        draws = 1
    actor_ids = tuple(OrderedDict.fromkeys(
        a for c in cases for a in scenario_arrays(c.scenario).actor_ids))
    col = {a: j for j, a in enumerate(actor_ids)}
    n = len(cases)
    pos, weight = np.zeros((n, len(actor_ids))), np.zeros((n, len(actor_ids)))
    finals: dict[int, np.ndarray] = {}
    for i, c in enumerate(cases):
        arrays = scenario_arrays(c.scenario)
        key = id(c.scenario)
        if key not in finals:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotConvergedWarning)
                gens = np.random.default_rng(seed).spawn(draws) if draws > 1 else [seed]
                finals[key] = np.mean([model.forecast(c.scenario, rng=g).positions[-1]
                                       for g in gens], axis=0)
        k = arrays.issue_index(c.issue_id)
        cols = [col[a] for a in arrays.actor_ids]
        present = arrays.present[:, k]
        scaled = (finals[key][:, k] - c.scale_min) / c.width * 100.0
        pos[i, cols] = np.where(present, np.nan_to_num(scaled), 0.0)
        weight[i, cols] = np.where(present, arrays.capability[:, k] * arrays.salience[:, k], 0.0)
    outcome = np.array([(c.outcome - c.scale_min) / c.width * 100.0 for c in cases])
    return ActorPanel(actor_ids, pos, weight, outcome)


def fit_log_multipliers(panel: ActorPanel, penalty: float, *,
                        rows: np.ndarray | None = None) -> np.ndarray:
    """Log capability multipliers minimising the smoothed mean absolute error of the
    weighted mean of ``panel``'s positions plus ``penalty * sum(theta^2)`` (L-BFGS with the
    analytic gradient). Actors absent from ``rows`` stay at 0 (multiplier 1)."""
    sel = np.arange(len(panel.outcome)) if rows is None else np.asarray(rows)
    x, b, y = panel.position[sel], panel.weight[sel], panel.outcome[sel]
    live = b.sum(axis=1) > 0
    x, b, y = x[live], b[live], y[live]
    m = len(y)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = b * np.exp(theta)[None, :]
        total = w.sum(axis=1)
        f = (w * x).sum(axis=1) / total
        e = f - y
        r = np.sqrt(e * e + SMOOTHING)
        d_f = e / r / m
        grad = ((w * (x - f[:, None])) / total[:, None] * d_f[:, None]).sum(axis=0)
        return float(r.mean() + penalty * theta @ theta), grad + 2.0 * penalty * theta

    res = minimize(loss, np.zeros(len(panel.actor_ids)), jac=True, method="L-BFGS-B")
    return np.asarray(res.x)


def fit_capability_multipliers(panel: ActorPanel, *, rows: np.ndarray | None = None,
                               penalties: Sequence[float] = CAPABILITY_PENALTIES
                               ) -> dict[str, float]:
    """``{actor_id: factor}``: exp of the mean of :func:`fit_log_multipliers` over
    ``penalties`` (rounded to 6 decimals, as shipped)."""
    theta = np.mean([fit_log_multipliers(panel, lam, rows=rows) for lam in penalties], axis=0)
    return {a: round(float(np.exp(t)), 6) for a, t in zip(panel.actor_ids, theta, strict=True)}
