"""Monte Carlo forecasts: N perturbed draws of any model, on any executor.

>>> from detente.scenario.load import load_scenario
>>> from detente.simulate.montecarlo import montecarlo
>>> r = montecarlo(load_scenario("emission-bdm1994"), ["compromise"], n=200, seed=1,
...                executor="serial")
>>> r.outcome.shape            # [model, draw, issue]
(1, 200, 1)

Reproducibility: draw b always uses ``detente.random.spawn(seed, n)[b]``; draws are grouped
into chunks by draw number only (``chunk_size`` depends on ``n``, never on the executor), and
the batched models compute each draw independently of the others in its chunk. The same
seed therefore gives bit-identical ensembles on the serial, process and Dask executors and
with any number of workers.

Ctrl-C (``KeyboardInterrupt``) while draws run stops the run and returns the draws finished
so far, with ``partial=True``.

Round paths (``paths=True``): for round-based models (expected utility, spatial, exchange)
every draw's group forecast after each round is recorded too, and summarised as 5/25/50/75/95 %
quantiles per round and issue (:class:`PathQuantiles`, ``result.paths[model]``), the data of a
fan chart. Memory stays bounded whatever the number of draws: the parent keeps, per model,
round and issue, a histogram of the draws' forecasts over the issue's scale
(:data:`PATH_BINS` bins; quantiles are read from it to within 1/PATH_BINS of the scale
width) instead of the draws themselves; rounds beyond ``path_rounds`` are cut. Histogram
counts add up the same in any order, so the quantiles are identical on every executor.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detente.errors import DetenteError
from detente.models.base import ForecastModel
from detente.random import spawn
from detente.scenario.schema import Scenario, Uncertainty
from detente.simulate.executors import ExecutorHandle, open_executor
from detente.simulate.perturb import DEFAULT_PRIOR, compile_plan
from detente.simulate.run import Job, pack_job, run_chunk, run_job_chunk
from detente.simulate.whatif import Intervention

__all__ = [
    "MonteCarloResult",
    "PATH_BINS",
    "PathQuantiles",
    "QUANTILES",
    "VariantRun",
    "default_chunk_size",
    "executor_context",
    "montecarlo",
    "resolve_models",
    "resolve_uncertainty",
    "run_variants",
]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: histogram bins per issue scale for round-path quantiles (resolution: 0.1 % of the width)
PATH_BINS = 1000
#: default cap on recorded rounds (the models' default round caps are far lower)
PATH_ROUNDS = 50


def default_chunk_size(n: int) -> int:
    """Draws per task, a function of ``n`` only (so results never depend on the executor):
    about 16 tasks, between 25 and 1000 draws each (large enough that batched models
    amortise their per-call overhead, small enough to balance a few workers and to lose
    little on Ctrl-C)."""
    return int(min(1000, max(25, math.ceil(n / 16))))


def resolve_uncertainty(scenario: Scenario,
                        uncertainty: Sequence[Uncertainty | Mapping[str, Any]] | None
                        ) -> tuple[Uncertainty, ...]:
    """The entries to sample: ``uncertainty`` (entries or plain mappings) when given, else
    the scenario's own, else the default prior."""
    if uncertainty is None:
        return tuple(scenario.uncertainty) or DEFAULT_PRIOR
    return tuple(u if isinstance(u, Uncertainty) else Uncertainty(**dict(u))
                 for u in uncertainty)


def resolve_models(models: Iterable[Any], params: Mapping[str, Mapping[str, Any]] | None = None
                   ) -> list[ForecastModel]:
    """Model instances from names, instances or ``(name, params)`` pairs."""
    from detente.models.registry import get_model

    params = params or {}
    out: list[ForecastModel] = []
    for m in models:
        if isinstance(m, ForecastModel):
            out.append(m)
        elif isinstance(m, str):
            out.append(get_model(m, **dict(params.get(m, {}))))
        else:
            name, prm = m
            out.append(get_model(name, **dict(prm)))
    if not out:
        raise DetenteError("no model given; pass --model NAME (see `detente models`)")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise DetenteError(f"model listed twice: {', '.join(names)}")
    return out


@dataclass(frozen=True, eq=False)
class VariantRun:
    """Raw output of :func:`run_variants` (``[variant, model, draw, issue]``)."""

    outcome: np.ndarray
    converged: np.ndarray
    point: np.ndarray  # [variant, model, issue]
    draws: np.ndarray  # completed draw numbers, ascending
    partial: bool
    elapsed: float
    executor: str
    workers: int
    agreement: np.ndarray | None = None  # [variant, draw, issue] int8 (1/0, -1 n/a)
    point_agreement: np.ndarray | None = None  # [variant, issue]
    #: model index -> [variant, round, issue, PATH_BINS] histogram counts of round paths
    path_counts: dict[int, np.ndarray] | None = None
    path_point: dict[int, np.ndarray] | None = None  # model index -> [variant, round, issue]
    path_last: int = 0  # last round in which any draw's forecast still changed


class _PathHistograms:
    """Per model, variant, round and issue: counts of the draws' forecasts in PATH_BINS bins
    of the issue's scale (bounded memory; the same counts in any order of chunks)."""

    def __init__(self, scale_min: np.ndarray, scale_max: np.ndarray, rows: int) -> None:
        self.lo = np.asarray(scale_min, dtype=float)
        self.width = np.asarray(scale_max, dtype=float) - self.lo
        self.rows = rows
        self.counts: dict[int, np.ndarray] = {}
        self.last = 0

    def add(self, paths: dict[int, np.ndarray]) -> None:
        for j, arr in paths.items():  # [V, B, rows, m]
            nv, _, rows, m = arr.shape
            x = arr.astype(float)
            if rows > 1:
                moved = np.any(x[:, :, 1:] != x[:, :, :-1], axis=(0, 1, 3))
                if moved.any():
                    self.last = max(self.last, int(np.flatnonzero(moved)[-1]) + 1)
            with np.errstate(invalid="ignore"):
                idx = np.floor((x - self.lo) / self.width * PATH_BINS)
            ok = np.isfinite(idx)
            idx = np.clip(np.where(ok, idx, 0), 0, PATH_BINS - 1).astype(np.int64)
            cell = (np.arange(nv)[:, None, None, None] * rows
                    + np.arange(rows)[None, None, :, None]) * m \
                + np.arange(m)[None, None, None, :]
            flat = (cell * PATH_BINS + idx)[ok]
            c = np.bincount(flat, minlength=nv * rows * m * PATH_BINS)
            c = c.reshape(nv, rows, m, PATH_BINS).astype(np.int32)
            if j in self.counts:
                self.counts[j] += c
            else:
                self.counts[j] = c


class _Progress:
    """A rich progress bar with draws per second and time left (stderr)."""

    def __init__(self, total: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._p = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} draws/s"), TimeElapsedColumn(),
            TextColumn("left"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False)
        self._t0 = time.perf_counter()
        self._task = self._p.add_task(label, total=total, rate="-")
        self._p.start()
        self._done = 0

    def advance(self, k: int) -> None:
        self._done += k
        dt = max(time.perf_counter() - self._t0, 1e-9)
        self._p.update(self._task, advance=k, rate=f"{self._done / dt:,.0f}")

    def close(self) -> None:
        self._p.stop()


def run_variants(scenario: Scenario, models: Sequence[Any],
                 variants: Sequence[tuple[str, Sequence[Intervention]]], *, n: int,
                 seed: int = 0, uncertainty: Sequence[Uncertainty | Mapping[str, Any]] | None
                 = None, executor: str | ExecutorHandle | Executor = "process",
                 workers: int | None = None, address: str | None = None,
                 progress: bool | Callable[[int, int], None] = False,
                 chunk_size: int | None = None, force_loop: bool = False,
                 agreement: bool = False, path_rounds: int = 0) -> VariantRun:
    """The engine behind :func:`montecarlo` and :func:`~detente.simulate.whatif.whatif`:
    ``n`` draws of every model under every variant, with common random numbers.
    ``path_rounds`` > 0 also records round-based models' per-round forecasts (rounds 0 to
    ``path_rounds``) as histograms (see the module docstring)."""
    if n < 0:
        raise DetenteError(f"-n {n}: the number of draws must be >= 0")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DetenteError(f"--seed {seed!r}: use a non-negative integer")
    if path_rounds < 0:
        raise DetenteError(f"path_rounds {path_rounds}: use 0 (no paths) or more rounds")
    ms = resolve_models(models)
    unc = resolve_uncertainty(scenario, uncertainty)
    compile_plan(scenario, unc)  # validate in the parent: errors name the entry
    vs = tuple((name, tuple(ivs)) for name, ivs in variants)
    # point forecasts: no perturbation, one pseudo-draw
    pjob = Job(scenario, (), tuple(ms), vs, force_loop, agreement, path_rounds)
    pplan = compile_plan(scenario, ())
    from detente.simulate.run import _prepare  # noqa: PLC0415 - same package

    digest0, blob0 = pack_job(pjob)
    _, _, pmodels = _prepare(digest0, blob0)
    pres = run_chunk(pjob, pplan, pmodels, 0, [np.random.SeedSequence(int(seed))])
    point = pres.outcome[:, :, 0, :]
    pagree = None if pres.agreement is None else pres.agreement[:, 0, :]
    m = len(scenario.issues)
    nv, nm = len(vs), len(ms)
    hists: _PathHistograms | None = None
    ppath: dict[int, np.ndarray] | None = None
    if pres.paths:
        from detente.scenario.arrays import scenario_arrays

        a0 = scenario_arrays(scenario)
        hists = _PathHistograms(a0.scale_min, a0.scale_max, path_rounds + 1)
        ppath = {j: p[:, 0].astype(float) for j, p in pres.paths.items()}
        for p in ppath.values():
            moved = np.any(p[:, 1:] != p[:, :-1], axis=(0, 2))
            if moved.any():
                hists.last = max(hists.last, int(np.flatnonzero(moved)[-1]) + 1)
    if n == 0:
        return VariantRun(np.empty((nv, nm, 0, m)), np.empty((nv, nm, 0, m), dtype=bool),
                          point, np.arange(0), False, 0.0, "none", 0,
                          None if pagree is None else np.empty((nv, 0, m), dtype=np.int8),
                          pagree, None if hists is None else {}, ppath,
                          0 if hists is None else hists.last)
    job = Job(scenario, unc, tuple(ms), vs, force_loop, agreement, path_rounds)
    digest, blob = pack_job(job)
    seeds = spawn(int(seed), n)
    size = chunk_size or default_chunk_size(n)
    starts = list(range(0, n, size))
    results: dict[int, Any] = {}
    bar: _Progress | None = None
    callback: Callable[[int, int], None] | None = None
    if progress is True:
        bar = _Progress(n, f"{scenario.id}: {', '.join(x.name for x in ms)}")
    elif callable(progress):
        callback = progress
    done = 0
    partial = False
    t0 = time.perf_counter()

    def note(k: int, res: Any) -> None:
        nonlocal done
        if hists is not None and res.paths:
            hists.add(res.paths)
        done += k
        if bar is not None:
            bar.advance(k)
        if callback is not None:
            callback(done, n)

    with _executor(executor, workers, address) as handle:
        pending: dict[Future[Any], int] = {}
        try:
            if handle.kind == "serial":
                for s in starts:
                    res = run_job_chunk(digest, blob, s, seeds[s:s + size])
                    results[s] = _drop_paths(res)
                    note(len(seeds[s:s + size]), res)
            else:
                for s in starts:
                    fut = handle.executor.submit(run_job_chunk, digest, blob, s,
                                                 seeds[s:s + size])
                    pending[fut] = s
                while pending:
                    finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                    for fut in finished:
                        s = pending.pop(fut)
                        res = fut.result()
                        results[s] = _drop_paths(res)
                        note(len(seeds[s:s + size]), res)
        except KeyboardInterrupt:
            partial = True
            for fut, s in list(pending.items()):
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    res = fut.result()
                    results[s] = _drop_paths(res)
                    if hists is not None and res.paths:
                        hists.add(res.paths)
                else:
                    fut.cancel()
        finally:
            if bar is not None:
                bar.close()
    elapsed = time.perf_counter() - t0
    order = sorted(results)
    if order:
        outcome = np.concatenate([results[s].outcome for s in order], axis=2)
        conv = np.concatenate([results[s].converged for s in order], axis=2)
        draws = np.concatenate([np.arange(s, s + results[s].outcome.shape[2]) for s in order])
        agree = (np.concatenate([results[s].agreement for s in order], axis=1)
                 if agreement else None)
    else:
        outcome = np.empty((nv, nm, 0, m))
        conv = np.empty((nv, nm, 0, m), dtype=bool)
        draws = np.arange(0)
        agree = np.empty((nv, 0, m), dtype=np.int8) if agreement else None
    return VariantRun(outcome, conv, point, draws, partial or len(draws) < n, elapsed,
                      handle.kind, handle.workers, agree, pagree,
                      None if hists is None else hists.counts, ppath,
                      0 if hists is None else hists.last)


def _drop_paths(res: Any) -> Any:
    """Keep a chunk's outcomes; its paths go into the histograms only (bounded memory)."""
    if getattr(res, "paths", None):
        from dataclasses import replace

        return replace(res, paths=None)
    return res


class _Borrowed:
    def __init__(self, handle: ExecutorHandle) -> None:
        self.handle = handle

    def __enter__(self) -> ExecutorHandle:
        return self.handle

    def __exit__(self, *exc: Any) -> None:
        return None


def _executor(executor: str | ExecutorHandle | Executor, workers: int | None,
              address: str | None) -> Any:
    if isinstance(executor, ExecutorHandle):
        return _Borrowed(executor)
    if isinstance(executor, Executor):
        return _Borrowed(ExecutorHandle(executor, type(executor).__name__, workers or 1))
    return open_executor(executor, workers, address=address)


executor_context = _executor
"""Open (or borrow) an executor from a kind name, an ExecutorHandle or an Executor."""


def _hist_quantiles(counts: np.ndarray, lo: float, width: float,
                    levels: Sequence[float]) -> np.ndarray:
    """``counts[..., PATH_BINS]`` -> ``[level, ...]``: the inverse of the histogram's CDF
    (linear inside a bin); NaN where no draw was counted."""
    cum = np.cumsum(counts, axis=-1, dtype=np.int64)
    total = cum[..., -1]
    out = np.full((len(levels), *counts.shape[:-1]), np.nan)
    w = width / counts.shape[-1]
    for li, q in enumerate(levels):
        target = q * total
        k = np.minimum(np.sum(cum < target[..., None], axis=-1), counts.shape[-1] - 1)
        before = np.where(k > 0, np.take_along_axis(
            cum, np.maximum(k - 1, 0)[..., None], axis=-1)[..., 0], 0)
        inbin = np.take_along_axis(counts, k[..., None], axis=-1)[..., 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(inbin > 0, (target - before) / inbin, 0.5)
        val = lo + (k + np.clip(frac, 0.0, 1.0)) * w
        out[li] = np.where(total > 0, val, np.nan)
    return out


@dataclass(frozen=True, eq=False)
class PathQuantiles:
    """One model's Monte Carlo fan: quantiles of its group forecast round by round.

    ``values[level, round, issue]`` for ``levels`` (5/25/50/75/95 %) over ``n`` draws, read
    from a histogram with :data:`PATH_BINS` bins per scale (accurate to 1/PATH_BINS of the
    scale width); ``point[round, issue]`` is the unperturbed forecast's path. Rounds run from
    0 (the initial positions) to the last round in which any draw still moved;
    ``truncated`` says the cap ``path_rounds`` cut longer runs.
    """

    model: str
    issue_ids: tuple[str, ...]
    levels: tuple[float, ...]
    values: np.ndarray
    point: np.ndarray
    n: int
    truncated: bool = False

    @property
    def rounds(self) -> int:
        return int(self.values.shape[1]) - 1

    def fan(self, issue: str | int) -> dict[str, Any]:
        """One issue's fan: ``{"x": rounds, "quantiles": {"0.05": [...], ...}, "point"}``."""
        k = issue if isinstance(issue, int) else self.issue_ids.index(issue)
        return {"x": list(range(self.rounds + 1)),
                "quantiles": {f"{q:g}": [float(v) for v in self.values[li, :, k]]
                              for li, q in enumerate(self.levels)},
                "point": [float(v) for v in self.point[:, k]]}

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "n": self.n, "rounds": self.rounds,
                "levels": list(self.levels), "truncated": self.truncated,
                "issues": {iss: self.fan(k) for k, iss in enumerate(self.issue_ids)}}


def _path_quantiles(run: VariantRun, v: int, models: Sequence[str],
                    issue_ids: tuple[str, ...], scale_min: np.ndarray,
                    scale_max: np.ndarray, path_rounds: int) -> dict[str, PathQuantiles]:
    if run.path_counts is None or run.path_point is None:
        return {}
    last = min(max(run.path_last, 1), path_rounds)
    out = {}
    width = np.asarray(scale_max, dtype=float) - np.asarray(scale_min, dtype=float)
    for j, counts in sorted(run.path_counts.items()):
        c = counts[v, :last + 1]  # [round, issue, bins]
        vals = np.stack([_hist_quantiles(c[:, k], float(scale_min[k]), float(width[k]),
                                         QUANTILES) for k in range(len(issue_ids))], axis=-1)
        out[models[j]] = PathQuantiles(
            model=models[j], issue_ids=issue_ids, levels=QUANTILES, values=vals,
            point=run.path_point[j][v, :last + 1], n=int(c[0, 0].sum()) if c.size else 0,
            truncated=run.path_last >= path_rounds)
    return out


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """An ensemble: ``outcome[model, draw, issue]`` and ``converged`` alike, the point
    forecasts ``point[model, issue]``, and how the run went."""

    scenario_id: str
    models: tuple[str, ...]
    issue_ids: tuple[str, ...]
    outcome: np.ndarray
    converged: np.ndarray
    point: np.ndarray
    draws: np.ndarray
    n_requested: int
    seed: int
    partial: bool
    elapsed: float
    executor: str
    workers: int
    scale_min: np.ndarray
    scale_max: np.ndarray
    uncertainty: tuple[Uncertainty, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    agreement: np.ndarray | None = None  # [draw, issue] int8: 1 non-empty, 0 empty, -1 n/a
    point_agreement: np.ndarray | None = None  # [issue]
    #: round-based models' fans (``paths=True``): model -> per-round quantiles
    paths: Mapping[str, PathQuantiles] = field(default_factory=dict)

    def agreement_probability(self) -> dict[str, float] | None:
        """Per issue, the share of draws whose two-level agreement set is non-empty (None
        when not computed; NaN when the scenario names no principal to ratify)."""
        if self.agreement is None:
            return None
        out = {}
        for k, iss in enumerate(self.issue_ids):
            a = self.agreement[:, k]
            ok = a >= 0
            out[iss] = float(np.mean(a[ok] == 1)) if ok.any() else math.nan
        return out

    @property
    def n_draws(self) -> int:
        return int(self.draws.size)

    @property
    def draws_per_second(self) -> float:
        return self.n_draws * len(self.models) / self.elapsed if self.elapsed > 0 else math.inf

    def _mi(self, model: str | int, issue: str | int) -> tuple[int, int]:
        j = model if isinstance(model, int) else self.models.index(model)
        k = issue if isinstance(issue, int) else self.issue_ids.index(issue)
        return j, k

    def values(self, model: str | int, issue: str | int) -> np.ndarray:
        j, k = self._mi(model, issue)
        return self.outcome[j, :, k]

    def quantiles(self, model: str | int, issue: str | int,
                  q: Sequence[float] = QUANTILES) -> np.ndarray:
        return np.quantile(self.values(model, issue), q)

    def prob_in_range(self, model: str | int, issue: str | int, low: float = -math.inf,
                      high: float = math.inf) -> float:
        """Share of draws whose outcome lies in ``[low, high]``."""
        v = self.values(model, issue)
        return float(np.mean((v >= low) & (v <= high))) if v.size else math.nan

    def convergence_rate(self, model: str | int | None = None,
                         issue: str | int | None = None) -> float:
        c = self.converged
        if model is not None:
            c = c[self._mi(model, 0)[0]][None]
        if issue is not None:
            c = c[..., self._mi(0, issue)[1]]
        return float(np.mean(c)) if c.size else math.nan

    def summary(self) -> list[dict[str, Any]]:
        """Per model and issue: point forecast, mean, sd, 5/25/50/75/95 % and convergence."""
        rows = []
        for j, model in enumerate(self.models):
            for k, iss in enumerate(self.issue_ids):
                v = self.outcome[j, :, k]
                row: dict[str, Any] = {"model": model, "issue": iss,
                                       "point": float(self.point[j, k]), "n": int(v.size)}
                if v.size:
                    qs = np.quantile(v, QUANTILES)
                    row.update({"mean": float(v.mean()), "sd": float(v.std(ddof=1))
                                if v.size > 1 else 0.0})
                    row.update({f"q{int(round(q * 100)):02d}": float(x)
                                for q, x in zip(QUANTILES, qs, strict=True)})
                    row["converged"] = float(self.converged[j, :, k].mean())
                rows.append(row)
        return rows

    def tidy(self) -> list[dict[str, Any]]:
        """One row per draw, model and issue: ``draw, model, issue, outcome, converged``."""
        rows = []
        for j, model in enumerate(self.models):
            for b, d in enumerate(self.draws):
                for k, iss in enumerate(self.issue_ids):
                    rows.append({"draw": int(d), "model": model, "issue": iss,
                                 "outcome": float(self.outcome[j, b, k]),
                                 "converged": bool(self.converged[j, b, k])})
        return rows

    def to_csv(self, path: str | Path | None = None) -> str:
        """The tidy table as CSV text (written atomically to ``path`` when given)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["draw", "model", "issue", "outcome", "converged"])
        for j, model in enumerate(self.models):
            for b, d in enumerate(self.draws):
                for k, iss in enumerate(self.issue_ids):
                    w.writerow([int(d), model, iss, repr(float(self.outcome[j, b, k])),
                                "true" if self.converged[j, b, k] else "false"])
        text = buf.getvalue()
        if path is not None:
            from detente.atomic import atomic_write_text

            atomic_write_text(Path(path), text)
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (no per-draw rows)."""
        return {
            "scenario": self.scenario_id,
            "models": list(self.models),
            "issues": list(self.issue_ids),
            "n_draws": self.n_draws,
            "n_requested": self.n_requested,
            "partial": self.partial,
            "seed": self.seed,
            "executor": self.executor,
            "workers": self.workers,
            "elapsed_s": round(self.elapsed, 4),
            "summary": self.summary(),
            "convergence_rate": self.convergence_rate() if self.n_draws else None,
            "p_agreement_set_nonempty": self.agreement_probability(),
            "paths": {m: p.to_dict() for m, p in self.paths.items()},
            "uncertainty": [u.model_dump(mode="json", exclude_none=True)
                            for u in self.uncertainty],
            "notes": list(self.notes),
        }


def montecarlo(scenario: Scenario, models: Sequence[Any] = ("compromise",), n: int = 1000, *,
               seed: int = 0, uncertainty: Sequence[Uncertainty | Mapping[str, Any]] | None
               = None, params: Mapping[str, Mapping[str, Any]] | None = None,
               executor: str | ExecutorHandle | Executor = "process",
               workers: int | None = None, address: str | None = None,
               progress: bool | Callable[[int, int], None] = False,
               chunk_size: int | None = None,
               interventions: Sequence[Intervention] = (),
               force_loop: bool = False, agreement: bool = False, paths: bool = False,
               path_rounds: int = PATH_ROUNDS) -> MonteCarloResult:
    """``n`` draws of every model in ``models`` on perturbed copies of ``scenario``.

    uncertainty: entries to sample (default: the scenario's ``uncertainty``, or the default
    prior of models.md §7.2 when it declares none). interventions: applied on top of every
    draw. executor: ``serial``, ``process`` (default, every CPU) or ``dask`` (``address``
    of a scheduler, or a local cluster), or an open executor. progress: ``True`` shows a
    progress bar; a callable gets ``(done, total)``. ``force_loop`` skips the batched fast
    paths (for cross-checks). ``agreement``: also record, per draw and issue, whether the
    two-level agreement set of :mod:`detente.conflict.ratification` is non-empty (a full
    perturbed scenario per draw: slower). ``paths``: also record round-based models'
    forecasts round by round (up to ``path_rounds``) and summarise them as per-round
    quantiles in ``result.paths`` (fan charts; closed-form models have none).
    """
    ms = resolve_models(models, params)
    run = run_variants(scenario, ms, [("run", tuple(interventions))], n=n, seed=seed,
                       uncertainty=uncertainty, executor=executor, workers=workers,
                       address=address, progress=progress, chunk_size=chunk_size,
                       force_loop=force_loop, agreement=agreement,
                       path_rounds=path_rounds if paths else 0)
    from detente.scenario.arrays import scenario_arrays

    a = scenario_arrays(scenario)
    unc = resolve_uncertainty(scenario, uncertainty)
    notes = []
    if uncertainty is None and not scenario.uncertainty:
        notes.append("the scenario declares no uncertainty: used the default prior "
                     "(position sd 5% of the scale width, salience sd 10 points, capability "
                     "x LogNormal(0, 0.2))")
    if run.partial:
        notes.append(f"interrupted: {run.draws.size} of {n} draws done")
    names = tuple(x.name for x in ms)
    fans = _path_quantiles(run, 0, names, scenario.issue_ids, a.scale_min, a.scale_max,
                           path_rounds) if paths else {}
    if paths and not fans:
        notes.append("no round-based model among the models: no round paths recorded")
    if any(p.truncated for p in fans.values()):
        notes.append(f"round paths cut at round {path_rounds} (path_rounds)")
    return MonteCarloResult(
        scenario_id=scenario.id, models=tuple(x.name for x in ms),
        issue_ids=scenario.issue_ids, outcome=run.outcome[0], converged=run.converged[0],
        point=run.point[0], draws=run.draws, n_requested=n, seed=int(seed),
        partial=run.partial, elapsed=run.elapsed, executor=run.executor,
        workers=run.workers, scale_min=a.scale_min, scale_max=a.scale_max,
        uncertainty=unc, notes=tuple(notes),
        agreement=None if run.agreement is None else run.agreement[0],
        point_agreement=None if run.point_agreement is None else run.point_agreement[0],
        paths=fans)
