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

Round paths (fan charts)
------------------------
:func:`evaluate_batch_paths` also returns, for round-based models, ``path[B, R + 1, m]``: the
model's group forecast after each round (round 0: the initial positions), cut or padded
(with the last value) to ``R + 1`` rows. Where it comes from: the expected-utility model's
per-round median/mean (``solve_batch``'s ``path``, or ``details[issue]['median'|'mean']``
on the loop path); the spatial model's PCE-probability-weighted mean (or most probable
position) of each round's positions; the exchange model's per-round ``outcome`` records
(round 0: the first round's pre-exchange ``expected`` outcome). Other models have no path.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
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
    "evaluate_batch_paths",
    "has_round_path",
    "round_path",
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
    out, conv, _ = _expected_utility_paths(model, pos, sal, cap, base, rngs, 0)
    return out, conv


def _expected_utility_paths(model: Any, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
                            base: ScenarioArrays, rngs: Sequence[np.random.Generator],
                            rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    from detente.models import expected_utility as eu

    solve = getattr(eu, "solve_batch", None)
    if solve is None:  # pragma: no cover - older model module
        return _loop(model, pos, sal, cap, base, rngs, rows=rows)
    _check_issues(base, model.name)
    bsz = pos.shape[0]
    out = np.empty((bsz, base.n_issues))
    conv = np.empty((bsz, base.n_issues), dtype=bool)
    path = np.empty((bsz, rows, base.n_issues)) if rows else None
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
        if path is not None:
            path[:, :, k] = _fit_rows(res.path[:bsz], rows)
    return out, conv, path


#: batch forecasts that also return the per-round path (``rows`` > 0)
_PATH_ADAPTERS = {"expected_utility": _expected_utility_paths}


# ---------------------------------------------------------------------------------------
# the general paths


def _loop(model: ForecastModel, pos: np.ndarray, sal: np.ndarray, cap: np.ndarray,
          base: ScenarioArrays, rngs: Sequence[np.random.Generator],
          models: Sequence[ForecastModel] | None = None, rows: int = 0
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    bsz = pos.shape[0]
    out = np.empty((bsz, base.n_issues))
    conv = np.empty((bsz, base.n_issues), dtype=bool)
    path = np.empty((bsz, rows, base.n_issues)) if rows else None
    for b in range(bsz):
        arr = replace(base, position=pos[b], salience=sal[b], capability=cap[b])
        m = model if models is None else models[b]
        res = m.forecast_arrays(arr, rng=rngs[b])
        out[b] = res.outcome
        conv[b] = res.converged
        if path is not None:
            path[b] = _fit_rows(round_path(m, res, arr).T, rows).T
    return out, conv, path


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
            inner: ForecastModel = getattr(model, "_model", model)  # unwrap a resolved model
            cls = type(inner)
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
    out, conv, _ = _evaluate(model, batch, base, scenario, rngs, force_loop, 0)
    return out, conv


def evaluate_batch_paths(model: ForecastModel, batch: DrawBatch, base: ScenarioArrays,
                         scenario: Scenario, rngs: Sequence[np.random.Generator], *,
                         rounds: int, force_loop: bool = False
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """As :func:`evaluate_batch`, plus ``path[B, rounds + 1, m]`` (the group forecast after
    each round, see the module docstring) for round-based models; ``None`` for others."""
    if rounds < 0:
        raise ValueError(f"rounds {rounds}: use a non-negative number of rounds")
    rows = rounds + 1 if has_round_path(model) else 0
    return _evaluate(model, batch, base, scenario, rngs, force_loop, rows)


def _evaluate(model: ForecastModel, batch: DrawBatch, base: ScenarioArrays,
              scenario: Scenario, rngs: Sequence[np.random.Generator], force_loop: bool,
              rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        per_draw = _models_per_draw(model, batch)
        if needs_scenario(model):
            from detente.scenario.arrays import scenario_arrays

            bsz = batch.size
            out = np.empty((bsz, base.n_issues))
            conv = np.empty((bsz, base.n_issues), dtype=bool)
            path = np.empty((bsz, rows, base.n_issues)) if rows else None
            for b in range(bsz):
                m = model if per_draw is None else per_draw[b]
                sc = batch_scenario(scenario, batch, b)
                f = m.forecast(sc, rng=rngs[b])
                out[b] = f.outcome
                conv[b] = f.converged
                if path is not None:
                    path[b] = _fit_rows(round_path(m, f, scenario_arrays(sc)).T, rows).T
            return out, conv, path
        sub, pos, sal, cap = batch.kept(base)
        if per_draw is not None or force_loop:
            return _loop(model, pos, sal, cap, sub, rngs, per_draw, rows)
        if rows and _model_name(model) in _PATH_ADAPTERS and not callable(
                getattr(model, "forecast_batch", None)):
            return _PATH_ADAPTERS[_model_name(model)](model, pos, sal, cap, sub, rngs, rows)
        fast = batch_adapter(model)
        if fast is None:
            return _loop(model, pos, sal, cap, sub, rngs, rows=rows)
        out, conv = fast(model, pos, sal, cap, sub, rngs)
        if rows:  # a model's own forecast_batch without paths: loop for the paths
            return _loop(model, pos, sal, cap, sub, rngs, rows=rows)
        return out, conv, None


# ---------------------------------------------------------------------------------------
# per-round group forecasts (fan charts)

PathExtractor = Callable[[Any, Any, ScenarioArrays], np.ndarray]
_PATHS: dict[str, PathExtractor] = {}


def _fit_rows(path: np.ndarray, rows: int) -> np.ndarray:
    """``[B, T]`` -> ``[B, rows]``: cut, or pad with each row's last value."""
    path = np.asarray(path, dtype=float)
    t = path.shape[1]
    if t >= rows:
        return path[:, :rows]
    return np.concatenate([path, np.repeat(path[:, -1:], rows - t, axis=1)], axis=1)


def _model_name(model: Any) -> str:
    return str(getattr(model, "name", ""))


def has_round_path(model: Any) -> bool:
    """True when the Monte Carlo can record ``model``'s group forecast round by round."""
    return _model_name(model) in _PATHS


def round_path(model: Any, result: Any, arrays: ScenarioArrays) -> np.ndarray:
    """``[T + 1, m]``: ``model``'s group forecast after each round of one forecast
    (a :class:`~detente.models.base.Forecast` or ``RunResult`` on ``arrays``)."""
    fn = _PATHS.get(_model_name(model))
    if fn is None:
        raise ModelError(f"{_model_name(model)}: no per-round forecast to record")
    return fn(model, result, arrays)


def _register_path(name: str) -> Callable[[PathExtractor], PathExtractor]:
    def deco(fn: PathExtractor) -> PathExtractor:
        _PATHS[name] = fn
        return fn

    return deco


def _stack(cols: list[list[float]], fallback: np.ndarray) -> np.ndarray:
    """Columns of unequal length (one per issue) -> ``[T + 1, m]``, padded with last values."""
    t = max((len(c) for c in cols), default=0)
    out = np.empty((max(t, 1), len(cols)))
    for k, c in enumerate(cols):
        if not c:
            out[:, k] = fallback[k]
        else:
            out[:len(c), k] = c
            out[len(c):, k] = c[-1]
    return out


@_register_path("expected_utility")
def _eu_path(model: Any, res: Any, arrays: ScenarioArrays) -> np.ndarray:
    cols = []
    for iss in arrays.issue_ids:
        det = res.details.get(iss) or {}
        kind = (det.get("forecast") or {}).get("kind", "median")
        cols.append([float(v) for v in det.get(kind, [])])
    return _stack(cols, np.asarray(res.outcome, dtype=float))


@_register_path("exchange")
def _exchange_path(model: Any, res: Any, arrays: ScenarioArrays) -> np.ndarray:
    rounds = res.details.get("rounds") or []
    cols = []
    for iss in arrays.issue_ids:
        col = []
        if rounds and iss in (rounds[0].get("expected") or {}):
            col.append(float(rounds[0]["expected"][iss]))
        col.extend(float(r["outcome"][iss]) for r in rounds if iss in (r.get("outcome") or {}))
        cols.append(col)
    return _stack(cols, np.asarray(res.outcome, dtype=float))


@_register_path("spatial")
def _spatial_path(model: Any, res: Any, arrays: ScenarioArrays) -> np.ndarray:
    """The model's own forecast rule after every turn (``details['outcomes']['path']``)."""
    path = (res.details.get("outcomes") or {}).get("path") or {}
    return _stack([list(path.get(iss, [])) for iss in arrays.issue_ids],
                  np.asarray(res.outcome, dtype=float))
