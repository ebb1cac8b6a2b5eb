"""Global sensitivity analysis (Sobol, Morris) over a scenario's declared uncertain inputs.

Which assumptions matter most? Every uncertainty entry (or group of entries, or each actor's
share of an entry) becomes one *factor*; the factor's value is a quantile u in [0, 1] pushed
through the entry's inverse CDF (:mod:`detente.simulate.perturb`), so the design samples
exactly the declared distributions. Designs and estimators come from SALib (an extra:
``pip install 'detente[sensitivity]'``), imported only here:

* Sobol (Saltelli design, ``N (D + 2)`` model runs without second-order terms; models.md
  §7.2-7.4): first-order ``S1`` (the share of the forecast's variance a factor explains on
  its own) and total ``ST`` (including every interaction). ``ST`` much larger than ``S1``
  flags thresholds and interactions (expected of challenge dynamics).
* Morris (``r (D + 1)`` runs, r trajectories): ``mu_star`` (mean absolute elementary effect,
  forecast units per full quantile range) and ``sigma`` (non-linearity / interaction): a
  cheap screen before Sobol. Effects are per unit of the design range [0, 1] of the
  factor's quantile (for a uniform input: per its whole range).

The design's quantiles are mapped into [``tail``, ``1 - tail``] (default 0.001), so
unbounded distributions (normal without bounds, lognormal) are cut at those quantiles: Morris
steps across the whole range and would otherwise jump to +-7 sd; the effect on Sobol indices
is negligible.

Factors (``by``): ``entry`` (one factor per uncertainty entry), ``actor`` (default; an
entry's cells split by actor: "salience:ru-kremlin"), ``cell`` (per actor and issue).
Entries that share a ``group`` name always form one factor, whatever ``by``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detente.errors import DetenteError
from detente.random import spawn
from detente.scenario.schema import Scenario, Uncertainty
from detente.simulate.perturb import PerturbationPlan, compile_plan

__all__ = [
    "SensitivityError",
    "SensitivityResult",
    "analyze_function",
    "design_factors",
    "sensitivity",
]

METHODS = ("sobol", "morris")


class SensitivityError(DetenteError):
    """Sensitivity analysis cannot run (missing extra, no factors, bad sizes)."""


def _salib() -> Any:
    try:
        import SALib  # noqa: F401
        from SALib.analyze import morris as morris_a
        from SALib.analyze import sobol as sobol_a
        from SALib.sample import morris as morris_s
        from SALib.sample import sobol as sobol_s
    except ImportError:
        raise SensitivityError(
            "sensitivity analysis needs the 'sensitivity' extra (SALib), which is not "
            "installed; run pip install 'detente[sensitivity]'") from None
    return sobol_s, sobol_a, morris_s, morris_a


# ---------------------------------------------------------------------------------------
# designs on [0, 1]^D, shared by the scenario analysis and the analytic checks


def _design(method: str, d: int, n: int, seed: int, tail: float, levels: int
            ) -> tuple[dict[str, Any], np.ndarray]:
    sobol_s, _, morris_s, _ = _salib()
    lo, hi = (tail, 1.0 - tail)
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)],
               "bounds": [[lo, hi]] * d}
    if method == "sobol":
        if n < 2 or n & (n - 1):
            raise SensitivityError(f"-N {n}: Sobol needs a power of two (e.g. 256, 512, 1024)")
        x = sobol_s.sample(problem, n, calc_second_order=False, seed=seed)
    elif method == "morris":
        if n < 2:
            raise SensitivityError(f"-N {n}: Morris needs at least 2 trajectories (10-20 "
                                   f"is usual)")
        x = morris_s.sample(problem, n, num_levels=levels, seed=seed)
    else:
        raise SensitivityError(f"--method {method!r}: choose sobol or morris")
    return problem, x


def _analyze(method: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int,
             levels: int) -> dict[str, np.ndarray]:
    _, sobol_a, _, morris_a = _salib()
    d = problem["num_vars"]
    # a constant forecast (the issue does not depend on any factor) has no variance to split
    if not np.all(np.isfinite(y)) or float(np.var(y)) <= 1e-24:
        z = np.zeros(d)
        keys = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else \
            ("mu_star", "mu_star_conf", "sigma", "mu")
        out = {k: z.copy() for k in keys}
        if not np.all(np.isfinite(y)):
            out = {k: np.full(d, math.nan) for k in keys}
        return out
    if method == "sobol":
        res = sobol_a.analyze(problem, y, calc_second_order=False, seed=seed)
        return {k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    # elementary effects per unit of the design range (the factor's [0, 1] quantile scale)
    res = morris_a.analyze(problem, x, y, num_levels=levels, seed=seed)
    return {k: np.asarray(res[k], dtype=float) for k in ("mu_star", "mu_star_conf", "sigma",
                                                          "mu")}


def analyze_function(func: Callable[[np.ndarray], np.ndarray], d: int, *,
                     method: str = "sobol", n: int = 1024, seed: int = 0, levels: int = 4
                     ) -> dict[str, np.ndarray]:
    """Indices of ``func`` (``[R, d]`` points of the unit cube -> ``[R]``) by the same
    design and estimator the scenario analysis uses (for analytic checks)."""
    problem, x = _design(method, d, n, seed, 0.0, levels)
    return _analyze(method, problem, x, np.asarray(func(x), dtype=float), seed, levels)


# ---------------------------------------------------------------------------------------
# factors of a scenario


@dataclass(frozen=True)
class DesignFactor:
    name: str
    description: str
    cells: int  # how many inputs move together


def design_factors(plan: PerturbationPlan, by: str = "actor"
                   ) -> tuple[list[DesignFactor], list[np.ndarray]]:
    """The design factors of ``plan`` and, per plan entry, the design column of each cell."""
    if by not in ("entry", "actor", "cell"):
        raise SensitivityError(f"--by {by!r}: choose entry, actor or cell")
    names: dict[str, int] = {}
    counts: list[int] = []
    descs: list[str] = []
    columns: list[np.ndarray] = []

    def col(name: str, desc: str) -> int:
        if name not in names:
            names[name] = len(names)
            counts.append(0)
            descs.append(desc)
        counts[names[name]] += 1
        return names[name]

    for f in plan.factors:
        if f.group:
            cols = [col(f.group, f"group {f.group}") for _ in range(f.size)]
        elif f.target.startswith("param:") or by == "entry":
            label = f.target if f.target.startswith("param:") else \
                f"{f.target}[{f.entry}]"
            cols = [col(label, f.describe()) for _ in range(f.size)]
        elif by == "actor":
            cols = [col(f"{f.target}:{lab.split('/')[0]}", f"{f.target} of "
                        f"{lab.split('/')[0]}") for lab in f.labels]
        else:
            cols = [col(f"{f.target}:{lab}", f"{f.target} of {lab}") for lab in f.labels]
        columns.append(np.asarray(cols, dtype=int))
    factors = [DesignFactor(n, descs[i], counts[i]) for n, i in names.items()]
    return factors, columns


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """Indices per model, issue and factor (``indices[model][issue][key] -> [D]``)."""

    method: str
    scenario_id: str
    models: tuple[str, ...]
    issue_ids: tuple[str, ...]
    factors: tuple[DesignFactor, ...]
    indices: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]]
    variance: Mapping[str, Mapping[str, float]]
    n_runs: int
    n: int
    seed: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return "ST" if self.method == "sobol" else "mu_star"

    def ranking(self, model: str, issue: str) -> list[tuple[str, float]]:
        """Factors by importance on one forecast (ST for Sobol, mu_star for Morris)."""
        v = self.indices[model][issue][self.key]
        order = np.argsort(-np.nan_to_num(v, nan=-np.inf), kind="stable")
        return [(self.factors[i].name, float(v[i])) for i in order]

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for model in self.models:
            for iss in self.issue_ids:
                idx = self.indices[model][iss]
                ranks = {name: r for r, (name, _) in enumerate(self.ranking(model, iss), 1)}
                for d, f in enumerate(self.factors):
                    row: dict[str, Any] = {"model": model, "issue": iss, "factor": f.name,
                                           "rank": ranks[f.name]}
                    row.update({k: float(v[d]) for k, v in idx.items()})
                    out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "scenario": self.scenario_id, "n": self.n,
            "runs": self.n_runs, "seed": self.seed,
            "factors": [{"name": f.name, "description": f.description, "inputs": f.cells}
                        for f in self.factors],
            "variance": {m: dict(v) for m, v in self.variance.items()},
            "indices": self.rows(), "notes": list(self.notes),
        }


def sensitivity(scenario: Scenario, models: Sequence[Any] = ("compromise",), *,
                method: str = "sobol", n: int | None = None, by: str = "actor",
                uncertainty: Sequence[Uncertainty | Mapping[str, Any]] | None = None,
                seed: int = 0, tail: float = 0.001, levels: int = 4,
                executor: Any = "serial", workers: int | None = None,
                address: str | None = None, progress: bool = False,
                chunk_size: int = 500) -> SensitivityResult:
    """Sobol or Morris indices of every model's forecast on every issue.

    n: Sobol base sample (a power of two; default 256 -> ``256 (D + 2)`` runs) or Morris
    trajectories (default 20 -> ``20 (D + 1)`` runs).
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from detente.simulate.montecarlo import (
        _Progress,
        executor_context,
        resolve_models,
        resolve_uncertainty,
    )
    from detente.simulate.run import Job, pack_job, run_design_chunk

    ms = resolve_models(models)
    unc = resolve_uncertainty(scenario, uncertainty)
    plan = compile_plan(scenario, unc)
    factors, columns = design_factors(plan, by)
    d = len(factors)
    if d < 2:
        raise SensitivityError("sensitivity analysis needs at least two uncertain factors; "
                               "declare more 'uncertainty' entries or use --by actor/cell")
    if not 0 <= tail < 0.5:
        raise SensitivityError(f"tail {tail}: use a quantile in [0, 0.5)")
    n = n or (256 if method == "sobol" else 20)
    problem, x = _design(method, d, n, seed, 0.0, levels)
    # push the unit design into the quantile range [tail, 1 - tail] of unbounded entries
    q = tail + (1 - 2 * tail) * x if tail > 0 else x
    job = Job(scenario, unc, tuple(ms), (("base", ()),))
    digest, blob = pack_job(job)
    rows = x.shape[0]
    seeds = spawn(int(seed), rows)
    starts = list(range(0, rows, chunk_size))
    results: dict[int, Any] = {}
    bar = _Progress(rows, f"{method} on {scenario.id}") if progress else None
    try:
        with executor_context(executor, workers, address) as handle:
            futs = {handle.executor.submit(run_design_chunk, digest, blob, s,
                                           q[s:s + chunk_size], columns,
                                           seeds[s:s + chunk_size]): s for s in starts}
            while futs:
                done, _ = wait(list(futs), return_when=FIRST_COMPLETED)
                for f in done:
                    s = futs.pop(f)
                    results[s] = f.result()
                    if bar is not None:
                        bar.advance(results[s].outcome.shape[2])
    finally:
        if bar is not None:
            bar.close()
    y = np.concatenate([results[s].outcome[0] for s in sorted(results)], axis=1)  # [M, R, m]
    indices: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    variance: dict[str, dict[str, float]] = {}
    notes = []
    if uncertainty is None and not scenario.uncertainty:
        notes.append("the scenario declares no uncertainty: used the default prior")
    for j, m in enumerate(ms):
        indices[m.name] = {}
        variance[m.name] = {}
        for k, iss in enumerate(scenario.issue_ids):
            yy = y[j, :, k]
            indices[m.name][iss] = _analyze(method, problem, x, yy, seed, levels)
            variance[m.name][iss] = float(np.var(yy))
    return SensitivityResult(method, scenario.id, tuple(m.name for m in ms),
                             scenario.issue_ids, tuple(factors), indices, variance, rows, n,
                             seed, tuple(notes))
