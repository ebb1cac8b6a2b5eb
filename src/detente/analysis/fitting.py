"""Fit the parameters of ``procedure_compromise`` and the weights of ``ensemble`` on
backtest cases (issues with recorded outcomes), minimising mean absolute error.

Used only through cross-validation grouped by proposal (``scripts/backtest_table.py``):
parameters are fitted on the training folds and scored on the held-out proposals, and the
shipped parameters are a fit on the whole development set.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from detente.analysis.backtest import BacktestCase
from detente.errors import NotConvergedWarning
from detente.models.ensemble import member_outcomes
from detente.models.procedural import (
    NEUTRAL,
    ProcedureCompromiseModel,
    ProcedureCompromiseParams,
    _procedure,
    _rule,
    procedure_compromise_batch,
    procedure_context,
)
from detente.models.registry import get_model
from detente.scenario.arrays import scenario_arrays

__all__ = [
    "PROCEDURE_GRID",
    "CaseBatch",
    "fit_ensemble_weights",
    "fit_procedure_compromise",
    "member_predictions",
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


def member_predictions(cases: Sequence[BacktestCase], members: Sequence[str], *,
                       overrides: Mapping[str, Mapping[str, Any]] | None = None,
                       fallback: str = "compromise") -> np.ndarray:
    """``[case, member]`` forecasts, members that cannot run replaced by ``fallback`` (as
    the ensemble does)."""
    overrides = overrides or {}
    models = [get_model(m, **dict(overrides.get(m, {}))) for m in members]
    fb = get_model(fallback, **dict(overrides.get(fallback, {})))
    out = np.full((len(cases), len(members)), np.nan)
    rng = np.random.default_rng(0)
    for i, c in enumerate(cases):
        arrays = scenario_arrays(c.scenario)
        k = arrays.issue_index(c.issue_id)
        with procedure_context(c.scenario), warnings.catch_warnings():
            warnings.simplefilter("ignore", NotConvergedWarning)
            fb_val = None
            for j, m in enumerate(models):
                v = member_outcomes(m, arrays, rng)[k]
                if np.isnan(v):
                    if fb_val is None:
                        fb_val = member_outcomes(fb, arrays, rng)[k]
                    v = fb_val
                out[i, j] = v
    return out


def fit_ensemble_weights(preds: np.ndarray, cases: Sequence[BacktestCase]) -> np.ndarray:
    """Convex weights (>= 0, sum 1) minimising the mean absolute error of ``preds @ w``:
    least absolute deviations as a linear programme."""
    y = np.array([c.outcome for c in cases])
    scale = 100.0 / np.array([c.width for c in cases])
    X = preds * scale[:, None]
    y = y * scale
    n, k = X.shape
    cost = np.r_[np.zeros(k), np.ones(2 * n)]
    a_eq = np.vstack([np.c_[X, np.eye(n), -np.eye(n)], np.r_[np.ones(k), np.zeros(2 * n)]])
    b_eq = np.r_[y, 1.0]
    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * (k + 2 * n), method="highs")
    if not res.success:  # pragma: no cover - the LP is always feasible
        raise RuntimeError(f"ensemble weight fit failed: {res.message}")
    w = np.clip(res.x[:k], 0, None)
    return w / w.sum()


def procedure_params_model(params: Mapping[str, float]) -> ProcedureCompromiseModel:
    """A model instance with fitted ``params`` (other settings at their defaults)."""
    return ProcedureCompromiseModel(ProcedureCompromiseParams(**params))
