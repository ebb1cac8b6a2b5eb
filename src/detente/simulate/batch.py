"""Evaluate a model on a whole batch of perturbed draws at once.

The batch protocol
------------------
A model may define a method ::

    forecast_batch(position, salience, capability, base, rngs) -> (outcome, converged)

with ``position``, ``salience`` (0-1), ``capability`` shaped ``[B, n, m]`` (B draws, n
actors, m issues; NaN positions where ``base.present`` is False), ``base`` the
:class:`~detente.scenario.arrays.ScenarioArrays` the draws perturb (ids, scales, status quo,
presence) and ``rngs`` one generator per draw (stochastic models must take draw ``b``'s
randomness from ``rngs[b]`` only). It returns ``outcome[B, m]`` and ``converged[B, m]``.
Draw b's result must not depend on the other draws in the batch (so results are the same
whatever the chunking, executor or number of workers).

Models that do not define it get, in this order: a vectorised adapter registered here
(compromise, weighted median, mean, status quo, and the expected-utility model through its
``solve_batch``), or a Python loop over :meth:`ForecastModel.forecast_arrays`. Models that
read more of the scenario than its arrays (they override ``forecast`` or set
``needs_scenario = True``) run on full perturbed scenarios (the only path that sees
perturbed dynamics; models that read only arrays are unaffected by dynamics).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from detente.errors import ModelError, NotConvergedWarning
from detente.models.base import ForecastModel
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario
from detente.simulate.perturb import DrawBatch, batch_scenario

__all__ = [
    "BatchAdapter",
    "batch_adapter",
    "evaluate_batch",
    "needs_scenario",
    "register_batch_adapter",
    "weighted_median_batch",
]

BatchAdapter = Callable[[ForecastModel, np.ndarray, np.ndarray, np.ndarray, ScenarioArrays,
                         Sequence[np.random.Generator]], tuple[np.ndarray, np.ndarray]]
_ADAPTERS: dict[str, BatchAdapter] = {}


def register_batch_adapter(model_name: str) -> Callable[[BatchAdapter], BatchAdapter]:
    """Register a vectorised batch forecast for the model registered as ``model_name``."""

    def deco(fn: BatchAdapter) -> BatchAdapter:
        _ADAPTERS[model_name] = fn
        return fn

    return deco


def batch_adapter(model: ForecastModel) -> BatchAdapter | None:
    """The batch forecast used for ``model``: its own ``forecast_batch`` or an adapter."""
    own = getattr(model, "forecast_batch", None)
    if callable(own):
        def call(m: ForecastModel, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
                 base: ScenarioArrays, rngs: Sequence[np.random.Generator]
                 ) -> tuple[np.ndarray, np.ndarray]:
            return own(pos, sal, cap, base, rngs)

        return call
    return _ADAPTERS.get(model.name)


def needs_scenario(model: ForecastModel) -> bool:
    """True when the model reads more than the scenario's arrays."""
    flag = getattr(model, "needs_scenario", None)
    if flag is not None:
        return bool(flag)
    return type(model).forecast is not ForecastModel.forecast


# ---------------------------------------------------------------------------------------
# vectorised baselines


def _weights(weighting: str, sal: np.ndarray, cap: np.ndarray, present: np.ndarray
             ) -> np.ndarray:
    if weighting == "capability_salience":
        w = cap * sal
    elif weighting == "capability":
        w = cap.copy()
    elif weighting == "salience":
        w = sal.copy()
    else:
        w = np.ones_like(sal)
    return np.where(present, w, 0.0)


def _check_issues(base: ScenarioArrays, name: str) -> None:
    empty = ~base.present.any(axis=0)
    if np.any(empty):
        iss = base.issue_ids[int(np.flatnonzero(empty)[0])]
        raise ModelError(f"{name}: issue {iss!r} has no actor with a stance")


def _weighted_mean(pos: np.ndarray, w: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Sum over actors in actor order, the same order for every draw."""
    x = np.where(present, pos, 0.0)
    total = _actor_sum(w)
    cnt = present.sum(axis=0)
    mean = _actor_sum(x) / cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _actor_sum(w * x) / total
    return np.where(total > 0, out, mean)


def _actor_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the actor axis of [B, n, m] in a fixed order, so draw b's value does not
    depend on how many draws share the batch (NumPy may otherwise pick pairwise sums)."""
    acc = a[:, 0, :].copy()
    for i in range(1, a.shape[1]):
        acc += a[:, i, :]
    return acc


def weighted_median_batch(pos: np.ndarray, w: np.ndarray, present: np.ndarray,
                          quantile: float = 0.5) -> np.ndarray:
    """[B, n, m] -> [B, m]: the smallest position where cumulative weight reaches
    ``quantile`` of the total (the baselines' rule, including its rounding tolerance)."""
    bsz, n, m = pos.shape
    w = np.where(present, w, 0.0)
    zero = w.sum(axis=1, keepdims=True) <= 0
    w = np.where(zero & present, 1.0, w)
    x = np.where(present, pos, np.inf)  # absent actors sort last with zero weight
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    ws = np.take_along_axis(w, order, axis=1)
    cum = np.cumsum(ws, axis=1)
    total = cum[:, -1:, :]
    target = quantile * total - 1e-12 * total
    k = np.sum(cum < target, axis=1)  # searchsorted 'left' along the actor axis
    cnt = present.sum(axis=0)
    k = np.minimum(k, cnt[None, :] - 1)
    return np.take_along_axis(xs, k[:, None, :], axis=1)[:, 0, :]


def _ok(bsz: int, m: int) -> np.ndarray:
    return np.ones((bsz, m), dtype=bool)


@register_batch_adapter("compromise")
def _compromise(model: Any, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
                base: ScenarioArrays, rngs: Sequence[np.random.Generator]
                ) -> tuple[np.ndarray, np.ndarray]:
    _check_issues(base, model.name)
    w = _weights(model.params.weighting, sal, cap, base.present)
    return _weighted_mean(pos, w, base.present), _ok(pos.shape[0], base.n_issues)


@register_batch_adapter("weighted_median")
def _median(model: Any, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
            base: ScenarioArrays, rngs: Sequence[np.random.Generator]
            ) -> tuple[np.ndarray, np.ndarray]:
    _check_issues(base, model.name)
    w = _weights(model.params.weighting, sal, cap, base.present)
    out = weighted_median_batch(pos, w, base.present, model.params.quantile)
    return out, _ok(pos.shape[0], base.n_issues)


@register_batch_adapter("mean")
def _mean(model: Any, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
          base: ScenarioArrays, rngs: Sequence[np.random.Generator]
          ) -> tuple[np.ndarray, np.ndarray]:
    _check_issues(base, model.name)
    x = np.where(base.present, pos, 0.0)
    return _actor_sum(x) / base.present.sum(axis=0), _ok(pos.shape[0], base.n_issues)


@register_batch_adapter("status_quo")
def _status_quo(model: Any, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
                base: ScenarioArrays, rngs: Sequence[np.random.Generator]
                ) -> tuple[np.ndarray, np.ndarray]:
    if np.any(np.isnan(base.status_quo)):
        k = int(np.flatnonzero(np.isnan(base.status_quo))[0])
        raise ModelError(f"status_quo: issue {base.issue_ids[k]!r} has no status_quo; add "
                         f"'status_quo: <value>' to the issue or leave this model out")
    bsz = pos.shape[0]
    return np.broadcast_to(base.status_quo, (bsz, base.n_issues)).copy(), _ok(bsz,
                                                                             base.n_issues)


@register_batch_adapter("expected_utility")
def _expected_utility(model: Any, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
                      base: ScenarioArrays, rngs: Sequence[np.random.Generator]
                      ) -> tuple[np.ndarray, np.ndarray]:
    from detente.models import expected_utility as eu

    solve = getattr(eu, "solve_batch", None)
    if solve is None:  # pragma: no cover - older model module
        return _loop(model, pos, sal, cap, base, rngs)
    _check_issues(base, model.name)
    bsz = pos.shape[0]
    out = np.empty((bsz, base.n_issues))
    conv = np.empty((bsz, base.n_issues), dtype=bool)
    # the kernels pick their vote-mass method by batch size (B = 1 takes another, equally
    # exact route that can differ in the last bits); a lone draw is padded to two so that
    # a draw's result never depends on how many draws share its chunk
    pad = 2 if bsz == 1 else bsz
    take = np.zeros(pad, dtype=int) if bsz == 1 else slice(None)
    for k in range(base.n_issues):
        idx = np.flatnonzero(base.present[:, k])
        res = solve(pos[take][:, idx, k], cap[take][:, idx, k], sal[take][:, idx, k],
                    width=float(base.width[k]), params=model.params)
        out[:, k] = res.outcome[:bsz]
        conv[:, k] = res.converged[:bsz]
    return out, conv


# ---------------------------------------------------------------------------------------
# the general paths


def _loop(model: ForecastModel, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
          base: ScenarioArrays, rngs: Sequence[np.random.Generator],
          models: Sequence[ForecastModel] | None = None) -> tuple[np.ndarray, np.ndarray]:
    bsz = pos.shape[0]
    out = np.empty((bsz, base.n_issues))
    conv = np.empty((bsz, base.n_issues), dtype=bool)
    for b in range(bsz):
        arr = replace(base, position=pos[b], salience=sal[b], capability=cap[b])
        m = model if models is None else models[b]
        res = m.forecast_arrays(arr, rng=rngs[b])
        out[b] = res.outcome
        conv[b] = res.converged
    return out, conv


def _models_per_draw(model: ForecastModel, batch: DrawBatch) -> list[ForecastModel] | None:
    """One model instance per draw when the draws perturb this model's parameters."""
    perturbed = batch.params.get(model.name)
    if not perturbed:
        return None
    cache: dict[tuple[Any, ...], ForecastModel] = {}
    base = model.params.model_dump()
    out = []
    for b in range(batch.size):
        vals = {k: _plain(v[b]) for k, v in perturbed.items()}
        key = tuple(sorted((k, repr(v)) for k, v in vals.items()))
        if key not in cache:
            cls = type(getattr(model, "_model", model))  # unwrap a resolved model
            cache[key] = cls({**base, **vals})
        out.append(cache[key])
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def evaluate_batch(model: ForecastModel, batch: DrawBatch, base: ScenarioArrays,
                   scenario: Scenario, rngs: Sequence[np.random.Generator], *,
                   force_loop: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(outcome[B, m], converged[B, m])`` of ``model`` on every draw of ``batch``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        per_draw = _models_per_draw(model, batch)
        if needs_scenario(model):
            bsz = batch.size
            out = np.empty((bsz, base.n_issues))
            conv = np.empty((bsz, base.n_issues), dtype=bool)
            for b in range(bsz):
                m = model if per_draw is None else per_draw[b]
                f = m.forecast(batch_scenario(scenario, batch, b), rng=rngs[b])
                out[b] = f.outcome
                conv[b] = f.converged
            return out, conv
        sub, pos, sal, cap = batch.kept(base)
        if per_draw is not None or force_loop:
            return _loop(model, pos, sal, cap, sub, rngs, per_draw)
        fast = batch_adapter(model)
        if fast is None:
            return _loop(model, pos, sal, cap, sub, rngs)
        return fast(model, pos, sal, cap, sub, rngs)
