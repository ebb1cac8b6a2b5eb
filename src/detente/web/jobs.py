"""Background jobs of the dashboard: forecasts, Monte Carlo runs and backtests.

Jobs run on a small thread pool owned by :class:`JobManager`; Monte Carlo draws go to the
simulate executors (serial in the job's thread, a shared process pool, or Dask when the
settings say so). A job's state lives on the server (in memory and as one JSON file per job
under ``<data dir>/jobs``), so a page reload, or a second browser, sees the same progress;
after a server restart, jobs that were still running are marked ``interrupted``.

Finished jobs write their results to the SQLite run store (``<data dir>/runs.sqlite``);
the per-draw outcomes of a Monte Carlo run are kept beside it (``<data dir>/draws``).
Cancelling sets a flag the job checks between models and between chunks of draws; chunks
already queued on a process pool are cancelled too.

A backtest job scores models on uploaded outcome data (:mod:`detente.analysis.backtest`): one
model at a time in the job's thread (progress and cancelling issue by issue), or one task
per model on the shared executor. Its result, ``BacktestResult.to_dict()``, is kept in the
job (``result``); the per-issue errors behind the figure go to ``<data dir>/backtests``.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

from detente.errors import DetenteError
from detente.web.security import JOB_ID_PATTERN, check_id, safe_path
from detente.web.settings import Settings

__all__ = ["BacktestRequest", "Job", "JobCancelled", "JobManager", "JobRequest"]

log = logging.getLogger("detente.web")

Status = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
FINAL = frozenset({"done", "failed", "cancelled", "interrupted"})


class JobRequest(BaseModel):
    """What to run: a forecast with each model, or a Monte Carlo ensemble."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(description="scenario id (bundled or user)")
    kind: Literal["forecast", "montecarlo"] = "forecast"
    models: list[str] = Field(default_factory=list, max_length=20,
                              description="model names; empty = every model that can run")
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-model parameters, e.g. "
        '{"expected_utility": {"Q": 0.5}} (use "preset" to pick a preset)')
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    draws: int = Field(default=200, ge=1, description="Monte Carlo draws")
    note: str | None = Field(default=None, max_length=500)


class BacktestRequest(BaseModel):
    """What a backtest job scores (built from the upload form of ``POST /api/backtest``)."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="the uploaded file's name (as the client gave it)")
    actors_file: str | None = None
    format: Literal["deu", "cases"] = "deu"
    models: list[str] = Field(default_factory=list, max_length=20,
                              description="model names; empty = every registered model")
    by: Literal["proposal", "issue"] = "proposal"
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    n_boot: int = Field(default=2000, ge=100, le=20_000)
    sha256: str | None = Field(default=None, description="of the uploaded file: models "
                               "fitted on this very file are flagged in-sample")
    coverage: int = Field(default=0, ge=0, le=2000, description="Monte Carlo draws per "
                          "proposal to score interval forecasts (0 = do not)")


class JobCancelled(Exception):
    """Raised inside a job when its cancel flag is set."""


@dataclass
class Job:
    id: str
    kind: str
    request: dict[str, Any]
    status: Status = "queued"
    done: int = 0
    total: int = 1
    message: str = "waiting for a free worker"
    error: str | None = None
    run_id: int | None = None
    result: dict[str, Any] | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    started: float | None = None
    finished: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}
        d["progress"] = round(self.progress, 4)
        d["elapsed_s"] = (round((self.finished or time.time()) - self.started, 3)
                          if self.started else None)
        d["final"] = self.status in FINAL
        return d


class _TrackingExecutor(Executor):
    """Hands tasks to a shared executor and remembers them, so one job's chunks can be
    cancelled without touching other jobs'."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut = self.inner.submit(fn, *args, **kwargs)
        with self._lock:
            self.futures.append(fut)
        return fut

    def cancel_all(self) -> None:
        with self._lock:
            for f in self.futures:
                f.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            self.cancel_all()


class JobManager:
    """Starts, tracks, cancels and persists jobs; owns the run store connection(s)."""

    def __init__(self, settings: Settings, library: Any) -> None:
        self.settings = settings
        self.library = library
        self.dir = settings.data_dir / "jobs"
        self.draws_dir = settings.data_dir / "draws"
        self.backtest_dir = settings.data_dir / "backtests"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.draws_dir.mkdir(parents=True, exist_ok=True)
        self.backtest_dir.mkdir(parents=True, exist_ok=True)
        self.store_path = settings.data_dir / "runs.sqlite"
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=settings.job_threads,
                                        thread_name_prefix="detente-job")
        self._local = threading.local()
        self._stack = ExitStack()
        self._shared: Any = None
        self._shared_lock = threading.Lock()
        self.runs_version = 0  # bumped on every stored run (invalidates cached run lists)
        self._load()

    # -- persistence ------------------------------------------------------------------
    def _load(self) -> None:
        for p in sorted(self.dir.glob("*.json")):
            if not JOB_ID_PATTERN.fullmatch(p.stem):
                continue
            try:
                d = json.loads(p.read_text(encoding="utf-8"))
                job = Job(**{k: v for k, v in d.items()
                             if k in Job.__dataclass_fields__ and not k.startswith("_")})
            except (OSError, ValueError, TypeError):
                continue
            if job.status not in FINAL:
                job.status = "interrupted"
                job.message = "the server stopped while this job ran; start it again"
                self._save(job)
            self._jobs[job.id] = job

    def _save(self, job: Job) -> None:
        from detente.atomic import atomic_write_text

        atomic_write_text(safe_path(self.dir, f"{job.id}.json"),
                          json.dumps(job.to_dict(), default=str))

    def store(self) -> Any:
        """This thread's connection to the run store (SQLite connections are per thread)."""
        st = getattr(self._local, "store", None)
        if st is None:
            from detente.store import RunStore

            st = self._local.store = RunStore(self.store_path)
        return st

    # -- public -----------------------------------------------------------------------
    def active(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status not in FINAL)

    def submit(self, req: JobRequest) -> Job:
        """Validate ``req`` now (so the caller gets a 4xx at once), then queue it."""
        s = self.settings
        if req.kind == "montecarlo" and req.draws > s.max_draws:
            raise HTTPException(413, f"{req.draws} draws asked; this server runs at most "
                                f"{s.max_draws} per job; ask for fewer draws")
        scenario = self.library.get(req.scenario)
        self.library.check_size(scenario)
        models = self._models(req)
        job = self._register(req.kind, req.model_dump(),
                             len(models) + (req.draws if req.kind == "montecarlo" else 0))
        self._pool.submit(self._run, job, req, scenario, models)
        return job

    def submit_backtest(self, req: BacktestRequest, cases: list[Any], n_left_out: int
                        ) -> Job:
        """Queue a backtest of ``req.models`` on ``cases`` (already read from the upload)."""
        models = self.build_models(req.models)
        job = self._register("backtest", {**req.model_dump(), "n_cases": len(cases),
                                          "n_left_out": n_left_out},
                             max(1, len(cases) * len(models) * (2 if req.coverage else 1)))
        self._pool.submit(self._run_backtest, job, req, cases, n_left_out, models)
        return job

    def _register(self, kind: str, request: dict[str, Any], total: int) -> Job:
        """A new queued job, unless the server already has its limit of active jobs."""
        s = self.settings
        with self._lock:
            n_active = sum(1 for j in self._jobs.values() if j.status not in FINAL)
            if n_active >= s.max_active_jobs:
                raise HTTPException(429, f"{n_active} jobs are already queued or running "
                                    f"(limit {s.max_active_jobs}); wait for one to finish "
                                    "or cancel one")
            job = Job(id=uuid.uuid4().hex, kind=kind, request=request)
            job.total = total
            self._jobs[job.id] = job
        self._save(job)
        return job

    def get(self, job_id: str) -> Job:
        check_id(job_id, "job id", JOB_ID_PATTERN)
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"unknown job {job_id!r}; it may belong to another data "
                                "directory (see GET /api/jobs)")
        return job

    def all_jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status in FINAL:
            raise HTTPException(409, f"job {job_id} has already finished ({job.status}); "
                                "nothing to cancel")
        job._cancel.set()
        if job.status == "queued":
            self._finish(job, "cancelled", "cancelled before it started")
        else:
            job.message = "cancelling..."
        tracker = getattr(job, "_tracker", None)
        if tracker is not None:
            tracker.cancel_all()
        return job

    def shutdown(self) -> None:
        for job in self.all_jobs():
            if job.status not in FINAL:
                job._cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stack.close()

    # -- running ----------------------------------------------------------------------
    def _models(self, req: JobRequest) -> list[Any]:
        return self.build_models(req.models, req.params)

    def build_models(self, requested: list[str],
                     params: dict[str, dict[str, Any]] | None = None) -> list[Any]:
        """Model instances for ``requested`` names (empty: every registered model); a 400
        names an unknown or repeated model or a bad parameter."""
        params = params or {}
        from detente.models.registry import available_models, get_model

        names = requested or available_models()
        known = available_models()
        for n in names:
            if n not in known:
                raise HTTPException(400, f"unknown model {n!r}; available: {', '.join(known)}")
        if len(set(names)) != len(names):
            raise HTTPException(400, f"a model is listed twice: {', '.join(names)}")
        for n in params:
            if n not in names:
                raise HTTPException(400, f"parameters given for model {n!r}, which is not "
                                    f"being run; add it to 'models' or fix the name")
        out = []
        for n in names:
            try:
                out.append(get_model(n, **params.get(n, {})))
            except DetenteError as exc:
                raise HTTPException(400, str(exc)) from None
            except TypeError as exc:
                raise HTTPException(400, f"{n}: invalid parameters ({exc})") from None
        return out

    def _finish(self, job: Job, status: Status, message: str, error: str | None = None
                ) -> None:
        job.status = status
        job.message = message
        job.error = error
        job.finished = time.time()
        self._save(job)

    def _check(self, job: Job) -> None:
        if job._cancel.is_set():
            raise JobCancelled

    def _lifecycle(self, job: Job, work: Callable[[], str]) -> None:
        """Run ``work`` as ``job``: mark it running, then finish it done (with the message
        ``work`` returns), cancelled or failed; a bug fails the job, not the server."""
        if job.status in FINAL:  # cancelled while queued
            return
        job.status = "running"
        job.started = time.time()
        job.message = "running"
        self._save(job)
        try:
            message = work()
            job.done = job.total
            self._finish(job, "done", message)
        except JobCancelled:
            self._finish(job, "cancelled", f"cancelled after {job.done} of {job.total} steps")
        except HTTPException as exc:
            self._finish(job, "failed", "failed", str(exc.detail))
        except DetenteError as exc:
            self._finish(job, "failed", "failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug: keep the server up, say so
            if job._cancel.is_set():  # e.g. CancelledError from a chunk cancelled under it
                self._finish(job, "cancelled", f"cancelled after {job.done} of {job.total} "
                             "steps")
                return
            log.exception("job %s failed", job.id)
            self._finish(job, "failed", "failed",
                         f"internal error ({type(exc).__name__}: {exc}); this is a bug in "
                         "detente, please report it")

    def _run(self, job: Job, req: JobRequest, scenario: Any, models: list[Any]) -> None:
        def work() -> str:
            forecasts, skipped = self._forecasts(job, req, scenario, models)
            extras: dict[str, Any] = {"web_job": job.id}
            mc = None
            if req.kind == "montecarlo":
                ok = [m for m in models if m.name in {f.model for f in forecasts}]
                mc = self._montecarlo(job, req, scenario, ok)
                extras["montecarlo"] = _mc_extras(mc)
                if mc.partial:
                    raise JobCancelled
            from detente.store import record_from_forecasts

            record = record_from_forecasts(
                scenario, forecasts, seed=req.seed, source=req.scenario,
                kind=req.kind, skipped=skipped, extras=extras,
                command=f"web: {req.kind} {req.scenario}")
            record.note = req.note
            run_id = self.store().save(record)
            self.runs_version += 1
            if mc is not None:
                self._save_draws(run_id, mc)
            job.run_id = run_id
            return f"finished: run {run_id}"

        self._lifecycle(job, work)

    def _run_backtest(self, job: Job, req: BacktestRequest, cases: list[Any],
                      n_left_out: int, models: list[Any]) -> None:
        """Score each model on ``cases``; the merged result equals one
        ``backtest(cases, models)`` call (every model has its default parameters, so each
        model's comparison with compromise is the same run alone or together)."""
        def work() -> str:
            from detente.analysis.backtest import (
                BacktestResult,
                fitted_on_digest,
                flag_in_sample,
                interval_calibration,
            )

            parts = self._backtest_parts(job, req, cases, models)
            scores = [s for m in models for s in parts[m.name].scores]
            if req.sha256:
                scores = flag_in_sample(scores, fitted_on_digest(req.sha256,
                                                                 [m.name for m in models]))
            result = BacktestResult(req.file, len(cases), n_left_out, scores)
            self._save_backtest_errors(job.id, result)
            data = result.to_dict()
            if req.coverage:
                def progress(n: int) -> None:
                    job.done += n
                    if job._cancel.is_set():
                        raise JobCancelled

                job.message = f"interval coverage: {req.coverage} Monte Carlo draws"
                data["calibration"] = interval_calibration(
                    cases, result, draws=req.coverage, seed=req.seed, progress=progress)
            job.result = data
            best = min((s for s in scores if s.n), key=lambda s: s.mae, default=None)
            return f"finished: {len(cases)} issues scored" + (
                f"; lowest MAE {best.model} ({best.mae:.2f})" if best is not None else "")

        self._lifecycle(job, work)

    def _backtest_parts(self, job: Job, req: BacktestRequest, cases: list[Any],
                        models: list[Any]) -> dict[str, Any]:
        """Each model's ``BacktestResult``: in this thread, issue by issue (serial
        executor), or one task per model on the shared executor."""
        from concurrent.futures import FIRST_COMPLETED, wait

        from detente.web._tasks import backtest_task

        shared = self._executor()
        parts: dict[str, Any] = {}
        if shared is None:
            def progress(n: int) -> None:
                job.done += n
                if job._cancel.is_set():
                    raise JobCancelled

            for m in models:
                self._check(job)
                job.message = f"backtest: scoring {m.name} on {len(cases)} issues"
                parts[m.name] = backtest_task(cases, m, req.seed, req.n_boot, progress)
            return parts
        tracker = _TrackingExecutor(shared.executor)
        job._tracker = tracker  # type: ignore[attr-defined]
        job.message = f"backtest: scoring {len(models)} model(s) on {len(cases)} issues"
        pending = {tracker.submit(backtest_task, cases, m, req.seed, req.n_boot): m.name
                   for m in models}
        try:
            while pending:
                self._check(job)
                done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    parts[pending.pop(fut)] = fut.result()
                    job.done += len(cases)
        finally:
            tracker.cancel_all()
        return parts

    def _save_backtest_errors(self, job_id: str, result: Any) -> None:
        """Per-issue absolute errors of each model (for the figure's spread of errors)."""
        import math

        from detente.atomic import atomic_write_text

        errors = {s.model: [round(float(e), 4) for e in s.errors if math.isfinite(e)]
                  for s in result.scores}
        atomic_write_text(safe_path(self.backtest_dir, f"{job_id}.json"), json.dumps(errors))

    def backtest_errors(self, job_id: str) -> dict[str, list[float]]:
        check_id(job_id, "job id", JOB_ID_PATTERN)
        try:
            return json.loads(safe_path(self.backtest_dir, f"{job_id}.json").read_text())
        except (OSError, ValueError):
            return {}

    def backtest_result(self, job_id: str) -> dict[str, Any]:
        """The result of a finished backtest job, or a 404/409 saying why there is none."""
        job = self.get(job_id)
        if job.kind != "backtest":
            raise HTTPException(404, f"job {job_id} is a {job.kind} job, not a backtest; its "
                                "results are a stored run (see GET /api/jobs/{id})")
        if job.result is None:
            raise HTTPException(409, f"backtest {job_id} has no result yet ({job.status}: "
                                f"{job.message}); poll GET /api/jobs/{job_id} until it is done")
        return job.result

    def _forecasts(self, job: Job, req: JobRequest, scenario: Any, models: list[Any]
                   ) -> tuple[list[Any], list[tuple[str, str]]]:
        """Each model's forecast: in this thread (serial executor) or one task per model on
        the shared executor, so forecasts do not compete with requests for this process."""
        from concurrent.futures import FIRST_COMPLETED, wait

        from detente.errors import ModelError
        from detente.web._tasks import forecast_task

        shared = self._executor()
        results: dict[str, Any] = {}
        skipped: list[tuple[str, str]] = []

        def record(name: str, get: Callable[[], Any]) -> None:
            try:
                results[name] = get()
            except ModelError as exc:
                if req.models:
                    raise
                skipped.append((name, str(exc)))
            job.done += 1

        if shared is None:
            for m in models:
                self._check(job)
                job.message = f"forecasting with {m.name}"
                record(m.name, functools.partial(forecast_task, m, scenario, req.seed))
        else:
            tracker = _TrackingExecutor(shared.executor)
            job._tracker = tracker  # type: ignore[attr-defined]
            job.message = f"forecasting with {len(models)} model(s)"
            pending = {tracker.submit(forecast_task, m, scenario, req.seed): m.name
                       for m in models}
            try:
                while pending:
                    self._check(job)
                    done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                    for fut in done:
                        record(pending.pop(fut), fut.result)
            finally:
                tracker.cancel_all()
        forecasts = [results[m.name] for m in models if m.name in results]
        if not forecasts:
            raise DetenteError("no model could run on this scenario: " + "; ".join(
                f"{n}: {r}" for n, r in skipped))
        return forecasts, skipped

    def _executor(self) -> Any:
        """The shared executor handle for forecasts and Monte Carlo draws (opened on first
        use); ``None`` runs everything in the job's own thread."""
        s = self.settings
        if s.executor == "serial":
            return None
        with self._shared_lock:
            if self._shared is None:
                if s.executor == "process":
                    self._shared = self._stack.enter_context(_background_pool(s.workers))
                else:
                    from detente.simulate.executors import open_executor

                    self._shared = self._stack.enter_context(
                        open_executor(s.executor, s.workers, address=s.dask_address))
            return self._shared

    def _montecarlo(self, job: Job, req: JobRequest, scenario: Any, models: list[Any]
                    ) -> Any:
        from detente.simulate.executors import ExecutorHandle
        from detente.simulate.montecarlo import montecarlo

        self._check(job)
        base = job.done
        job.message = f"Monte Carlo: {req.draws} draws"

        def progress(done: int, total: int) -> None:
            job.done = base + done
            job.message = f"Monte Carlo: {done} of {total} draws"
            if job._cancel.is_set():
                raise JobCancelled

        shared = self._executor()
        if shared is None:
            executor: Any = "serial"
        else:
            tracker = _TrackingExecutor(shared.executor)
            job._tracker = tracker  # type: ignore[attr-defined]
            executor = ExecutorHandle(tracker, shared.kind, shared.workers, shared.address)
        try:
            # paths: round-based models also keep per-round quantiles (the fan chart)
            return montecarlo(scenario, models, n=req.draws, seed=req.seed, executor=executor,
                              progress=progress, paths=True)
        finally:
            if shared is not None:
                tracker.cancel_all()

    def _save_draws(self, run_id: int, mc: Any) -> None:
        import io

        import numpy as np

        buf = io.BytesIO()
        np.savez_compressed(buf, outcome=mc.outcome, converged=mc.converged, draws=mc.draws,
                            models=np.array(mc.models), issues=np.array(mc.issue_ids))
        from detente.atomic import atomic_write_bytes

        atomic_write_bytes(safe_path(self.draws_dir, f"run-{int(run_id)}.npz"), buf.getvalue())

    def draws_path(self, run_id: int) -> Path:
        return safe_path(self.draws_dir, f"run-{int(run_id)}.npz")


def _mc_extras(mc: Any, bins: int = 30) -> dict[str, Any]:
    """What the results page needs from an ensemble: its summary and a histogram per model
    and issue (on the issue's scale)."""
    import numpy as np

    d = mc.to_dict()
    hist: dict[str, dict[str, Any]] = {}
    for j, model in enumerate(mc.models):
        hist[model] = {}
        for k, iss in enumerate(mc.issue_ids):
            v = mc.outcome[j, :, k]
            v = v[np.isfinite(v)]
            lo, hi = float(mc.scale_min[k]), float(mc.scale_max[k])
            counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
            hist[model][iss] = {"edges": [float(e) for e in edges],
                                "counts": [int(c) for c in counts]}
    d["histograms"] = hist
    return d


def _lower_priority() -> None:
    """Worker initializer: background work yields the CPU to the server answering pages
    (nice +10), and Ctrl-C is handled once, by the server."""
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(10)
    except (AttributeError, OSError):  # pragma: no cover - not POSIX
        pass


@contextmanager
def _background_pool(workers: int | None) -> Iterator[Any]:
    """A process pool like the simulate ``process`` executor, but with low-priority workers."""
    import multiprocessing as mp
    import sys
    from concurrent.futures import ProcessPoolExecutor

    from detente.simulate.executors import ExecutorHandle, available_cpus

    n = workers or available_cpus()
    if sys.platform.startswith("linux"):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["numpy", "scipy.special", "detente.simulate.run",
                                    "detente.web._tasks"])
    else:  # pragma: no cover
        ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_lower_priority)
    try:
        yield ExecutorHandle(pool, "process", n)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
