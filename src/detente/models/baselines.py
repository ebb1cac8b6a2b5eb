"""Baseline forecasts: compromise (weighted mean), weighted median, unweighted mean, status quo.

The compromise model is the benchmark that more elaborate models rarely beat on EU
legislative data. All four are closed-form and solve each issue on its own.

References
----------
Achen, C. H. (2006). Evaluating political decision-making models. In Thomson, Stokman, Achen &
König (eds.), *The European Union Decides*, Cambridge UP.
Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In Bueno de
Mesquita & Stokman (eds.), *European Community Decision Making*, Yale UP (median voter).
models.md §3.1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from detente.errors import ModelError
from detente.models.base import IssueData, IssueResult, ModelParams, ModelTags, PerIssueModel

__all__ = [
    "CompromiseModel",
    "CompromiseParams",
    "MeanModel",
    "StatusQuoModel",
    "WeightedMedianModel",
    "WeightedMedianParams",
    "weighted_mean",
    "weighted_median",
]

Weighting = Literal["capability_salience", "capability", "salience", "none"]


def _weights(issue: IssueData, weighting: Weighting) -> np.ndarray:
    if weighting == "capability_salience":
        return issue.capability * issue.salience
    if weighting == "capability":
        return issue.capability.astype(float)
    if weighting == "salience":
        return issue.salience.astype(float)
    return np.ones_like(issue.position)


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    """Σ w x / Σ w; the unweighted mean when every weight is zero."""
    total = float(np.sum(w))
    if total <= 0:
        return float(np.mean(x))
    return float(np.dot(w, x) / total)


def weighted_median(x: np.ndarray, w: np.ndarray, quantile: float = 0.5) -> float:
    """Smallest position at which the cumulative weight reaches ``quantile`` of the total.

    With ``quantile=0.5`` this is the median voter, the Condorcet winner among actor
    positions in one dimension (models.md §1.3, §3.1). Zero total weight: unweighted.
    """
    w = np.asarray(w, dtype=float)
    if float(w.sum()) <= 0:
        w = np.ones_like(w)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws)
    target = quantile * cum[-1]
    # tolerate rounding: 0.341 >= 0.3385 must hold exactly as on paper
    k = int(np.searchsorted(cum, target - 1e-12 * cum[-1], side="left"))
    return float(xs[min(k, len(xs) - 1)])


class CompromiseParams(ModelParams):
    """weighting: capability x salience (the compromise model), capability only, salience
    only, or none (the unweighted mean)."""

    weighting: Weighting = "capability_salience"


class CompromiseModel(PerIssueModel):
    """Compromise model: the capability x salience weighted mean of positions.

    References
    ----------
    Achen (2006) in *The European Union Decides*; models.md §3.1.
    """

    name = "compromise"
    Params = CompromiseParams
    params: CompromiseParams
    tags = ModelTags()
    summary = "capability x salience weighted mean of positions (the benchmark)"

    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        w = _weights(issue, self.params.weighting)
        return IssueResult(weighted_mean(issue.position, w), issue.position[None, :])


class WeightedMedianParams(ModelParams):
    """weighting as for the compromise model; quantile 0.5 is the median voter."""

    weighting: Weighting = "capability_salience"
    quantile: float = Field(default=0.5, gt=0.0, lt=1.0)


class WeightedMedianModel(PerIssueModel):
    """Median voter: the position where cumulative capability x salience reaches one half.

    References
    ----------
    Black, D. (1948). On the rationale of group decision-making. *JPE* 56(1).
    Bueno de Mesquita (1994); models.md §1.3 and §3.1.
    """

    name = "weighted_median"
    Params = WeightedMedianParams
    params: WeightedMedianParams
    tags = ModelTags()
    summary = "capability x salience weighted median (median voter)"

    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        w = _weights(issue, self.params.weighting)
        return IssueResult(weighted_median(issue.position, w, self.params.quantile),
                           issue.position[None, :])


class MeanModel(PerIssueModel):
    """Unweighted mean of positions (the naive benchmark; models.md §3.1)."""

    name = "mean"
    Params = ModelParams
    tags = ModelTags()
    summary = "unweighted mean of positions (naive benchmark)"

    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        return IssueResult(float(np.mean(issue.position)), issue.position[None, :])


class StatusQuoModel(PerIssueModel):
    """Nothing changes: the forecast is each issue's status quo (reference point).

    Issues without a status quo raise a :class:`~detente.errors.ModelError` naming them.
    """

    name = "status_quo"
    Params = ModelParams
    tags = ModelTags(uses_status_quo=True, needs_status_quo=True)
    summary = "the status quo / reference point (no-change benchmark)"

    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        if np.isnan(issue.status_quo):
            raise ModelError(
                f"status_quo: issue {issue.issue_id!r} has no status_quo; add "
                f"'status_quo: <value>' to the issue or leave this model out"
            )
        return IssueResult(issue.status_quo, issue.position[None, :])
