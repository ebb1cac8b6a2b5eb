"""What-if analysis: named interventions compared with the baseline, across models.

An :class:`Intervention` bundles changes applied on top of the scenario (and on top of
every Monte Carlo draw): an actor shifts its position, a faction exits the talks, a cost
shock changes an actor's monthly war cost, a new guarantee is offered, a salience or
capability changes, or a model parameter is set. :func:`whatif` runs the baseline and every
intervention with the same models; with ``n > 0`` draws it uses common random numbers (draw
b of the baseline and of each intervention share the same perturbed inputs and random
streams), so the distribution of the *change* is not blurred by sampling noise.

Run-file form (YAML, a list under ``whatif:``)::

    whatif:
      - name: us-steps-back
        salience: {actor: us-wh, issue: "*", delta: -30}
      - name: kremlin-softens
        shift: {actor: ru-kremlin, issue: territory, delta: 10}
      - name: hardliners-exit
        drop: ua-hardliners
      - name: sanctions-bite
        cost: {actor: ru-kremlin, factor: 1.5}
      - name: nato-style-guarantee
        guarantee: 0.8
      - name: eu-only
        set: {expected_utility.Q: 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detente.errors import DetenteError
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario
from detente.simulate.batch import needs_scenario
from detente.simulate.perturb import DrawBatch, match_ids

__all__ = [
    "CapabilityChange",
    "CostChange",
    "Intervention",
    "SalienceChange",
    "Shift",
    "WhatIfError",
    "WhatIfResult",
    "apply_interventions",
    "check_intervention",
    "parse_interventions",
    "whatif",
]


class WhatIfError(DetenteError, ValueError):
    """An intervention names an unknown actor/issue or an impossible change."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Shift(_Frozen):
    """Move ``actor``'s position on ``issue`` by ``delta`` (or to ``to``); clipped to the scale."""

    actor: str
    issue: str = "*"
    delta: float | None = None
    to: float | None = None


class SalienceChange(_Frozen):
    """Set (``value``, 0-100) or change (``delta``) a salience; kept within 0-100."""

    actor: str
    issue: str = "*"
    value: float | None = Field(default=None, ge=0, le=100)
    delta: float | None = None


class CapabilityChange(_Frozen):
    """Set (``value``) or multiply (``factor``) an actor's capability on issues."""

    actor: str
    issue: str = "*"
    value: float | None = Field(default=None, ge=0)
    factor: float | None = Field(default=None, ge=0)


class CostChange(_Frozen):
    """A cost shock: set (``monthly_cost``), multiply (``factor``) or add (``delta``) an actor's
    monthly war cost (its ``dynamics`` entry)."""

    actor: str
    monthly_cost: float | None = Field(default=None, ge=0)
    factor: float | None = Field(default=None, ge=0)
    delta: float | None = None


def _listify(v: Any) -> Any:
    if v is None:
        return []
    if isinstance(v, (str, Mapping)):
        return [v]
    return v


class Intervention(_Frozen):
    """A named set of changes applied together."""

    name: str = Field(min_length=1)
    description: str | None = None
    shift: tuple[Shift, ...] = ()
    drop: tuple[str, ...] = ()
    cost: tuple[CostChange, ...] = ()
    salience: tuple[SalienceChange, ...] = ()
    capability: tuple[CapabilityChange, ...] = ()
    guarantee: float | None = Field(default=None, ge=0, le=1, description=(
        "strength of a new third-party guarantee, 0-1; sets the 'guarantee' parameter of "
        "every model that has one"))
    set: dict[str, Any] = Field(default_factory=dict, description="MODEL.PARAM: value")

    _norm = field_validator("shift", "drop", "cost", "salience", "capability",
                            mode="before")(_listify)

    @property
    def is_empty(self) -> bool:
        return not (self.shift or self.drop or self.cost or self.salience or self.capability
                    or self.guarantee is not None or self.set)

    def model_params(self, model: Any) -> dict[str, Any]:
        """Parameter overrides this intervention makes for ``model``."""
        out: dict[str, Any] = {}
        if self.guarantee is not None and "guarantee" in type(model).Params.model_fields:
            out["guarantee"] = self.guarantee
        for key, val in self.set.items():
            m, _, p = key.partition(".")
            if m == model.name:
                out[p] = val
        return out


def parse_interventions(items: Sequence[Mapping[str, Any] | Intervention], where: str = "whatif"
                        ) -> list[Intervention]:
    """Interventions from run-file mappings; errors name the entry and field."""
    out = []
    for n, raw in enumerate(items):
        if isinstance(raw, Intervention):
            out.append(raw)
            continue
        data = dict(raw)
        data.setdefault("name", f"intervention-{n + 1}")
        try:
            out.append(Intervention(**data))
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = ".".join(str(p) for p in e["loc"])
            msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            raise WhatIfError(f"{where}[{n}].{loc}: {msg} (got {e.get('input')!r}); allowed: "
                              f"name, shift, drop, cost, salience, capability, guarantee, "
                              f"set") from None
    names = [iv.name for iv in out]
    dup = {x for x in names if names.count(x) > 1}
    if dup or "baseline" in names:
        raise WhatIfError(f"{where}: names must be unique and not 'baseline' "
                          f"(got {', '.join(sorted(dup | ({'baseline'} & set(names))))})")
    return out


def check_intervention(iv: Intervention, scenario: Scenario, models: Sequence[Any] = ()
                       ) -> list[str]:
    """Raise :class:`WhatIfError` for unknown ids; return notes (e.g. a guarantee no model
    reads)."""
    aids, iids = scenario.actor_ids, scenario.issue_ids
    notes: list[str] = []

    def actors(pat: str, field_: str) -> list[int]:
        found = match_ids(pat, aids)
        if not found:
            raise WhatIfError(f"whatif {iv.name!r}: {field_}: unknown actor {pat!r}; actors: "
                              f"{', '.join(aids)}")
        return found

    def issues(pat: str, field_: str) -> None:
        if not match_ids(pat, iids):
            raise WhatIfError(f"whatif {iv.name!r}: {field_}: unknown issue {pat!r}; issues: "
                              f"{', '.join(iids)}")

    for s in iv.shift:
        actors(s.actor, "shift.actor")
        issues(s.issue, "shift.issue")
        if (s.delta is None) == (s.to is None):
            raise WhatIfError(f"whatif {iv.name!r}: shift needs exactly one of 'delta' or 'to'")
    for c in iv.salience:
        actors(c.actor, "salience.actor")
        issues(c.issue, "salience.issue")
        if (c.value is None) == (c.delta is None):
            raise WhatIfError(f"whatif {iv.name!r}: salience needs one of 'value' or 'delta'")
    for cap_c in iv.capability:
        actors(cap_c.actor, "capability.actor")
        issues(cap_c.issue, "capability.issue")
        if (cap_c.value is None) == (cap_c.factor is None):
            raise WhatIfError(f"whatif {iv.name!r}: capability needs one of 'value' or "
                              f"'factor'")
    for d in iv.drop:
        actors(d, "drop")
    if len({aids[i] for d in iv.drop for i in match_ids(d, aids)}) >= len(aids):
        raise WhatIfError(f"whatif {iv.name!r}: drop would remove every actor")
    with_dyn = {d.actor for d in scenario.dynamics}
    for cost_c in iv.cost:
        for i in actors(cost_c.actor, "cost.actor"):
            if aids[i] not in with_dyn:
                raise WhatIfError(f"whatif {iv.name!r}: cost: actor {aids[i]!r} has no "
                                  f"'dynamics' entry (monthly_cost) to change; add one to "
                                  f"the scenario")
        if sum(x is not None for x in (cost_c.monthly_cost, cost_c.factor, cost_c.delta)) != 1:
            raise WhatIfError(f"whatif {iv.name!r}: cost needs one of 'monthly_cost', "
                              f"'factor' or 'delta'")
    if models:
        names = {m.name: m for m in models}
        for key in iv.set:
            m, dot, p = key.partition(".")
            if not dot or m not in names:
                raise WhatIfError(f"whatif {iv.name!r}: set {key!r}: write MODEL.PARAM for a "
                                  f"model being run ({', '.join(names)})")
            if p not in type(names[m]).Params.model_fields:
                raise WhatIfError(f"whatif {iv.name!r}: set {key!r}: {m} has no parameter "
                                  f"{p!r}")
        if iv.guarantee is not None and not any(
                "guarantee" in type(m).Params.model_fields for m in models):
            notes.append(f"{iv.name}: no model being run reads a guarantee parameter; the "
                         f"guarantee changes nothing here (see `detente deals` for "
                         f"implementation risk)")
        if iv.cost and not any(needs_scenario(m) for m in models):
            notes.append(f"{iv.name}: none of the models being run reads war costs "
                         f"(dynamics); the cost shock changes nothing here")
    return notes


def apply_interventions(batch: DrawBatch, interventions: Sequence[Intervention],
                        scenario: Scenario, arrays: ScenarioArrays) -> DrawBatch:
    """``batch`` with the interventions applied on top of every draw (a new batch)."""
    if not interventions:
        return batch
    pos, sal, cap = batch.position.copy(), batch.salience.copy(), batch.capability.copy()
    keep = np.ones(arrays.n_actors, dtype=bool) if batch.keep is None else batch.keep.copy()
    dyn = {f: dict(v) for f, v in batch.dynamics.items()}
    params = {m: dict(v) for m, v in batch.params.items()}
    extra = dict(batch.extra)
    aids, iids = arrays.actor_ids, arrays.issue_ids
    present = arrays.present
    base_dyn = {d.actor: d for d in scenario.dynamics}
    bsz = batch.size
    for iv in interventions:
        for s in iv.shift:
            for i in match_ids(s.actor, aids):
                for k in match_ids(s.issue, iids):
                    if not present[i, k]:
                        continue
                    new = pos[:, i, k] + s.delta if s.delta is not None else \
                        np.full(bsz, float(s.to))  # type: ignore[arg-type]
                    pos[:, i, k] = np.clip(new, arrays.scale_min[k], arrays.scale_max[k])
        for c in iv.salience:
            for i in match_ids(c.actor, aids):
                for k in match_ids(c.issue, iids):
                    if not present[i, k]:
                        continue
                    new = (np.full(bsz, c.value / 100.0) if c.value is not None
                           else sal[:, i, k] + c.delta / 100.0)  # type: ignore[operator]
                    sal[:, i, k] = np.clip(new, 0.0, 1.0)
        for cap_c in iv.capability:
            for i in match_ids(cap_c.actor, aids):
                for k in match_ids(cap_c.issue, iids):
                    if not present[i, k]:
                        continue
                    cap[:, i, k] = (np.full(bsz, cap_c.value) if cap_c.value is not None
                                    else cap[:, i, k] * cap_c.factor)
        for d in iv.drop:
            for i in match_ids(d, aids):
                keep[i] = False
        for cost_c in iv.cost:
            fd = dyn.setdefault("monthly_cost", {})
            for i in match_ids(cost_c.actor, aids):
                a = aids[i]
                if a not in base_dyn:
                    continue
                cur = fd.get(a, np.full(bsz, float(base_dyn[a].monthly_cost)))
                if cost_c.monthly_cost is not None:
                    new = np.full(bsz, float(cost_c.monthly_cost))
                elif cost_c.factor is not None:
                    new = cur * cost_c.factor
                else:
                    new = cur + float(cost_c.delta)  # type: ignore[arg-type]
                fd[a] = np.maximum(new, 0.0)
        # guarantee and set are model parameters: applied where the models are built
    present = batch.present
    delegated = getattr(arrays, "delegated", None)
    if not keep.all() and delegated is not None and delegated.any():
        # a parent whose factions all left speaks for itself again on that issue
        present = present.copy()
        parent = {a.id: a.parent for a in scenario.actors}
        for p, k in zip(*np.nonzero(delegated), strict=True):
            if not keep[p]:
                continue
            if any(parent.get(aids[i]) == aids[p] and keep[i] and present[i, k]
                   for i in range(len(aids))):
                continue
            st = scenario.stance(aids[p], iids[k])
            if st is None:
                continue
            pos[:, p, k] = st.position
            sal[:, p, k] = st.salience / 100.0
            cap[:, p, k] = (scenario.actor(aids[p]).capability if st.capability is None
                            else st.capability)
            present[p, k] = True
    return replace(batch, position=pos, salience=sal, capability=cap, present=present,
                   keep=None if bool(keep.all()) else keep, dynamics=dyn, params=params,
                   extra=extra)


# ---------------------------------------------------------------------------------------
# the analysis


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    """Baseline and intervention forecasts; ``point[v, model, issue]`` without perturbation
    (v = 0 is the baseline) and, with Monte Carlo, ``draws[v, model, draw, issue]``."""

    scenario_id: str
    names: tuple[str, ...]  # "baseline", then the interventions
    models: tuple[str, ...]
    issue_ids: tuple[str, ...]
    point: np.ndarray
    draws: np.ndarray | None = None
    converged: np.ndarray | None = None
    n_draws: int = 0
    partial: bool = False
    seed: int | None = None
    notes: tuple[str, ...] = ()
    interventions: tuple[Intervention, ...] = field(default_factory=tuple)

    def rows(self) -> list[dict[str, Any]]:
        """One row per intervention, model and issue: baseline, with intervention, change,
        and (with draws) the change's mean, 5/50/95 % quantiles and P(change > 0)."""
        out = []
        for v in range(1, len(self.names)):
            for j, model in enumerate(self.models):
                for k, iss in enumerate(self.issue_ids):
                    base, new = float(self.point[0, j, k]), float(self.point[v, j, k])
                    row: dict[str, Any] = {"intervention": self.names[v], "model": model,
                                           "issue": iss, "baseline": base, "value": new,
                                           "change": new - base}
                    if self.draws is not None and self.draws.shape[2] > 0:
                        d = self.draws[v, j, :, k] - self.draws[0, j, :, k]
                        row.update({
                            "change_mean": float(np.mean(d)),
                            "change_q05": float(np.quantile(d, 0.05)),
                            "change_q50": float(np.quantile(d, 0.5)),
                            "change_q95": float(np.quantile(d, 0.95)),
                            "p_up": float(np.mean(d > 1e-9)),
                            "p_down": float(np.mean(d < -1e-9)),
                        })
                    out.append(row)
        return out


def whatif(scenario: Scenario, interventions: Sequence[Intervention | Mapping[str, Any]],
           models: Sequence[Any] = ("compromise",), *, n: int = 0, seed: int = 0,
           uncertainty: Sequence[Any] | None = None, executor: Any = "process",
           workers: int | None = None, address: str | None = None, progress: bool = False,
           chunk_size: int | None = None) -> WhatIfResult:
    """Compare ``interventions`` with the baseline for every model.

    ``n = 0``: point forecasts only. ``n > 0``: also ``n`` Monte Carlo draws per variant with
    common random numbers (same seed, same draws), giving the distribution of the change.
    """
    from detente.simulate.montecarlo import resolve_models, run_variants

    ivs = parse_interventions(list(interventions))
    ms = resolve_models(models)
    notes: list[str] = []
    for iv in ivs:
        notes.extend(check_intervention(iv, scenario, ms))
    variants = [("baseline", ())] + [(iv.name, (iv,)) for iv in ivs]
    run = run_variants(scenario, ms, variants, n=n, seed=seed, uncertainty=uncertainty,
                       executor=executor, workers=workers, address=address, progress=progress,
                       chunk_size=chunk_size)
    return WhatIfResult(
        scenario_id=scenario.id, names=tuple(v[0] for v in variants),
        models=tuple(m.name for m in ms), issue_ids=scenario.issue_ids, point=run.point,
        draws=run.outcome if n > 0 else None, converged=run.converged if n > 0 else None,
        n_draws=int(run.draws.size) if n > 0 else 0, partial=run.partial, seed=seed,
        notes=tuple(notes), interventions=tuple(ivs))
