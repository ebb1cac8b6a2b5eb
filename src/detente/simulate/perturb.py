"""Distributions over a scenario's inputs, compiled once and sampled in batches.

An :class:`~detente.scenario.schema.Uncertainty` entry names a *target* (``position``,
``salience``, ``capability``, ``monthly_cost``, ``drift`` or ``param:<model>.<name>``), which
actors and issues it covers (ids, ``*`` wildcards or comma lists; ``None`` means every one)
and a distribution. :func:`compile_plan` resolves the entries against a scenario into a
:class:`PerturbationPlan`; :meth:`PerturbationPlan.sample` turns quantiles ``u`` in (0, 1)
into a :class:`DrawBatch` of perturbed ``[B, actor, issue]`` arrays (the fast path every
model can read), and :func:`batch_scenario` rebuilds one full perturbed
:class:`~detente.scenario.schema.Scenario` for the models that need more than the arrays
(dynamics, conflict).

Every distribution is applied through its inverse CDF, so one code path serves Monte Carlo
(``u`` from each draw's own random stream) and global sensitivity analysis (``u`` from a
Sobol or Morris design). Parameters, all optional unless said (see ``docs/uncertainty.md``):

========== ============================================================================
normal     ``sd`` (target units; salience in 0-100 points) or ``sd_width`` (fraction of
           the issue's scale width; salience: of 100) or ``cv`` (fraction of the base
           value); ``mean`` (default: the scenario's value). Truncated to the bounds.
lognormal  ``sigma`` (log-scale sd), ``median`` (default: the scenario's value);
           truncated to the bounds.
uniform    ``low``/``high`` (absolute), or ``delta`` / ``delta_width`` (base +- delta).
triangular ``low``/``high`` (absolute) or ``delta`` / ``delta_width``; ``mode`` (default
           the base value).
discrete   ``values`` (absolute) or ``deltas`` (added to the base), ``weights`` (default
           equal). Parameter targets may take strings (model switches).
========== ============================================================================

Bounds: positions stay on the issue's scale, saliences on 0-100, capabilities and monthly
costs at or above 0; ``bounds: [low, high]`` narrows them further. Normal and lognormal are
truncated (sampled inside the bounds); the others are clipped.

Options for every entry: ``common: true`` gives all the cells an entry covers the same
quantile in a draw (perfectly correlated errors); by default each cell gets its own.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from scipy import special

from detente.errors import ScenarioError
from detente.scenario.arrays import ScenarioArrays, scenario_arrays
from detente.scenario.schema import Scenario, Uncertainty

__all__ = [
    "CELL_TARGETS",
    "DEFAULT_PRIOR",
    "ACTOR_TARGETS",
    "DrawBatch",
    "Factor",
    "PerturbationPlan",
    "UncertaintyError",
    "batch_scenario",
    "compile_plan",
    "default_prior",
    "draw_arrays",
    "match_ids",
]

CELL_TARGETS = ("position", "salience", "capability")
ACTOR_TARGETS = ("monthly_cost", "drift")
DISTRIBUTIONS = ("normal", "uniform", "triangular", "discrete", "lognormal")

_PER_ISSUE = ("scale_min", "scale_max", "status_quo")

_MC_EPS = 1e-12
"""Quantiles are kept inside [eps, 1 - eps] so unbounded distributions stay finite."""


class UncertaintyError(ScenarioError):
    """An uncertainty entry or run file cannot be applied; the message names the entry."""


def default_prior() -> tuple[Uncertainty, ...]:
    """The documented default prior (models.md §7.2) for scenarios that declare none:
    position sd 5 % of the scale width, salience sd 10 points (both truncated normal),
    capability x LogNormal(0, 0.2)."""
    return (
        Uncertainty(target="position", actor="*", issue="*", distribution="normal",
                    params={"sd_width": 0.05}),
        Uncertainty(target="salience", actor="*", issue="*", distribution="normal",
                    params={"sd": 10}),
        Uncertainty(target="capability", actor="*", issue="*", distribution="lognormal",
                    params={"sigma": 0.2}),
    )


DEFAULT_PRIOR = default_prior()


def match_ids(pattern: str | None, ids: Sequence[str]) -> list[int]:
    """Indices of ``ids`` matched by ``pattern``: an id, ``*``/``?`` wildcards, or a comma list
    of those; ``None`` matches everything."""
    if pattern is None or pattern.strip() in ("", "*"):
        return list(range(len(ids)))
    parts = [p.strip() for p in pattern.split(",") if p.strip()]
    return [k for k, i in enumerate(ids) if any(fnmatch.fnmatchcase(i, p) for p in parts)]


# ---------------------------------------------------------------------------------------
# compiled factors


@dataclass(frozen=True)
class Factor:
    """One uncertainty entry resolved against a scenario.

    ``cells`` are (actor, issue) index pairs for cell targets, actor indices (column 0) for
    dynamics targets and empty for parameters. ``slots`` is the number of quantiles the
    entry consumes per draw (1 when ``common`` or for a parameter).
    """

    entry: int
    target: str
    dist: str
    params: Mapping[str, Any]
    cells: np.ndarray  # [k, 2] int
    labels: tuple[str, ...]  # per cell: "actor/issue" or "actor" or "model.name"
    lo: np.ndarray  # [k] lower bounds (target units; salience 0-100)
    hi: np.ndarray  # [k]
    width: np.ndarray  # [k] scale width for *_width parameters
    common: bool
    group: str | None = None
    model: str | None = None  # parameter targets
    pname: str | None = None

    @property
    def size(self) -> int:
        return max(1, len(self.cells)) if self.target.startswith("param:") else len(self.cells)

    @property
    def slots(self) -> int:
        return 1 if (self.common or self.target.startswith("param:")) else self.size

    def describe(self) -> str:
        if self.target.startswith("param:"):
            return self.target
        return f"{self.target}[{','.join(self.labels[:3])}{',...' if len(self.labels) > 3 else ''}]"

    # -- the inverse CDF ------------------------------------------------------------------
    def values(self, u: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Values for quantiles ``u`` ([B, k] or broadcastable) around ``base`` ([B, k])."""
        p = self.params
        u = np.clip(np.asarray(u, dtype=float), _MC_EPS, 1 - _MC_EPS)
        lo, hi = self.lo, self.hi
        base01 = base
        if self.target == "salience":
            # entries speak 0-100; arrays hold 0-1
            base = base * 100.0
        if self.dist == "normal":
            mean = _num(p, "mean", base)
            sd = self._scale(p, base, ("sd", "sd_width", "cv"))
            out = _truncnorm_ppf(u, mean, sd, lo, hi)
        elif self.dist == "lognormal":
            med = _num(p, "median", base)
            sigma = float(p.get("sigma", 0.0))
            with np.errstate(divide="ignore"):
                lmed = np.log(np.maximum(med, 0.0))
                llo = np.log(np.maximum(lo, 0.0))
                lhi = np.log(hi)
            out = np.exp(_truncnorm_ppf(u, lmed, sigma, llo, lhi)) if sigma > 0 else \
                np.clip(med, lo, hi)
            out = np.where(med <= 0, med, out)
        elif self.dist == "uniform":
            a, b = self._range(p, base)
            out = np.clip(a + (b - a) * u, lo, hi)
        elif self.dist == "triangular":
            a, b = self._range(p, base)
            c = np.clip(_num(p, "mode", base), a, b)
            span = np.where(b > a, b - a, 1.0)
            fc = np.where(b > a, (c - a) / span, 0.5)
            left = a + np.sqrt(u * (b - a) * (c - a))
            right = b - np.sqrt((1 - u) * (b - a) * (b - c))
            out = np.clip(np.where(u < fc, left, right), lo, hi)
        elif self.dist == "discrete":
            vals, cum = self._discrete()
            k = np.minimum(np.searchsorted(cum, u, side="right"), len(vals) - 1)
            if "deltas" in p:
                out = np.clip(base + np.asarray(vals, dtype=float)[k], lo, hi)
            elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                out = np.clip(np.asarray(vals, dtype=float)[k], lo, hi)
            else:  # non-numeric alternatives (model switches)
                out = np.asarray(vals, dtype=object)[k]
        else:  # pragma: no cover - validated at compile time
            raise UncertaintyError(f"unknown distribution {self.dist!r}")
        if self.target == "salience" and out.dtype != object:
            # an unmoved value returns the exact input (x * 100 / 100 may differ in the last bit)
            out = np.where(out == base, base01, out / 100.0)
        return out

    def _scale(self, p: Mapping[str, Any], base: np.ndarray, keys: tuple[str, ...]) -> Any:
        if "sd" in p:
            return float(p["sd"])
        if "sd_width" in p:
            return float(p["sd_width"]) * self._width_unit()
        if "cv" in p:
            return float(p["cv"]) * np.abs(base)
        return 0.0

    def _width_unit(self) -> np.ndarray:
        if self.target == "salience":
            return np.full(len(self.cells), 100.0)
        return self.width

    def _range(self, p: Mapping[str, Any], base: np.ndarray) -> tuple[Any, Any]:
        if "delta" in p or "delta_width" in p:
            d = float(p["delta"]) if "delta" in p else float(p["delta_width"]) * self._width_unit()
            return base - d, base + d
        a = _num(p, "low", base)
        b = _num(p, "high", base)
        return np.minimum(a, b), np.maximum(a, b)

    def _discrete(self) -> tuple[list[Any], np.ndarray]:
        p = self.params
        vals = list(p.get("values", p.get("deltas", [])))
        w = np.asarray(p.get("weights", [1.0] * len(vals)), dtype=float)
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0
        return vals, cum


def _num(p: Mapping[str, Any], key: str, default: Any) -> Any:
    return float(p[key]) if key in p and p[key] is not None else default


def _truncnorm_ppf(u: np.ndarray, mean: Any, sd: Any, lo: Any, hi: Any) -> np.ndarray:
    """Normal(mean, sd) truncated to [lo, hi] by its inverse CDF (exact; sd 0 -> mean)."""
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    safe = np.where(sd > 0, sd, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = special.ndtr((lo - mean) / safe)
        b = special.ndtr((hi - mean) / safe)
    q = a + u * (b - a)
    q = np.clip(q, _MC_EPS, 1 - _MC_EPS)
    x = mean + safe * special.ndtri(q)
    # a mean far outside the bounds makes a == b: fall back to the nearer bound
    x = np.where(b - a > 0, x, np.clip(mean, lo, hi))
    return np.where(sd > 0, np.clip(x, lo, hi), np.clip(mean, lo, hi))


# ---------------------------------------------------------------------------------------
# the plan


@dataclass(frozen=True, eq=False)
class DrawBatch:
    """B perturbed copies of a scenario's arrays (``salience`` on 0-1, as in
    :class:`~detente.scenario.arrays.ScenarioArrays`).

    ``params[model][name]`` holds one value per draw for perturbed model parameters,
    ``dynamics[field][actor_id]`` one value per draw for dynamics values; ``keep`` marks
    the actors still in the negotiation (what-if exits drop actors).
    """

    draws: np.ndarray  # [B] global draw numbers
    position: np.ndarray  # [B, n, m]
    salience: np.ndarray
    capability: np.ndarray
    present: np.ndarray  # [n, m]
    params: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    dynamics: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    keep: np.ndarray | None = None  # [n] bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.position.shape[0])

    def kept(self, base: ScenarioArrays) -> tuple[ScenarioArrays, np.ndarray, np.ndarray,
                                                   np.ndarray]:
        """(base arrays restricted to kept actors, position, salience, capability)."""
        if self.keep is None or bool(np.all(self.keep)):
            return base, self.position, self.salience, self.capability
        k = self.keep
        sliced = {f.name: getattr(base, f.name)[k] for f in fields(base)
                  if f.name not in _PER_ISSUE and isinstance(getattr(base, f.name), np.ndarray)}
        sliced["present"] = self.present[k]
        sub = replace(base, actor_ids=tuple(a for a, keep in zip(base.actor_ids, k, strict=True)
                                            if keep), **sliced)
        return sub, self.position[:, k], self.salience[:, k], self.capability[:, k]

    def arrays(self, base: ScenarioArrays, b: int) -> ScenarioArrays:
        """Draw ``b`` as a :class:`ScenarioArrays` (kept actors only)."""
        sub, pos, sal, cap = self.kept(base)
        return replace(sub, position=pos[b], salience=sal[b], capability=cap[b])

    def take(self, idx: np.ndarray) -> DrawBatch:
        idx = np.asarray(idx)
        return replace(
            self, draws=self.draws[idx], position=self.position[idx],
            salience=self.salience[idx], capability=self.capability[idx],
            params={m: {k: v[idx] for k, v in d.items()} for m, d in self.params.items()},
            dynamics={f: {a: v[idx] for a, v in d.items()} for f, d in self.dynamics.items()},
        )


@dataclass(frozen=True, eq=False)
class PerturbationPlan:
    """Compiled uncertainty entries for one scenario (see module docstring)."""

    scenario: Scenario
    arrays: ScenarioArrays
    factors: tuple[Factor, ...]

    @property
    def n_slots(self) -> int:
        """Quantiles one Monte Carlo draw consumes."""
        return sum(f.slots for f in self.factors)

    @property
    def needs_scenario(self) -> bool:
        """True when some entry perturbs dynamics (only the scenario path sees those)."""
        return any(f.target in ACTOR_TARGETS for f in self.factors)

    def param_models(self) -> set[str]:
        return {f.model for f in self.factors if f.model}

    def sample(self, rngs: Sequence[np.random.Generator], draws: np.ndarray | None = None
               ) -> DrawBatch:
        """One batch: draw b takes its quantiles from ``rngs[b]`` (its own stream)."""
        k = self.n_slots
        u = np.empty((len(rngs), k))
        for b, g in enumerate(rngs):
            u[b] = g.random(k)
        return self.apply_slots(u, draws)

    def apply_slots(self, u: np.ndarray, draws: np.ndarray | None = None) -> DrawBatch:
        """Perturbed arrays from slot quantiles ``u`` [B, n_slots]."""
        bsz = u.shape[0]
        per_factor = []
        at = 0
        for f in self.factors:
            q = u[:, at:at + f.slots]
            at += f.slots
            per_factor.append(np.broadcast_to(q, (bsz, f.size)) if f.slots == 1 else q)
        return self._apply(per_factor, bsz, draws)

    def apply_factor_quantiles(self, u_by_factor: Sequence[np.ndarray],
                               draws: np.ndarray | None = None) -> DrawBatch:
        """Perturbed arrays with one quantile per factor and draw ([B] each): every cell of
        a factor moves together (the sensitivity-analysis design)."""
        bsz = len(u_by_factor[0]) if u_by_factor else 0
        q = [np.broadcast_to(np.asarray(x, dtype=float)[:, None], (bsz, f.size))
             for x, f in zip(u_by_factor, self.factors, strict=True)]
        return self._apply(q, bsz, draws)

    def apply_cell_quantiles(self, quantiles: Sequence[np.ndarray],
                             draws: np.ndarray | None = None) -> DrawBatch:
        """Perturbed arrays from one quantile per cell: ``quantiles[f]`` is [B, size of
        factor f] (parameters: [B, 1])."""
        bsz = quantiles[0].shape[0] if quantiles else 0
        return self._apply(quantiles, bsz, draws)

    def _apply(self, quantiles: Sequence[np.ndarray], bsz: int, draws: np.ndarray | None
               ) -> DrawBatch:
        a = self.arrays
        arrs = {
            "position": np.broadcast_to(a.position, (bsz, *a.position.shape)).copy(),
            "salience": np.broadcast_to(a.salience, (bsz, *a.salience.shape)).copy(),
            "capability": np.broadcast_to(a.capability, (bsz, *a.capability.shape)).copy(),
        }
        params: dict[str, dict[str, np.ndarray]] = {}
        dynamics: dict[str, dict[str, np.ndarray]] = {}
        dyn_base = {d.actor: d for d in self.scenario.dynamics}
        for f, q in zip(self.factors, quantiles, strict=True):
            if f.target in CELL_TARGETS:
                arr = arrs[f.target]
                ai, ii = f.cells[:, 0], f.cells[:, 1]
                arr[:, ai, ii] = f.values(q, arr[:, ai, ii])
            elif f.target in ACTOR_TARGETS:
                fd = dynamics.setdefault(f.target, {})
                for j, label in enumerate(f.labels):
                    cur = fd.get(label)
                    if cur is None:
                        cur = np.full(bsz, float(getattr(dyn_base[label], f.target)))
                    fd[label] = f.values(q[:, j:j + 1], cur[:, None])[:, 0]
            else:
                assert f.model is not None and f.pname is not None
                cur = params.get(f.model, {}).get(f.pname)
                if cur is None:
                    cur = np.full(bsz, float(f.params.get("_default", 0.0) or 0.0))
                vals = f.values(q[:, :1], cur[:, None] if cur.dtype != object else
                                np.zeros((bsz, 1)))[:, 0]
                params.setdefault(f.model, {})[f.pname] = vals
        return DrawBatch(
            draws=np.arange(bsz) if draws is None else np.asarray(draws),
            position=arrs["position"], salience=arrs["salience"],
            capability=arrs["capability"], present=a.present,
            params=params, dynamics=dynamics,
        )


def compile_plan(scenario: Scenario, uncertainty: Sequence[Uncertainty | Mapping[str, Any]]
                 | None = None, *, model_defaults: Mapping[str, Mapping[str, Any]] | None = None
                 ) -> PerturbationPlan:
    """Resolve uncertainty entries (default: the scenario's own, else :data:`DEFAULT_PRIOR`)
    against ``scenario``. ``model_defaults[model][param]`` gives the centre of
    ``param:`` entries (default: the model's own default)."""
    if uncertainty is None:
        uncertainty = scenario.uncertainty or DEFAULT_PRIOR
    arrays = scenario_arrays(scenario)
    factors = []
    for n, raw in enumerate(uncertainty):
        u = _as_uncertainty(raw, n)
        factors.append(_compile(scenario, arrays, u, n, model_defaults or {}))
    return PerturbationPlan(scenario, arrays, tuple(factors))


def _as_uncertainty(raw: Uncertainty | Mapping[str, Any], n: int) -> Uncertainty:
    if isinstance(raw, Uncertainty):
        return raw
    from pydantic import ValidationError

    try:
        return Uncertainty(**dict(raw))
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(p) for p in e["loc"])
        raise UncertaintyError(f"uncertainty[{n}].{loc}: {e['msg']} (got {e.get('input')!r}); "
                               f"distributions: {', '.join(DISTRIBUTIONS)}") from None


def _bad(n: int, field_: str, msg: str) -> UncertaintyError:
    return UncertaintyError(f"uncertainty[{n}].{field_}: {msg}")


_KNOWN_PARAMS = {
    "normal": {"sd", "sd_width", "cv", "mean"},
    "lognormal": {"sigma", "median"},
    "uniform": {"low", "high", "delta", "delta_width"},
    "triangular": {"low", "high", "mode", "delta", "delta_width"},
    "discrete": {"values", "deltas", "weights"},
}


def _check_params(u: Uncertainty, n: int) -> None:
    p = u.params
    allowed = _KNOWN_PARAMS[u.distribution] | {"bounds", "common"}
    extra = set(p) - allowed
    if extra:
        raise _bad(n, "params", f"unknown key(s) {', '.join(sorted(extra))} for "
                                f"{u.distribution}; allowed: {', '.join(sorted(allowed))}")
    d = u.distribution
    for key in ("sd", "sd_width", "cv", "sigma", "delta", "delta_width"):
        if key in p and (not isinstance(p[key], (int, float)) or p[key] < 0):
            raise _bad(n, f"params.{key}", f"must be a number >= 0 (got {p[key]!r})")
    if d == "normal" and not {"sd", "sd_width", "cv"} & set(p):
        raise _bad(n, "params", "normal needs 'sd' (or 'sd_width' / 'cv'), e.g. {sd: 5}")
    if d == "lognormal" and "sigma" not in p:
        raise _bad(n, "params", "lognormal needs 'sigma', e.g. {sigma: 0.2}")
    if d in ("uniform", "triangular") and not ({"delta", "delta_width"} & set(p) or
                                               {"low", "high"} <= set(p)):
        raise _bad(n, "params", f"{d} needs 'low' and 'high', or 'delta', e.g. {{delta: 10}}")
    if d == "discrete":
        vals = p.get("values", p.get("deltas"))
        if not vals or not isinstance(vals, (list, tuple)):
            raise _bad(n, "params", "discrete needs a non-empty list 'values' (or 'deltas')")
        w = p.get("weights")
        if w is not None and (len(w) != len(vals) or any(x < 0 for x in w) or sum(w) <= 0):
            raise _bad(n, "params.weights", "give one weight >= 0 per value, not all zero")
    if "bounds" in p:
        b = p["bounds"]
        if not isinstance(b, (list, tuple)) or len(b) != 2 or b[0] > b[1]:
            raise _bad(n, "params.bounds", f"expected [low, high] (got {b!r})")


def _compile(sc: Scenario, a: ScenarioArrays, u: Uncertainty, n: int,
             model_defaults: Mapping[str, Mapping[str, Any]]) -> Factor:
    _check_params(u, n)
    p = dict(u.params)
    common = bool(p.pop("common", False))
    tgt = u.target.strip()
    bounds = p.pop("bounds", None)
    if tgt in CELL_TARGETS:
        act_idx = match_ids(u.actor, a.actor_ids)
        isss = match_ids(u.issue, a.issue_ids)
        cells = [(i, k) for i in act_idx for k in isss if a.present[i, k]]
        if not cells:
            raise _bad(n, "actor" if u.actor not in (None, "*") else "issue",
                       f"{tgt} entry matches no stance (actor {u.actor or '*'!r}, issue "
                       f"{u.issue or '*'!r}); check the ids or use '*'")
        c = np.array(cells, dtype=int)
        if tgt == "position":
            lo, hi = a.scale_min[c[:, 1]], a.scale_max[c[:, 1]]
        elif tgt == "salience":
            lo, hi = np.zeros(len(c)), np.full(len(c), 100.0)
        else:
            lo, hi = np.zeros(len(c)), np.full(len(c), np.inf)
        width = a.width[c[:, 1]]
        labels = tuple(f"{a.actor_ids[i]}/{a.issue_ids[k]}" for i, k in cells)
        if u.distribution == "lognormal" and tgt != "capability":
            pass  # allowed: multiplicative errors on any positive quantity
        model = pname = None
    elif tgt in ACTOR_TARGETS:
        if u.issue not in (None, "*"):
            raise _bad(n, "issue", f"{tgt} is per actor; drop 'issue'")
        with_dyn = [d.actor for d in sc.dynamics]
        acts = [a.actor_ids[i] for i in match_ids(u.actor, a.actor_ids)
                if a.actor_ids[i] in with_dyn]
        if not acts:
            raise _bad(n, "actor", f"{tgt}: no matched actor has a 'dynamics' entry; add one "
                                   f"or fix the actor id ({u.actor or '*'!r})")
        c = np.array([[a.actor_index(x), -1] for x in acts], dtype=int)
        lo = np.zeros(len(c)) if tgt == "monthly_cost" else np.full(len(c), -np.inf)
        hi = np.full(len(c), np.inf)
        conflict = sc.conflict
        w = sc.issue(conflict.issue).width if conflict is not None else 1.0
        width = np.full(len(c), w if tgt == "drift" else 1.0)
        labels = tuple(acts)
        model = pname = None
    elif tgt.startswith("param:"):
        spec = tgt[len("param:"):]
        model, dot, pname = spec.partition(".")
        if not dot or not model or not pname:
            raise _bad(n, "target", f"{tgt!r}: write param:<model>.<name>, e.g. "
                                    f"param:expected_utility.Q")
        default = model_defaults.get(model, {}).get(pname)
        if default is None:
            default = _param_default(model, pname, n)
        if default is not None and not isinstance(default, (int, float, bool)):
            if u.distribution != "discrete" or "deltas" in p:
                raise _bad(n, "distribution", f"{tgt} is not numeric ({default!r}); use "
                                              f"'discrete' with 'values'")
            default = None
        p["_default"] = default
        c = np.zeros((0, 2), dtype=int)
        lo, hi = np.array([-np.inf]), np.array([np.inf])
        width = np.ones(1)
        labels = (spec,)
    else:
        raise _bad(n, "target", f"unknown target {tgt!r}; use one of "
                                f"{', '.join(CELL_TARGETS + ACTOR_TARGETS)} or "
                                f"param:<model>.<name>")
    if bounds is not None:
        lo = np.maximum(lo, float(bounds[0]))
        hi = np.minimum(hi, float(bounds[1]))
    return Factor(entry=n, target=tgt, dist=u.distribution, params=p, cells=c, labels=labels,
                  lo=np.asarray(lo, dtype=float), hi=np.asarray(hi, dtype=float),
                  width=np.asarray(width, dtype=float), common=common, group=u.group,
                  model=model, pname=pname)


def _param_default(model: str, pname: str, n: int) -> Any:
    from detente.errors import ModelError
    from detente.models.registry import get_model_class

    try:
        cls = get_model_class(model)
    except ModelError as exc:
        raise _bad(n, "target", str(exc)) from None
    fields = cls.Params.model_fields
    if pname not in fields:
        raise _bad(n, "target", f"model {model!r} has no parameter {pname!r}; parameters: "
                                f"{', '.join(fields) or '(none)'}")
    return fields[pname].default


# ---------------------------------------------------------------------------------------
# Monte Carlo sampling and the scenario path


def draw_arrays(plan: PerturbationPlan, seeds: Sequence[np.random.SeedSequence],
                draws: np.ndarray | None = None
                ) -> tuple[DrawBatch, list[np.random.Generator]]:
    """Perturbed arrays for the draws whose streams are ``seeds``; returns the batch and
    each draw's generator (positioned after the perturbation quantiles, for the model)."""
    rngs = [np.random.default_rng(s) for s in seeds]
    return plan.sample(rngs, draws), rngs


def batch_scenario(scenario: Scenario, batch: DrawBatch, b: int) -> Scenario:
    """Draw ``b`` of ``batch`` as a full scenario (for models that read more than arrays).

    Stances take the draw's position, salience (0-100) and issue capability; dynamics take
    the draw's values; actors a what-if exit dropped are removed with everything naming
    them. Built with ``model_copy`` (no re-validation): the values are within bounds.
    """
    a = scenario_arrays(scenario)
    ai = {x: k for k, x in enumerate(a.actor_ids)}
    ii = {x: k for k, x in enumerate(a.issue_ids)}
    keep = batch.keep
    dropped = set() if keep is None else {x for x, k in zip(a.actor_ids, keep, strict=True)
                                          if not k}
    stances = []
    for s in scenario.stances:
        if s.actor in dropped:
            continue
        r, c = ai[s.actor], ii[s.issue]
        if not a.present[r, c]:  # a parent's line its factions speak for: not perturbed
            stances.append(s)
            continue
        pos = float(batch.position[b, r, c])
        sal = float(batch.salience[b, r, c]) * 100.0
        cap = float(batch.capability[b, r, c])
        upd: dict[str, Any] = {}
        if pos != s.position:
            upd["position"] = pos
        if not math.isclose(sal, s.salience, rel_tol=0, abs_tol=1e-12):
            upd["salience"] = sal
        if cap != float(a.capability[r, c]):
            upd["capability"] = cap
        stances.append(s.model_copy(update=upd) if upd else s)
    dyn = []
    for d in scenario.dynamics:
        if d.actor in dropped:
            continue
        upd = {f: float(v[d.actor][b]) for f, v in batch.dynamics.items() if d.actor in v}
        dyn.append(d.model_copy(update=upd) if upd else d)
    update: dict[str, Any] = {"stances": tuple(stances), "dynamics": tuple(dyn)}
    if dropped:
        actors = []
        for x in scenario.actors:
            if x.id in dropped:
                continue
            if x.parent in dropped:
                x = x.model_copy(update={"parent": None, "kind": "organisation"})
            actors.append(x)
        update["actors"] = tuple(actors)
        update["relations"] = tuple(r for r in scenario.relations
                                    if r.source not in dropped and r.target not in dropped)
        update["ratification"] = tuple(r for r in scenario.ratification
                                       if r.principal not in dropped)
        update["events"] = tuple(e for e in scenario.events if e.actor not in dropped)
        if scenario.conflict is not None and set(scenario.conflict.sides) & dropped:
            update["conflict"] = None
    for key, val in batch.extra.get("scenario_update", {}).items():
        update[key] = val
    return scenario.model_copy(update=update)
