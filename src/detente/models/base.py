"""The model contract every forecasting model honours.

A model is a class with a frozen pydantic ``Params``, a registry ``name``, ``tags`` and one
public method, ``forecast(scenario, *, rng=None) -> Forecast``. ``forecast`` is pure: it
mutates neither the model nor the scenario, and its only randomness is ``rng``.

Per-issue models implement :meth:`PerIssueModel.solve_issue`; round-based models use the
shared loop :func:`iterate` (convergence, cycle detection, round cap) so that every model
stops the same way.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from detente.errors import ModelError, NotConvergedWarning, ParamsError
from detente.random import SeedLike, as_generator, seed_of
from detente.scenario.arrays import ScenarioArrays, scenario_arrays
from detente.scenario.schema import Scenario

__all__ = [
    "Forecast",
    "ForecastModel",
    "IssueData",
    "IssueResult",
    "ModelParams",
    "ModelTags",
    "PerIssueModel",
    "Provenance",
    "RunResult",
    "StopRule",
    "iterate",
    "IterationResult",
]


def _version() -> str:
    from detente import __version__

    return __version__


class ModelParams(BaseModel):
    """Base of every model's parameters: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class ModelTags:
    """What a model promises, read by the conformance checks and the CLI.

    per_issue: issues are solved independently (solving them together equals separately).
    capability_scale_invariant: scaling every capability by a constant leaves the outcome.
    stochastic: the forecast depends on ``rng``.
    round_based: positions change over rounds.
    multi_dimensional: issues interact (a joint model).
    uses_status_quo: reads each issue's status quo / reference point.
    """

    per_issue: bool = True
    capability_scale_invariant: bool = True
    stochastic: bool = False
    round_based: bool = False
    multi_dimensional: bool = False
    uses_status_quo: bool = False
    needs_status_quo: bool = False


@dataclass(frozen=True)
class Provenance:
    """Where a forecast comes from: enough to reproduce it."""

    model: str
    params: dict[str, Any]
    scenario_id: str
    scenario_hash: str
    seed: int | None
    version: str
    created: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "params": self.params,
            "scenario_id": self.scenario_id,
            "scenario_hash": self.scenario_hash,
            "seed": self.seed,
            "version": self.version,
            "created": self.created,
        }


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Forecast:
    """An immutable forecast.

    outcome: [issue] point forecast on each issue's own scale.
    positions: [round, actor, issue]; round 0 holds the initial positions. Actors without a
        stance on an issue are NaN. Issues that stop early repeat their last positions.
    rounds: [issue] rounds actually run (0 for closed-form models).
    converged: [issue] whether the stopping rule was met (closed-form models: True).
    details: model-specific, JSON-friendly extras (per-round moves, alternative forecasts,
        cycles, ...), keyed by issue id where they are per issue.
    """

    model: str
    issue_ids: tuple[str, ...]
    actor_ids: tuple[str, ...]
    outcome: np.ndarray
    positions: np.ndarray
    rounds: np.ndarray
    converged: np.ndarray
    provenance: Provenance
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", _ro(np.asarray(self.outcome, dtype=float)))
        object.__setattr__(self, "positions", _ro(np.asarray(self.positions, dtype=float)))
        object.__setattr__(self, "rounds", _ro(np.asarray(self.rounds, dtype=int)))
        object.__setattr__(self, "converged", _ro(np.asarray(self.converged, dtype=bool)))
        m, n = len(self.issue_ids), len(self.actor_ids)
        if self.outcome.shape != (m,):
            raise ModelError(f"{self.model}: outcome shape {self.outcome.shape} != ({m},)")
        if self.positions.ndim != 3 or self.positions.shape[1:] != (n, m):
            raise ModelError(f"{self.model}: positions shape {self.positions.shape} is not "
                             f"(rounds, {n}, {m})")

    @property
    def n_rounds(self) -> int:
        """Rows of the position history minus the initial one."""
        return self.positions.shape[0] - 1

    def outcome_of(self, issue_id: str) -> float:
        """The point forecast on ``issue_id``."""
        if issue_id not in self.issue_ids:
            raise KeyError(f"unknown issue {issue_id!r}; this forecast covers: "
                           f"{', '.join(self.issue_ids)}")
        return float(self.outcome[self.issue_ids.index(issue_id)])

    def forecast_rows(self) -> list[dict[str, Any]]:
        """One row per issue: ``{model, issue, outcome, rounds, converged}``."""
        return [
            {
                "model": self.model,
                "issue": iss,
                "outcome": float(self.outcome[k]),
                "rounds": int(self.rounds[k]),
                "converged": bool(self.converged[k]),
            }
            for k, iss in enumerate(self.issue_ids)
        ]

    def tidy(self) -> list[dict[str, Any]]:
        """Tidy per-round table: rows of ``model, round, actor, issue, position``."""
        rows = []
        r_n, a_n, i_n = self.positions.shape
        for r in range(r_n):
            for a in range(a_n):
                for i in range(i_n):
                    v = self.positions[r, a, i]
                    if not math.isnan(v):
                        rows.append({"model": self.model, "round": r, "actor": self.actor_ids[a],
                                     "issue": self.issue_ids[i], "position": float(v)})
        return rows


@dataclass(frozen=True)
class RunResult:
    """What a model's ``_run`` returns; ``forecast`` adds provenance."""

    outcome: np.ndarray
    positions: np.ndarray
    rounds: np.ndarray
    converged: np.ndarray
    details: Mapping[str, Any] = field(default_factory=dict)


class ForecastModel(ABC):
    """Base class of every model. Subclasses set ``name``, ``Params``, ``tags`` and ``_run``."""

    name: ClassVar[str]
    Params: ClassVar[type[ModelParams]] = ModelParams
    tags: ClassVar[ModelTags] = ModelTags()
    summary: ClassVar[str] = ""
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __init__(self, params: ModelParams | Mapping[str, Any] | None = None, /,
                 **overrides: Any) -> None:
        if isinstance(params, ModelParams):
            if not isinstance(params, self.Params):
                raise ParamsError(f"{self.name}: expected {self.Params.__name__}, got "
                                  f"{type(params).__name__}")
            values = params.model_dump()
        else:
            values = dict(params or {})
        preset = values.pop("preset", None) or overrides.pop("preset", None)
        if preset is not None:
            if preset not in self.presets:
                raise ParamsError(f"{self.name}: unknown preset {preset!r}; choose one of "
                                  f"{', '.join(self.presets) or '(none)'}")
            values = {**self.presets[preset], **values}
        values.update(overrides)
        try:
            self.params = self.Params(**values)
        except ValidationError as exc:
            raise ParamsError(_params_message(self.name, exc)) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.params == other.params

    def __hash__(self) -> int:
        return hash((type(self), self.params))

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        """Forecast every issue of ``scenario``. Pure: same inputs and seed, same forecast."""
        if not isinstance(scenario, Scenario):
            raise TypeError(f"forecast expects a Scenario, not {type(scenario).__name__}")
        arrays = scenario_arrays(scenario)
        result = self._run(arrays, as_generator(rng))
        prov = Provenance(
            model=self.name,
            params=self.params.model_dump(mode="json"),
            scenario_id=scenario.id,
            scenario_hash=scenario.content_hash(),
            seed=seed_of(rng),
            version=_version(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        if not bool(np.all(result.converged)):
            bad = [iss for iss, ok in zip(arrays.issue_ids, result.converged, strict=True)
                   if not ok]
            warnings.warn(f"{self.name}: no convergence on {', '.join(bad)}; the forecast "
                          f"reports the last round (see details for cycles)",
                          NotConvergedWarning, stacklevel=2)
        return Forecast(
            model=self.name,
            issue_ids=arrays.issue_ids,
            actor_ids=arrays.actor_ids,
            outcome=result.outcome,
            positions=result.positions,
            rounds=result.rounds,
            converged=result.converged,
            provenance=prov,
            details=dict(result.details),
        )

    def forecast_arrays(self, arrays: ScenarioArrays, *, rng: SeedLike = None) -> RunResult:
        """Forecast straight from arrays (no provenance): the hot path for Monte Carlo."""
        return self._run(arrays, as_generator(rng))

    @abstractmethod
    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        """Compute the forecast from the scenario's arrays."""


def _params_message(model: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(params)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown parameter"
        parts.append(f"{model}.{loc}: {msg} (got {err.get('input')!r})")
    return "invalid parameters: " + "; ".join(parts)


# ---------------------------------------------------------------------------------------
# per-issue models


@dataclass(frozen=True)
class IssueData:
    """The actors with a stance on one issue, as 1-D arrays."""

    index: int
    issue_id: str
    actors: np.ndarray  # indices into the scenario's actor axis
    position: np.ndarray
    salience: np.ndarray  # 0-1
    capability: np.ndarray
    scale_min: float
    scale_max: float
    status_quo: float  # NaN if none

    @property
    def width(self) -> float:
        return self.scale_max - self.scale_min


@dataclass(frozen=True)
class IssueResult:
    """One issue's solution. ``path`` is [round, actor] over the issue's actors (round 0 =
    initial); closed-form models return the initial positions as a one-row path."""

    outcome: float
    path: np.ndarray
    converged: bool = True
    rounds: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)


class PerIssueModel(ForecastModel):
    """A model that solves each issue on its own (``tags.per_issue``)."""

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        results: list[IssueResult] = []
        for k, iss in enumerate(arrays.issue_ids):
            idx = np.flatnonzero(arrays.present[:, k])
            if idx.size == 0:
                raise ModelError(f"{self.name}: issue {iss!r} has no actor with a stance")
            data = IssueData(
                index=k,
                issue_id=iss,
                actors=idx,
                position=arrays.position[idx, k].copy(),
                salience=arrays.salience[idx, k].copy(),
                capability=arrays.capability[idx, k].copy(),
                scale_min=float(arrays.scale_min[k]),
                scale_max=float(arrays.scale_max[k]),
                status_quo=float(arrays.status_quo[k]),
            )
            results.append(self.solve_issue(data, rng))
        n_rows = max(r.path.shape[0] for r in results)
        positions = np.full((n_rows, arrays.n_actors, arrays.n_issues), np.nan)
        details: dict[str, Any] = {}
        for k, res in enumerate(results):
            idx = np.flatnonzero(arrays.present[:, k])
            path = res.path
            if path.shape[0] < n_rows:
                pad = np.repeat(path[-1:], n_rows - path.shape[0], axis=0)
                path = np.vstack([path, pad])
            positions[:, idx, k] = path
            if res.details:
                details[arrays.issue_ids[k]] = dict(res.details)
        return RunResult(
            outcome=np.array([r.outcome for r in results]),
            positions=positions,
            rounds=np.array([r.rounds for r in results]),
            converged=np.array([r.converged for r in results]),
            details=details,
        )

    @abstractmethod
    def solve_issue(self, issue: IssueData, rng: np.random.Generator) -> IssueResult:
        """Solve one issue."""


# ---------------------------------------------------------------------------------------
# the shared round loop


class StopRule(ModelParams):
    """Shared stopping rule of round-based models (models.md §1.9).

    Stop when the largest move is below ``tol`` x scale width for ``patience`` rounds, when a
    state repeats (cycle), or at ``max_rounds``.
    """

    tol: float = 0.005
    patience: int = 2
    max_rounds: int = 10
    detect_cycles: bool = True
    cycle_decimals: int = 6


@dataclass(frozen=True)
class IterationResult:
    path: np.ndarray  # [round, ...] including the initial state
    infos: list[Any]  # one per step
    converged: bool
    cycle: tuple[int, int] | None  # (first round of the cycle, period) if one was found

    @property
    def rounds(self) -> int:
        return self.path.shape[0] - 1


def iterate(
    x0: np.ndarray,
    step: Callable[[np.ndarray, int], tuple[np.ndarray, Any]],
    *,
    width: float | np.ndarray,
    rule: StopRule,
) -> IterationResult:
    """Run ``step`` from ``x0`` until the stopping rule says so.

    ``step(x, t)`` returns the positions after round ``t`` (1-based) and an info object kept
    per round (moves and their reasons). ``width`` scales the convergence tolerance.
    """
    x = np.array(x0, dtype=float, copy=True)
    path = [x.copy()]
    infos: list[Any] = []
    seen: dict[bytes, int] = {}
    if rule.detect_cycles:
        seen[np.round(x, rule.cycle_decimals).tobytes()] = 0
    quiet = 0
    tol = np.asarray(width, dtype=float) * rule.tol
    for t in range(1, rule.max_rounds + 1):
        new, info = step(x, t)
        new = np.asarray(new, dtype=float)
        path.append(new.copy())
        infos.append(info)
        moved = np.abs(new - x)
        quiet = quiet + 1 if bool(np.all(np.nan_to_num(moved) < tol)) else 0
        x = new
        if quiet >= rule.patience:
            return IterationResult(np.array(path), infos, True, None)
        if rule.detect_cycles:
            key = np.round(x, rule.cycle_decimals).tobytes()
            if key in seen:
                first = seen[key]
                period = t - first
                if period > 1 or quiet == 0:
                    # a fixed point (period 1) counts as convergence; longer loops are cycles
                    if period == 1:
                        return IterationResult(np.array(path), infos, True, None)
                    return IterationResult(np.array(path), infos, False, (first, period))
            seen[key] = t
    return IterationResult(np.array(path), infos, False, None)
