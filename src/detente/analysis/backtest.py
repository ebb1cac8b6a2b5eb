"""Backtests: score models on real outcomes, compare them with the compromise benchmark,
cross-validate fitted models by proposal, and check the calibration of interval forecasts.

Errors are absolute differences between forecast and recorded outcome, expressed in points
of a 0-100 rescaling of each issue's scale (on DEU data, where every scale is 0-100, plain
points). An issue is scored when its scenario's ``meta.outcome`` is present and at least
three actors have a stance (the DEU convention, ``../shared/data/deu/README.md``).

The comparison with the compromise model uses paired differences of absolute errors on the
issues both models scored. Its interval is a percentile bootstrap that resamples whole
proposals (``meta.prnr``; each issue is its own group when there is none): issues of one
proposal share their negotiation, so resampling issues one by one would understate the
uncertainty.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from detente.errors import InputFileError, NotConvergedWarning
from detente.models.base import Forecast, ForecastModel
from detente.random import as_generator, spawn
from detente.scenario.schema import Scenario

__all__ = [
    "BacktestCase",
    "BacktestResult",
    "IntervalCoverage",
    "ModelScore",
    "PairedDifference",
    "backtest",
    "backtest_cases",
    "cross_validated_predictions",
    "grouped_folds",
    "interval_calibration",
    "interval_coverage",
    "load_backtest_cases",
    "conformal_coverage",
    "fitted_on_digest",
    "fitted_on_file",
    "flag_in_sample",
    "montecarlo_coverage",
    "paired_difference",
    "predict",
    "score_predictions",
]

Format = Literal["deu", "cases"]
MIN_ACTORS = 3


@dataclass(frozen=True)
class BacktestCase:
    """One scoreable issue: its scenario, the recorded outcome and its proposal group."""

    scenario: Scenario
    issue_id: str
    outcome: float
    group: str
    scale_min: float
    scale_max: float

    @property
    def width(self) -> float:
        return self.scale_max - self.scale_min


def backtest_cases(scenarios: Iterable[Scenario], *, min_actors: int = MIN_ACTORS
                   ) -> tuple[list[BacktestCase], int]:
    """Scoreable issues of ``scenarios`` and the number of issues left out.

    Each scenario's ``meta.outcome`` is the recorded outcome of its (single) issue, or a
    mapping ``{issue_id: outcome}`` for multi-issue scenarios.
    """
    cases: list[BacktestCase] = []
    skipped = 0
    for s in scenarios:
        outcome = s.meta.get("outcome")
        for issue in s.issues:
            value = outcome.get(issue.id) if isinstance(outcome, Mapping) else (
                outcome if len(s.issues) == 1 else None)
            n = sum(1 for st in s.stances if st.issue == issue.id)
            if value is None or not math.isfinite(float(value)) or n < min_actors:
                skipped += 1
                continue
            group = str(s.meta.get("prnr") or s.meta.get("case_id") or s.id)
            cases.append(BacktestCase(s, issue.id, float(value), group, issue.scale_min,
                                      issue.scale_max))
    return cases, skipped


def load_backtest_cases(path: str | Path, fmt: Format = "deu", *,
                        actors_csv: str | Path | None = None,
                        by: Literal["proposal", "issue"] = "proposal"
                        ) -> tuple[list[BacktestCase], int]:
    """Read a DEU file or a cases CSV pair and return its scoreable issues and the number
    left out. DEU proposals are read as one scenario each (``by="proposal"``, so joint
    models such as exchange trade across a proposal's issues, as in Thomson et al. 2006)
    or one scenario per issue (``by="issue"``)."""
    if fmt == "deu":
        from detente.scenario.importers.deu import read_deu

        scenarios = read_deu(path, by=by)
    elif fmt == "cases":
        from detente.scenario.importers.cases import read_cases

        scenarios = read_cases(path, actors_csv)
    else:
        raise InputFileError(str(path), f"unknown backtest format {fmt!r}", field="format",
                             fix="use --format deu or --format cases")
    return backtest_cases(scenarios)


# ---------------------------------------------------------------------------------------
# forecasting and scoring


@dataclass(frozen=True)
class Predictions:
    """One model's forecasts on the cases (NaN where it was skipped)."""

    model: str
    values: np.ndarray
    skipped: Counter[str] = field(default_factory=Counter)
    not_converged: int = 0


def predict(model: ForecastModel, cases: Sequence[BacktestCase], *, seed: int = 0,
            progress: Callable[[int], None] | None = None) -> Predictions:
    """Forecast every case; a model that raises a detente error on a case is skipped there
    (reason counted), one that does not converge still counts with its last round.

    Cases that share a scenario (the issues of one proposal) share one forecast, run with
    the random stream of the first of them."""
    values = np.full(len(cases), np.nan)
    skipped: Counter[str] = Counter()
    not_conv = 0
    streams = spawn(seed, len(cases)) if cases else []
    runs: dict[int, tuple[Forecast | None, str | None, bool]] = {}
    for k, case in enumerate(cases):
        key = id(case.scenario)
        if key not in runs:
            runs[key] = _run_one(model, case.scenario, streams[k])
        forecast, reason, unconverged = runs[key]
        if forecast is None and model.tags.per_issue and len(case.scenario.issues) > 1:
            forecast, reason, unconverged = _run_one(
                model, _issue_only(case.scenario, case.issue_id), streams[k])
        if forecast is None:
            skipped[str(reason)] += 1
        else:
            try:
                values[k] = forecast.outcome_of(case.issue_id)
            except Exception as exc:  # noqa: BLE001
                skipped[_reason(exc)] += 1
            not_conv += unconverged
        if progress is not None:
            progress(1)
    return Predictions(model.name, values, skipped, not_conv)


def _run_one(model: ForecastModel, scenario: Scenario, stream: Any
             ) -> tuple[Forecast | None, str | None, bool]:
    """(forecast or None, reason it failed, whether it did not converge)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NotConvergedWarning)
        try:
            forecast: Forecast | None = model.forecast(scenario, rng=as_generator(stream))
            reason = None
        except Exception as exc:  # noqa: BLE001 - a failing model is skipped, not fatal
            forecast, reason = None, _reason(exc)
    return forecast, reason, any(issubclass(w.category, NotConvergedWarning) for w in caught)


def _issue_only(scenario: Scenario, issue_id: str) -> Scenario:
    """``scenario`` cut down to one issue, for a per-issue model that failed on another of
    its issues (e.g. status_quo where one issue has no reference point)."""
    return scenario.model_copy(update={
        "issues": (scenario.issue(issue_id),),
        "stances": tuple(s for s in scenario.stances if s.issue == issue_id)})


def fitted_on_file(path: str | Path, models: Iterable[str]) -> dict[str, float | None]:
    """The models among ``models`` whose shipped parameters were fitted on this very file
    (same SHA-256 as their fit record), each with its cross-validated MAE: their MAE on
    the file is in-sample and flatters them."""
    import hashlib

    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return {}
    return fitted_on_digest(digest, models)


def fitted_on_digest(sha256: str, models: Iterable[str]) -> dict[str, float | None]:
    """:func:`fitted_on_file` for a file known by its SHA-256 (e.g. an upload)."""
    from detente.models.fitted import fitted_record

    found: dict[str, float | None] = {}
    for name in models:
        try:
            rec = fitted_record(name)
        except (FileNotFoundError, ValueError):
            continue
        if rec.get("fitted_on", {}).get("sha256") == sha256:
            found[name] = rec.get("cross_validation", {}).get("cv_mae_mean")
    return found


def flag_in_sample(scores: Sequence[ModelScore], fitted: Mapping[str, float | None]
                   ) -> list[ModelScore]:
    """``scores`` with a note on each model in ``fitted`` (see :func:`fitted_on_file`)."""
    def cv(v: float | None) -> str:
        return "not recorded" if v is None else f"{v:.2f}"

    return [replace(s, note=f"fitted on this file, so this MAE is in-sample; its "
                            f"cross-validated MAE is {cv(fitted[s.model])} (docs/backtest.md)")
            if s.model in fitted else s for s in scores]


def _reason(exc: Exception) -> str:
    # group messages that differ only by the quoted issue id
    text = re.sub(r"'[^']*'", "'…'", str(exc))
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def _errors(cases: Sequence[BacktestCase], values: np.ndarray) -> np.ndarray:
    out = np.array([c.outcome for c in cases], dtype=float)
    width = np.array([c.width for c in cases], dtype=float)
    return np.abs(np.asarray(values, dtype=float) - out) / width * 100.0


@dataclass(frozen=True)
class PairedDifference:
    """Model minus baseline absolute error, on the issues both scored (negative = better)."""

    baseline: str
    n: int
    mean: float
    ci_low: float
    ci_high: float
    share_better: float
    share_worse: float
    n_boot: int
    seed: int
    level: float = 0.95
    resampled: str = "proposal"

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "n": self.n, "mean": _r(self.mean),
                "ci_low": _r(self.ci_low), "ci_high": _r(self.ci_high), "level": self.level,
                "share_better": _r(self.share_better), "share_worse": _r(self.share_worse),
                "n_boot": self.n_boot, "seed": self.seed, "resampled": self.resampled}


def paired_difference(err: np.ndarray, base_err: np.ndarray, groups: Sequence[str], *,
                      baseline: str = "compromise", n_boot: int = 2000, seed: int = 0,
                      level: float = 0.95) -> PairedDifference:
    """Mean paired difference with a cluster (by group) percentile bootstrap interval."""
    ok = ~np.isnan(err) & ~np.isnan(base_err)
    d = (err - base_err)[ok]
    g = np.asarray(groups)[ok]
    if d.size == 0:
        nan = float("nan")
        return PairedDifference(baseline, 0, nan, nan, nan, nan, nan, n_boot, seed, level)
    labels, idx = np.unique(g, return_inverse=True)
    sums = np.bincount(idx, weights=d)
    counts = np.bincount(idx).astype(float)
    rng = as_generator(seed)
    draws = rng.integers(0, labels.size, size=(n_boot, labels.size))
    boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(boot, [a, 1 - a])
    return PairedDifference(baseline, int(d.size), float(d.mean()), float(lo), float(hi),
                            float(np.mean(d < -1e-9)), float(np.mean(d > 1e-9)), n_boot, seed,
                            level, "proposal" if labels.size < d.size else "issue")


@dataclass(frozen=True)
class ModelScore:
    """Accuracy of one model on the scored issues (errors in 0-100 points)."""

    model: str
    n: int
    n_skipped: int
    mae: float
    median_ae: float
    within_10: float
    within_20: float
    errors: np.ndarray
    predictions: np.ndarray
    skipped: Mapping[str, int] = field(default_factory=dict)
    not_converged: int = 0
    diff_vs_compromise: PairedDifference | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model, "n": self.n, "mae": _r(self.mae),
            "median_ae": _r(self.median_ae), "within_10": _r(self.within_10),
            "within_20": _r(self.within_20), "skipped": self.n_skipped,
            "skipped_reasons": dict(self.skipped), "not_converged": self.not_converged,
            "diff_vs_compromise": None if self.diff_vs_compromise is None
            else self.diff_vs_compromise.to_dict(),
        }
        if self.note:
            d["note"] = self.note
        return d


def _r(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 4)


def score_predictions(cases: Sequence[BacktestCase], predictions: Predictions | np.ndarray,
                      *, model: str | None = None, baseline: np.ndarray | None = None,
                      baseline_name: str = "compromise", n_boot: int = 2000, seed: int = 0,
                      note: str | None = None) -> ModelScore:
    """Score forecasts (``Predictions`` or a plain array aligned to ``cases``)."""
    if isinstance(predictions, Predictions):
        values, name = predictions.values, predictions.model
        skipped, not_conv = dict(predictions.skipped), predictions.not_converged
    else:
        values, name, skipped, not_conv = np.asarray(predictions, float), model or "?", {}, 0
    err = _errors(cases, values)
    ok = err[~np.isnan(err)]
    nan = float("nan")
    diff = None
    if baseline is not None:
        diff = paired_difference(err, _errors(cases, baseline), [c.group for c in cases],
                                 baseline=baseline_name, n_boot=n_boot, seed=seed)
    return ModelScore(
        model=model or name, n=int(ok.size), n_skipped=int(np.isnan(err).sum()),
        mae=float(ok.mean()) if ok.size else nan,
        median_ae=float(np.median(ok)) if ok.size else nan,
        within_10=float(np.mean(ok <= 10)) if ok.size else nan,
        within_20=float(np.mean(ok <= 20)) if ok.size else nan,
        errors=err, predictions=values, skipped=skipped, not_converged=not_conv,
        diff_vs_compromise=diff, note=note)


@dataclass(frozen=True)
class BacktestResult:
    source: str
    n_issues: int
    n_unscoreable: int
    scores: list[ModelScore]

    def score(self, model: str) -> ModelScore:
        for s in self.scores:
            if s.model == model:
                return s
        raise KeyError(model)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "n_scored_issues": self.n_issues,
                "n_unscoreable": self.n_unscoreable,
                "error_units": "absolute error in points of a 0-100 rescaling of each scale",
                "models": [s.to_dict() for s in self.scores]}


def backtest(cases: Sequence[BacktestCase], models: Sequence[ForecastModel], *,
             n_unscoreable: int = 0, source: str = "", seed: int = 0, n_boot: int = 2000,
             progress: Callable[[int], None] | None = None) -> BacktestResult:
    """Score each model on every case and compare it with the compromise model (which is
    run too when it is not among ``models``)."""
    from detente.models.baselines import CompromiseModel

    base = next((m for m in models if m.name == "compromise"
                 and m.params == CompromiseModel().params), None)
    base_pred = predict(base or CompromiseModel(), cases, seed=seed,
                        progress=None if base is None else progress)
    scores = []
    for m in models:
        pred = base_pred if m is base else predict(m, cases, seed=seed, progress=progress)
        scores.append(score_predictions(cases, pred, baseline=base_pred.values, n_boot=n_boot,
                                        seed=seed))
    if source:
        scores = flag_in_sample(scores, fitted_on_file(source, [m.name for m in models]))
    return BacktestResult(source, len(cases), n_unscoreable, scores)


# ---------------------------------------------------------------------------------------
# cross-validation


def grouped_folds(groups: Sequence[str], k: int = 10, *, seed: int = 0) -> list[np.ndarray]:
    """Test-index arrays of ``k`` folds; every group (proposal) lies in exactly one fold.

    Groups are shuffled with ``seed`` and dealt round-robin, so folds have similar numbers
    of proposals.
    """
    labels = np.unique(np.asarray(groups))
    if k < 2 or k > labels.size:
        raise ValueError(f"k must be between 2 and the number of groups ({labels.size}), got {k}")
    rng = as_generator(seed)
    order = labels[rng.permutation(labels.size)]
    fold_of = {g: i % k for i, g in enumerate(order)}
    g = np.asarray(groups)
    return [np.flatnonzero([fold_of[x] == i for x in g]) for i in range(k)]


def cross_validated_predictions(
    cases: Sequence[BacktestCase],
    fit_predict: Callable[[Sequence[BacktestCase], Sequence[BacktestCase]], np.ndarray],
    *, k: int = 10, seed: int = 0,
) -> np.ndarray:
    """Out-of-fold predictions: for each fold, ``fit_predict(train, test)`` fits on the
    other folds only and returns forecasts for the held-out cases."""
    out = np.full(len(cases), np.nan)
    for test in grouped_folds([c.group for c in cases], k, seed=seed):
        mask = np.zeros(len(cases), dtype=bool)
        mask[test] = True
        train = [c for c, t in zip(cases, mask, strict=True) if not t]
        held = [cases[i] for i in test]
        out[test] = np.asarray(fit_predict(train, held), dtype=float)
    return out


# ---------------------------------------------------------------------------------------
# calibration of interval forecasts


@dataclass(frozen=True)
class IntervalCoverage:
    """Share of outcomes inside the [lower, upper] quantile interval."""

    lower: float
    upper: float
    nominal: float
    n: int
    coverage: float
    below: float
    above: float
    mean_width: float

    def to_dict(self) -> dict[str, Any]:
        return {"interval": [self.lower, self.upper], "nominal": _r(self.nominal), "n": self.n,
                "coverage": _r(self.coverage), "below": _r(self.below),
                "above": _r(self.above), "mean_width": _r(self.mean_width)}


def interval_coverage(quantiles: Mapping[float, Sequence[float] | np.ndarray],
                      outcomes: Sequence[float] | np.ndarray,
                      intervals: Iterable[tuple[float, float]] = ((0.05, 0.95), (0.25, 0.75)),
                      ) -> list[IntervalCoverage]:
    """Coverage of central intervals built from per-issue forecast quantiles.

    ``quantiles`` maps a probability (e.g. 0.05) to an array with that quantile of the
    forecast distribution for each issue; ``outcomes`` are the recorded outcomes. An
    interval [q_lo, q_hi] is well calibrated when the share of outcomes inside it is close to
    ``q_hi - q_lo``. Endpoints count as inside (forecast distributions of point-mass models
    have zero width). Issues with a NaN quantile or outcome are left out.
    """
    y = np.asarray(outcomes, dtype=float)
    result = []
    for lo_q, hi_q in intervals:
        if lo_q not in quantiles or hi_q not in quantiles:
            have = ", ".join(f"{q:g}" for q in sorted(quantiles))
            raise ValueError(f"interval ({lo_q:g}, {hi_q:g}) needs quantiles {lo_q:g} and "
                             f"{hi_q:g}; have {have}")
        if not 0 <= lo_q < hi_q <= 1:
            raise ValueError(f"interval ({lo_q}, {hi_q}) must satisfy 0 <= low < high <= 1")
        lo = np.asarray(quantiles[lo_q], dtype=float)
        hi = np.asarray(quantiles[hi_q], dtype=float)
        if lo.shape != y.shape or hi.shape != y.shape:
            raise ValueError(f"quantile arrays must have one value per outcome ({y.size})")
        ok = ~(np.isnan(lo) | np.isnan(hi) | np.isnan(y))
        if np.any(lo[ok] > hi[ok] + 1e-12):
            raise ValueError(f"quantile {lo_q:g} exceeds quantile {hi_q:g} on some issue")
        yy, ll, hh = y[ok], lo[ok], hi[ok]
        n = int(ok.sum())
        nan = float("nan")
        result.append(IntervalCoverage(
            lower=lo_q, upper=hi_q, nominal=hi_q - lo_q, n=n,
            coverage=float(np.mean((yy >= ll) & (yy <= hh))) if n else nan,
            below=float(np.mean(yy < ll)) if n else nan,
            above=float(np.mean(yy > hh)) if n else nan,
            mean_width=float(np.mean(hh - ll)) if n else nan))
    return result


def montecarlo_coverage(cases: Sequence[BacktestCase], model: str = "compromise", *,
                        n: int = 200, seed: int = 0,
                        intervals: Iterable[tuple[float, float]] = ((0.05, 0.95), (0.25, 0.75)),
                        params: Mapping[str, Any] | None = None,
                        progress: Callable[[int], None] | None = None,
                        ) -> list[IntervalCoverage]:
    """Coverage of the Monte Carlo forecast intervals of ``model`` on ``cases``.

    Runs :func:`detente.simulate.montecarlo.montecarlo` (the scenario's uncertainty, or
    the default input priors; serial executor; ``n`` draws; ``params`` overrides the
    model's parameters) once per scenario, seeded with ``seed`` plus the index of its first
    case, and scores the intervals with :func:`interval_coverage` on the 0-100 rescaled
    outcomes.
    """
    from detente.simulate.montecarlo import MonteCarloResult, montecarlo

    intervals = list(intervals)
    probs = sorted({q for pair in intervals for q in pair})
    qs = {q: np.full(len(cases), np.nan) for q in probs}
    y = np.empty(len(cases))
    runs: dict[int, MonteCarloResult] = {}
    for k, c in enumerate(cases):
        key = id(c.scenario)
        if key not in runs:
            runs[key] = montecarlo(c.scenario, [model], n=n, seed=seed + k, executor="serial",
                                   params={model: dict(params)} if params else None)
        vals = np.asarray(runs[key].quantiles(model, c.issue_id, probs), dtype=float)
        for q, v in zip(probs, vals, strict=True):
            qs[q][k] = (v - c.scale_min) / c.width * 100.0
        y[k] = (c.outcome - c.scale_min) / c.width * 100.0
        if progress is not None:
            progress(1)
    return interval_coverage(qs, y, intervals)


def conformal_coverage(cases: Sequence[BacktestCase], predictions: np.ndarray, *,
                       levels: Iterable[float] = (0.5, 0.9), k: int = 10, seed: int = 0
                       ) -> list[IntervalCoverage]:
    """Coverage of outcome intervals built from a model's own past errors (cross-conformal).

    For the held-out proposals of each grouped fold the interval is the forecast ± the
    ``level`` quantile of the absolute errors on the other folds, with the finite-sample
    rank ``ceil((n + 1) level)`` of split conformal prediction (Vovk, Gammerman & Shafer
    2005; Lei et al. 2018, JASA 113(523)), clipped to the scale. Pass out-of-fold forecasts
    for fitted models. Unlike the Monte Carlo intervals these include the model's own error,
    so they are what an outcome interval should be; their width says how much to trust a
    point forecast. Errors and widths on 0-100.
    """
    pred = _errors_scale(cases, np.asarray(predictions, dtype=float))
    y = _errors_scale(cases, np.array([c.outcome for c in cases]))
    ok = ~np.isnan(pred)
    resid = np.abs(pred - y)
    folds = grouped_folds([c.group for c in cases], k, seed=seed)
    result = []
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"level {level} must be between 0 and 1")
        lo, hi = np.full(len(cases), np.nan), np.full(len(cases), np.nan)
        for test in folds:
            train = np.setdiff1d(np.where(ok)[0], test)
            r = np.sort(resid[train])
            rank = min(int(np.ceil((len(r) + 1) * level)), len(r)) - 1
            q = r[rank] if len(r) else np.nan
            lo[test] = np.clip(pred[test] - q, 0.0, 100.0)
            hi[test] = np.clip(pred[test] + q, 0.0, 100.0)
        tail = (1.0 - level) / 2.0
        result.extend(interval_coverage({tail: lo, 1.0 - tail: hi}, y,
                                        [(tail, 1.0 - tail)]))
    return result


def _errors_scale(cases: Sequence[BacktestCase], values: np.ndarray) -> np.ndarray:
    """``values`` on each case's scale rescaled to 0-100."""
    lo = np.array([c.scale_min for c in cases])
    return (values - lo) / np.array([c.width for c in cases]) * 100.0


def interval_calibration(cases: Sequence[BacktestCase], result: BacktestResult, *,
                         draws: int, seed: int = 0,
                         params: Mapping[str, Mapping[str, Any]] | None = None,
                         progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """For each model scored in ``result``: coverage of its 90% and 50% Monte Carlo
    intervals (``draws`` per scenario; ``params`` per model name) and of its cross-conformal
    intervals, as JSON-ready dicts. A model the Monte Carlo cannot run gets
    ``montecarlo: None`` and the reason in ``montecarlo_error``."""
    from detente.errors import DetenteError

    params = params or {}
    out: dict[str, Any] = {}
    for s in result.scores:
        entry: dict[str, Any] = {"montecarlo": None, "montecarlo_error": None}
        try:
            mc = montecarlo_coverage(cases, s.model, n=draws, seed=seed,
                                     params=params.get(s.model), progress=progress)
            entry["montecarlo"] = [c.to_dict() for c in mc]
        except DetenteError as exc:
            entry["montecarlo_error"] = str(exc)
        entry["conformal"] = [c.to_dict() for c in conformal_coverage(
            cases, s.predictions, seed=seed, levels=(0.9, 0.5))]
        out[s.model] = entry
    return out
