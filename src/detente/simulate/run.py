"""One chunk of draws, run wherever the executor puts it.

A :class:`Job` holds everything a worker needs (the scenario, the uncertainty entries, the
models, the variants to compare). The parent pickles it once; each task carries the bytes
and a digest, and a worker unpickles a job only the first time it sees the digest. A task
then runs :func:`run_chunk` over a contiguous range of draw numbers with those draws' own
seed sequences, so a draw's result is the same on any worker.

Random streams of draw b (``seed_b = spawn(seed, N)[b]``):

* the perturbation quantiles come from ``default_rng(seed_b)``;
* a stochastic model gets ``default_rng(SeedSequence(seed_b.entropy, spawn_key=
  seed_b.spawn_key + (crc32(model name),)))``, the same stream for the baseline and every
  intervention (common random numbers) and independent across models.
"""

from __future__ import annotations

import hashlib
import pickle
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detente.models.base import ForecastModel
from detente.scenario.schema import Scenario, Uncertainty
from detente.simulate.batch import evaluate_batch, evaluate_batch_paths, has_round_path
from detente.simulate.perturb import PerturbationPlan, batch_scenario, compile_plan
from detente.simulate.whatif import Intervention, apply_interventions

__all__ = ["ChunkResult", "Job", "RunFile", "agreement_nonempty", "load_run_file",
           "model_stream", "pack_job", "run_chunk", "run_design_chunk", "run_job_chunk"]


@dataclass(frozen=True)
class Job:
    scenario: Scenario
    uncertainty: tuple[Uncertainty, ...]  # empty: no perturbation (point forecasts)
    models: tuple[ForecastModel, ...]
    variants: tuple[tuple[str, tuple[Intervention, ...]], ...]
    force_loop: bool = False
    agreement: bool = False
    path_rounds: int = 0  # > 0: record round-based models' forecasts for rounds 0..path_rounds


@dataclass(frozen=True)
class ChunkResult:
    start: int
    outcome: np.ndarray  # [V, M, B, m]
    converged: np.ndarray  # [V, M, B, m]
    agreement: np.ndarray | None = None  # [V, B, m] int8: 1 non-empty, 0 empty, -1 n/a
    #: model index -> ``[V, B, path_rounds + 1, m]`` float32 group forecast per round
    #: (round-based models only, when the job asks for paths)
    paths: dict[int, np.ndarray] | None = None


def agreement_nonempty(scenario: Scenario) -> np.ndarray:
    """Per issue: 1 when the two-level agreement set (the needed principals' win-sets
    intersected, :mod:`detente.conflict.ratification`) is non-empty, 0 when empty, -1 when
    the scenario names no principal whose ratification is needed."""
    from detente.conflict.ratification import two_level_game
    from detente.errors import ModelError

    m = len(scenario.issues)
    try:
        game = two_level_game(scenario)
    except ModelError:
        return np.full(m, -1, dtype=np.int8)
    return np.array([1 if game.agreement_set(k) else 0 for k in range(m)], dtype=np.int8)


def pack_job(job: Job) -> tuple[str, bytes]:
    blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(blob).hexdigest(), blob


_CACHE: dict[str, tuple[Job, PerturbationPlan, list[list[ForecastModel]]]] = {}


def _prepare(digest: str, blob: bytes) -> tuple[Job, PerturbationPlan, list[list[ForecastModel]]]:
    hit = _CACHE.get(digest)
    if hit is None:
        job: Job = pickle.loads(blob)
        plan = compile_plan(job.scenario, job.uncertainty)
        per_variant = []
        for _, ivs in job.variants:
            row = []
            for m in job.models:
                over: dict[str, Any] = {}
                for iv in ivs:
                    over.update(iv.model_params(m))
                row.append(_resolved(type(m)({**m.params.model_dump(), **over}) if over else m,
                                     job.scenario))
            per_variant.append(row)
        if len(_CACHE) > 8:
            _CACHE.clear()
        hit = _CACHE[digest] = (job, plan, per_variant)
    return hit


def _resolved(model: ForecastModel, scenario: Scenario) -> ForecastModel:
    """Models whose ``forecast`` only settles scenario-dependent parameters
    (``effective_params(scenario)``, e.g. the spatial model reading KTAB settings from
    ``meta``) are resolved once here and then run on the fast arrays path."""
    eff = getattr(model, "effective_params", None)
    if eff is None or getattr(model, "needs_scenario", False):
        return model
    params = eff(scenario)
    if "record" in type(params).model_fields:  # draws need outcomes and paths, not turn logs
        params = params.model_copy(update={"record": "positions"})
    # _ArraysOnly is a transparent proxy (it delegates every attribute to the model)
    return cast(ForecastModel, _ArraysOnly(type(model)(params)))


class _ArraysOnly:
    """A resolved model that runs on arrays (see :func:`_resolved`); everything else is
    delegated to the wrapped model."""

    needs_scenario = False

    def __init__(self, model: ForecastModel) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __reduce__(self) -> Any:
        return (_ArraysOnly, (self._model,))


def model_stream(seed: np.random.SeedSequence, model_name: str) -> np.random.Generator:
    """Draw ``seed``'s own random stream for a stochastic model (see module docstring)."""
    key = zlib.crc32(model_name.encode())
    return np.random.default_rng(np.random.SeedSequence(
        seed.entropy, spawn_key=(*seed.spawn_key, key)))


def run_chunk(job: Job, plan: PerturbationPlan, models: list[list[ForecastModel]],
              start: int, seeds: Sequence[np.random.SeedSequence]) -> ChunkResult:
    draws = np.arange(start, start + len(seeds))
    rngs = [np.random.default_rng(s) for s in seeds]
    batch = plan.sample(rngs, draws)
    base = plan.arrays
    m = base.n_issues
    n_v, n_m, bsz = len(job.variants), len(job.models), len(seeds)
    out = np.empty((n_v, n_m, bsz, m))
    conv = np.empty((n_v, n_m, bsz, m), dtype=bool)
    agree = np.empty((n_v, bsz, m), dtype=np.int8) if job.agreement else None
    rows = job.path_rounds + 1
    paths = ({j: np.empty((n_v, bsz, rows, m), dtype=np.float32)
              for j, model in enumerate(job.models) if has_round_path(model)}
             if job.path_rounds > 0 else None)
    for v, (_, ivs) in enumerate(job.variants):
        vb = apply_interventions(batch, ivs, job.scenario, base)
        if agree is not None:
            for b in range(bsz):
                agree[v, b] = agreement_nonempty(batch_scenario(job.scenario, vb, b))
        for j, model in enumerate(models[v]):
            if model.tags.stochastic:
                mr = [model_stream(s, model.name) for s in seeds]
            else:
                mr = rngs
            if paths is not None and j in paths:
                o, c, p = evaluate_batch_paths(model, vb, base, job.scenario, mr,
                                               rounds=job.path_rounds,
                                               force_loop=job.force_loop)
                paths[j][v] = p
            else:
                o, c = evaluate_batch(model, vb, base, job.scenario, mr,
                                      force_loop=job.force_loop)
            out[v, j] = o
            conv[v, j] = c
    return ChunkResult(start, out, conv, agree, paths)


def run_job_chunk(digest: str, blob: bytes, start: int,
                  seeds: Sequence[np.random.SeedSequence]) -> ChunkResult:
    """The task every executor runs: draws ``start .. start + len(seeds) - 1``."""
    job, plan, models = _prepare(digest, blob)
    return run_chunk(job, plan, models, start, seeds)


def run_design_chunk(digest: str, blob: bytes, start: int, design: np.ndarray,
                     columns: Sequence[np.ndarray],
                     seeds: Sequence[np.random.SeedSequence]) -> ChunkResult:
    """Rows ``start ..`` of an experimental design (global sensitivity analysis).

    ``design[r, d]`` is the quantile of design factor d in row r; ``columns[f][c]`` says which
    design factor drives cell c of the plan's entry f, so cells grouped in one factor move
    together. Only the first variant is run.
    """
    job, plan, models = _prepare(digest, blob)
    q = [design[:, np.asarray(cols, dtype=int)] for cols in columns]
    batch = plan.apply_cell_quantiles(q, np.arange(start, start + design.shape[0]))
    rngs = [np.random.default_rng(s) for s in seeds]
    base = plan.arrays
    bsz, m = design.shape[0], base.n_issues
    out = np.empty((1, len(job.models), bsz, m))
    conv = np.empty((1, len(job.models), bsz, m), dtype=bool)
    vb = apply_interventions(batch, job.variants[0][1], job.scenario, base)
    for j, model in enumerate(models[0]):
        mr = [model_stream(s, model.name) for s in seeds] if model.tags.stochastic else rngs
        out[0, j], conv[0, j] = evaluate_batch(model, vb, base, job.scenario, mr,
                                               force_loop=job.force_loop)
    return ChunkResult(start, out, conv)


# ---------------------------------------------------------------------------------------
# run files


class RunFile(BaseModel):
    """A YAML run file: what to simulate, with which models and assumptions.

    .. code-block:: yaml

        scenario: ukraine-2025          # optional: a path or bundled name
        models: [compromise, expected_utility]
        params: {expected_utility: {Q: 0.5}}
        n: 2000
        seed: 7
        uncertainty:                    # replaces the scenario's entries unless
          - {target: position, actor: "*", distribution: normal, params: {sd_width: 0.05}}
        extend_uncertainty: false       # true: add to the scenario's entries instead
        whatif:
          - {name: ru-softens, shift: {actor: ru_kremlin, issue: donbas, delta: 10}}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str | None = None
    models: tuple[str, ...] = ()
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    n: int | None = Field(default=None, ge=0)
    seed: int | None = Field(default=None, ge=0)
    uncertainty: tuple[Uncertainty, ...] | None = None
    extend_uncertainty: bool = False
    whatif: tuple[Intervention, ...] = ()

    def uncertainty_for(self, scenario: Scenario) -> tuple[Uncertainty, ...] | None:
        """The entries to sample (None: the scenario's own, or the default prior)."""
        if self.uncertainty is None:
            return None
        if self.extend_uncertainty:
            return tuple(scenario.uncertainty) + tuple(self.uncertainty)
        return tuple(self.uncertainty)


def load_run_file(path: str | Path) -> RunFile:
    """Read and validate a run file; errors name the file, the field and the fix."""
    from detente.errors import InputFileError
    from detente.scenario.io_yaml import load_yaml_text, read_text_checked

    p = Path(path)
    data, _ = load_yaml_text(read_text_checked(p, what="run file"), str(p))
    if not isinstance(data, dict):
        raise InputFileError(str(p), "a run file is a mapping (scenario:, models:, "
                             "uncertainty:, whatif:, ...)")
    try:
        return RunFile(**data)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        raise InputFileError(str(p), f"{msg} (got {e.get('input')!r})", field=loc,
                             fix="allowed keys: scenario, models, params, n, seed, "
                                 "uncertainty, extend_uncertainty, whatif; see "
                                 "docs/uncertainty.md") from None
