"""KTAB-compatible Spatial Model of Politics (SMP): a joint, multi-dimensional, round-based model.

Each turn every actor picks the challenge that most improves its expected utility, proposes a
compromise (bargain) to its target, every actor's queue of bargains is resolved by a
probabilistic Condorcet election, and actors move to their side of the winning bargain. Risk
attitudes are re-inferred each turn from how likely each position is to prevail. The
algorithm follows KAPSARC's KTAB SMP (``ktab_smp.md`` §2); with ``preset="ktab"`` and the
default parameters every position of every turn matches KTAB's ``smpc``.

Model card: ``docs/models/spatial.md``. Kernel: :mod:`detente.models.spatial_kernel`.

Point forecast per issue (``Forecast.outcome``): the PCE-probability-weighted mean of the
final positions (``outcome="expected"``, default), the figure KTAB users read off its
"winning probabilities" history; ``outcome="most_probable"`` gives the position with the
highest probability instead. Both are always in ``details["outcomes"]``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from detente.errors import ModelError, ParamsError
from detente.models.base import Forecast, ForecastModel, ModelParams, ModelTags, RunResult
from detente.models.spatial_kernel import (
    Config,
    KernelRun,
    QuirkError,
    equivalence,
    run_smp,
    unique_indices,
)
from detente.random import SeedLike
from detente.scenario.arrays import ScenarioArrays
from detente.scenario.schema import Scenario

__all__ = ["SpatialModel", "SpatialParams", "KTAB_PARAM_NAMES"]

KTAB_PARAM_NAMES = ("VictoryProbModel", "PCEModel", "StateTransMode", "VotingRule", "BigRAdjust",
                    "BigRRange", "ThirdPartyCommit", "InterVecBrgn", "BargnModel")
_ALIASES = {"VotingRule": {"Proportional": "Prop"}, "BigRAdjust": {"No": "None"}}

AccEntry = tuple[str, str, float]


class SpatialParams(ModelParams):
    """Parameters of :class:`SpatialModel`. The nine KTAB parameters keep KTAB's names,
    spellings and defaults (the XSD spellings ``Proportional`` and ``No`` are accepted too)."""

    VictoryProbModel: Literal["Linear", "Square", "Quartic", "Octic", "Binary"] = "Linear"
    PCEModel: Literal["Conditional", "MarkovIncentive", "MarkovUniform"] = "Conditional"
    StateTransMode: Literal["Deterministic", "Stochastic"] = "Deterministic"
    VotingRule: Literal["Binary", "PropBin", "Prop", "PropCbc", "Cubic", "ASymProsp"] = "Prop"
    BigRAdjust: Literal["None", "OneThird", "Half", "TwoThirds", "Full"] = "OneThird"
    BigRRange: Literal["Min", "Mid", "Max"] = "Mid"
    ThirdPartyCommit: Literal["NoCommit", "SemiCommit", "FullCommit"] = "SemiCommit"
    InterVecBrgn: Literal["S1P1", "S2P2", "S2PMax"] = "S2P2"
    BargnModel: Literal["InitOnlyInterp", "InitRcvrInterp", "PWCompInterp"] = "InitOnlyInterp"
    accommodation: Literal["scenario", "identity"] | tuple[AccEntry, ...] = Field(
        default="scenario",
        description="ideal-adjustment matrix: 'scenario' reads meta['ktab']['accommodation'] "
        "(identity if absent), 'identity', or explicit (adjusting_actor, reference_actor, a_ij) "
        "entries (unlisted diagonal entries are 1, other entries 0)")
    scenario_parameters: bool = Field(
        default=True, description="take KTAB parameters not set explicitly from "
        "meta['ktab']['parameters'] (an XML file's <ModelParameters>)")
    min_turns: int = Field(default=2, ge=1, le=10_000)
    max_turns: int = Field(default=100, ge=1, le=10_000)
    min_delta_ratio: float = Field(default=0.02, ge=0, le=1)
    min_sig_delta: float = Field(default=1e-4, gt=0, le=1)
    pos_tol: float = Field(default=1e-3, gt=0, le=0.5)
    min_sig_edu: float = Field(default=1e-5, ge=0, le=1)
    detect_cycles: bool = True
    ktab_quirks: bool = Field(
        default=False, description="reproduce KTAB's defects (ktab_smp.md §2.13): failures on "
        "degenerate inputs and BigRAdjust=Full, NoCommit/FullCommit third parties that never "
        "vote, the InitRcvrInterp/PWCompInterp bargain defects")
    salience_overflow: Literal["rescale", "error"] = Field(
        default="rescale", description="an actor whose saliences sum to more than 100: "
        "'rescale' them to sum to 100, or 'error'")
    outcome: Literal["expected", "most_probable"] = "expected"
    record: Literal["full", "positions"] = Field(
        default="full", description="'full' keeps every turn's bargains, risk attitudes, "
        "probabilities and the reason each actor moved (what `detente explain` and the report "
        "read); 'positions' keeps positions and the forecast path only, like KTAB with "
        "logging off: faster for Monte Carlo and benchmarks")
    perspective_probs: bool = Field(
        default=False, description="also record every estimator's PCE probabilities (KTAB's "
        "PosProb table; O(N^4) per turn, used by the SQLite export)")

    @field_validator("VotingRule", "BigRAdjust", mode="before")
    @classmethod
    def _alias(cls, v: Any, info: Any) -> Any:
        if isinstance(v, str):
            return _ALIASES[info.field_name].get(v.strip(), v.strip())
        return v

    @field_validator("accommodation", mode="before")
    @classmethod
    def _acc(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return tuple(tuple(e) for e in v)
        return v

    @field_validator("accommodation")
    @classmethod
    def _acc_values(cls, v: Any) -> Any:
        if isinstance(v, tuple):
            for a, b, x in v:
                if not 0.0 <= x <= 1.0:
                    raise ValueError(f"accommodation {a}->{b} = {x} lies outside [0, 1]")
        return v


class SpatialModel(ForecastModel):
    """KTAB's Spatial Model of Politics, vectorised; ``preset="ktab"`` reproduces KTAB."""

    name = "spatial"
    Params = SpatialParams
    tags = ModelTags(per_issue=False, capability_scale_invariant=True, stochastic=False,
                     round_based=True, multi_dimensional=True)
    summary = ("KTAB-compatible spatial model of politics: challenges, bargains and "
               "probabilistic Condorcet elections over all issues jointly")
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "ktab": {"ktab_quirks": True, "detect_cycles": False},
    }

    params: SpatialParams

    # -- scenario-aware entry point: reads meta["ktab"] ---------------------------------
    def effective_params(self, scenario: Scenario) -> SpatialParams:
        """The parameters used on ``scenario``: KTAB parameters and the accommodation matrix
        from ``scenario.meta['ktab']`` fill in whatever was not set explicitly."""
        meta = scenario.meta.get("ktab") if isinstance(scenario.meta, dict) else None
        if not isinstance(meta, dict):
            return self.params
        update: dict[str, Any] = {}
        given = self.params.model_fields_set
        params = meta.get("parameters")
        if self.params.scenario_parameters and isinstance(params, dict):
            for k in KTAB_PARAM_NAMES:
                if k not in given and k in params and params[k] is not None:
                    update[k] = params[k]
        acc = meta.get("accommodation")
        if self.params.accommodation == "scenario" and isinstance(acc, list):
            update["accommodation"] = tuple((str(a), str(b), float(x)) for a, b, x in acc)
        if not update:
            return self.params
        try:
            return SpatialParams(**{**self.params.model_dump(), **update})
        except ValueError as exc:
            raise ParamsError(f"spatial: scenario meta['ktab'] holds invalid parameters: {exc}"
                              ) from None

    def forecast(self, scenario: Scenario, *, rng: SeedLike = None) -> Forecast:
        eff = self.effective_params(scenario) if isinstance(scenario, Scenario) else self.params
        model = self if eff == self.params else type(self)(eff)
        return ForecastModel.forecast(model, scenario, rng=rng)

    # -- the run -------------------------------------------------------------------------
    def _config(self) -> Config:
        p = self.params
        return Config(
            victory=p.VictoryProbModel, pce=p.PCEModel, transitions=p.StateTransMode,
            voting=p.VotingRule, r_adjust=p.BigRAdjust, r_range=p.BigRRange,
            third_party=p.ThirdPartyCommit, inter_vec=p.InterVecBrgn, bargn=p.BargnModel,
            min_turns=p.min_turns, max_turns=p.max_turns, min_delta_ratio=p.min_delta_ratio,
            min_sig_delta=p.min_sig_delta, pos_tol=p.pos_tol, min_sig_edu=p.min_sig_edu,
            detect_cycles=p.detect_cycles, quirks=p.ktab_quirks,
            perspective_probs=p.perspective_probs, records=p.record == "full")

    def _accommodation(self, arrays: ScenarioArrays) -> np.ndarray | None:
        acc = self.params.accommodation
        if not isinstance(acc, tuple):
            return None
        n = arrays.n_actors
        mat = np.eye(n)
        for a, b, x in acc:
            if a not in arrays.actor_ids or b not in arrays.actor_ids:
                raise ModelError(f"spatial: accommodation entry {a}->{b} names an actor not in "
                                 f"the scenario (actors: {', '.join(arrays.actor_ids)})")
            mat[arrays.actor_index(a), arrays.actor_index(b)] = x
        rows = mat.sum(axis=1)
        bad = np.flatnonzero(rows > 1 + 1e-10)
        if bad.size:
            who = arrays.actor_ids[int(bad[0])]
            raise ModelError(f"spatial: accommodation row of {who!r} sums to {rows[bad[0]]:g} > 1; "
                             "set its diagonal entry so the row sums to at most 1")
        return mat

    def prepare(self, arrays: ScenarioArrays) -> dict[str, np.ndarray]:
        """Map a scenario onto KTAB's inputs: capability [n], positions and saliences
        [n, k] on [0, 1] (see the model card for missing stances and salience overflow)."""
        present = arrays.present
        width = arrays.width
        pos = (arrays.position - arrays.scale_min[None, :]) / width[None, :]
        sal = np.where(present, arrays.salience, 0.0)
        capm = np.where(present, arrays.capability, 0.0)
        n, m = pos.shape
        # one capability per actor: the stance capability if all agree, else salience-weighted
        cap = np.zeros(n)
        for i in range(n):
            ci = capm[i, present[i]]
            if ci.size == 0:
                continue
            if np.ptp(ci) == 0:
                cap[i] = ci[0]
            else:
                si = sal[i, present[i]]
                cap[i] = float(np.sum(si * ci) / np.sum(si)) if si.sum() > 0 else float(ci.mean())
        # saliences: at most 1 in total per actor
        tot = sal.sum(axis=1)
        over = tot > 1.0 + 1e-12
        if np.any(over):
            if self.params.salience_overflow == "error":
                who = arrays.actor_ids[int(np.flatnonzero(over)[0])]
                raise ModelError(f"spatial: saliences of {who!r} sum to {tot[over][0] * 100:g} > "
                                 "100; KTAB needs each actor's saliences to add up to 100 or less "
                                 "(or use salience_overflow='rescale')")
            sal = np.where(over[:, None], sal / np.where(over, tot, 1.0)[:, None], sal)
        # missing stances: position at the capability x salience weighted mean of the others
        pos = pos.copy()
        for d in range(m):
            miss = ~present[:, d]
            if not miss.any():
                continue
            have = present[:, d]
            if have.any():
                wts = cap[have] * sal[have, d]
                fill = (float(np.sum(wts * pos[have, d]) / wts.sum()) if wts.sum() > 0
                        else float(np.mean(pos[have, d])))
            else:
                fill = 0.5
            pos[miss, d] = fill
        pos = np.clip(pos, 0.0, 1.0)
        return {"cap": cap, "pos": pos, "sal": sal, "present": present}

    def run_kernel(self, arrays: ScenarioArrays, rng: np.random.Generator,
                   inp: dict[str, np.ndarray] | None = None) -> KernelRun:
        """The raw kernel run on [0, 1] (used by the SQLite export)."""
        inp = self.prepare(arrays) if inp is None else inp
        try:
            return run_smp(inp["cap"], inp["pos"], inp["sal"], self._accommodation(arrays),
                           self._config(), rng)
        except QuirkError as exc:
            raise ModelError(f"spatial (ktab preset): {exc}; the default parameters handle "
                             "this input") from None

    def _run(self, arrays: ScenarioArrays, rng: np.random.Generator) -> RunResult:
        inp = self.prepare(arrays)
        run = self.run_kernel(arrays, rng, inp)
        return _to_result(run, arrays, inp, self.params)


# ---------------------------------------------------------------------------------------
# conversion to the Forecast contract


def _outcomes(run: KernelRun, present: np.ndarray, pos_tol: float, turn: int = -1
              ) -> tuple[np.ndarray, np.ndarray]:
    """Expected (probability-weighted mean) and most probable position per issue after
    ``turn`` (default: the last), on [0, 1]."""
    x = run.positions[turn]
    p = run.probs[turn]
    n, m = x.shape
    _, eqv = unique_indices(x, pos_tol)
    mult = np.bincount(eqv, minlength=eqv.max() + 1)[eqv].astype(float)
    share = p / mult  # actors sharing a position split its probability
    expected = np.empty(m)
    best = np.empty(m)
    for d in range(m):
        have = present[:, d]
        w = share[have]
        expected[d] = (float(np.sum(w * x[have, d]) / w.sum()) if w.sum() > 0
                       else float(np.mean(x[have, d])))
        best[d] = x[have, d][int(np.argmax(p[have]))]
    return expected, best


def _outcome_path(run: KernelRun, present: np.ndarray, pos_tol: float, pick: int,
                  scale: Any) -> list[np.ndarray]:
    """:func:`_outcomes` after every turn, vectorised over the turns whose coinciding
    positions form clean groups (every turn in practice: bargains put actors on exactly the
    same point); other turns take the exact per-turn path."""
    x = np.asarray(run.positions)  # [T, n, m]
    p = np.asarray(run.probs)  # [T, n]
    n_t, n = x.shape[:2]
    if x.size * n <= 2_000_000:  # all turns at once while the [T, n, n, m] block stays small
        diff = x[:, :, None, :] - x[:, None, :, :]
        eq = np.sqrt((diff * diff).sum(axis=3)) < pos_tol  # [T, n, n]
    else:
        eq = np.stack([equivalence(x[t], pos_tol) for t in range(n_t)])
    first = eq.argmax(axis=2)  # each actor's first equivalent actor: unique_indices' rep
    groups = np.take_along_axis(eq, first[:, :, None].repeat(n, axis=2), axis=1)
    clean = np.all(groups == eq, axis=(1, 2))  # equivalence is transitive in that turn
    share = p / eq.sum(axis=2)  # actors sharing a position split its probability
    w = np.where(present[None, :, :], share[:, :, None], 0.0)  # [T, n, m]
    tot = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = (w * x).sum(axis=1) / tot
    masked = np.where(present[None, :, :], p[:, :, None], -np.inf)
    best = np.take_along_axis(x, masked.argmax(axis=1)[:, None, :], axis=1)[:, 0, :]
    out = []
    for t in range(n_t):
        if not clean[t] or (pick == 0 and np.any(tot[t] <= 0)):
            out.append(scale(_outcomes(run, present, pos_tol, t)[pick]))
        else:
            out.append(scale(expected[t] if pick == 0 else best[t]))
    return out


def round6(a: np.ndarray) -> list[float]:
    """``[round(x, 6) for x in a.ravel()]``, vectorised: Python's round is exact (the double
    nearest the decimally rounded value); rint(x * 1e6) / 1e6 gives the same double whenever
    x * 1e6 is safely away from a half-integer (then the rounded integer is exact and the
    division correctly rounded); the few other values go through ``round``."""
    a = np.ascontiguousarray(a, dtype=float).ravel()
    y = a * 1e6
    with np.errstate(invalid="ignore"):
        frac = np.abs(y - np.floor(y) - 0.5)
        safe = (frac > np.abs(y) * 1e-14) & (np.abs(y) < 2.0**50)
    out = (np.rint(y) / 1e6).tolist()
    if not safe.all():
        vals = a.tolist()
        for i in np.flatnonzero(~safe).tolist():
            out[i] = round(vals[i], 6)
    return out


def _to_result(run: KernelRun, arrays: ScenarioArrays, inp: dict[str, np.ndarray],
               params: SpatialParams) -> RunResult:
    lo, width = arrays.scale_min, arrays.width
    present = inp["present"]
    aid, iid = arrays.actor_ids, arrays.issue_ids
    n, m = len(aid), len(iid)

    def scale(v: np.ndarray) -> np.ndarray:
        return lo + v * width

    positions = scale(run.positions)
    positions_out = np.where(present[None, :, :], positions, np.nan)
    t_n = run.positions.shape[0] - 1
    expected, best = _outcomes(run, present, params.pos_tol)
    outcome = scale(expected) if params.outcome == "expected" else scale(best)
    # the forecast by the same rule after every turn (turn 0: the initial positions), for
    # Monte Carlo fan charts
    pick = 0 if params.outcome == "expected" else 1
    path = _outcome_path(run, present, params.pos_tol, pick, scale)
    path[-1] = outcome

    def coords_rows(v: np.ndarray) -> list[dict[str, float]]:
        """{issue: position on the issue's scale, rounded to 6 decimals} per row of v."""
        vals = round6(lo[None, :] + np.asarray(v).reshape(-1, m) * width[None, :])
        return [dict(zip(iid, vals[r:r + m], strict=True)) for r in range(0, len(vals), m)]

    probs_l = run.probs.tolist()
    risk_l = run.risk.tolist()
    rounds: list[dict[str, Any]] = []
    for rec in run.turns if params.record == "full" else ():
        t = rec.turn
        real = [b for b in rec.bargains if not b.is_sq]
        by_id = {b.bid: b for b in real}
        if real:
            pts = coords_rows(np.array([b.pos_init for b in real] + [b.pos_rcvr for b in real]))
        bargains = []
        for r, b in enumerate(real):
            bargains.append({
                "id": b.bid, "initiator": aid[b.init], "receiver": aid[b.rcvr],
                "value": b.value, "p_initiator_wins": b.p_init,
                "initiator_coords": pts[r], "receiver_coords": pts[len(real) + r],
                "initiator_prob": b.init_prob, "initiator_selected": b.init_seld,
                "receiver_prob": b.rcvr_prob, "receiver_selected": b.rcvr_seld,
            })
        moves = []
        for k in range(n):
            bid = rec.mover[k]
            if bid is None:
                continue
            b = by_id[bid]
            role = "initiator" if b.init == k else "receiver"
            other = aid[b.rcvr] if role == "initiator" else aid[b.init]
            qp = b.init_prob if role == "initiator" else b.rcvr_prob
            if role == "initiator":
                reason = (f"{aid[k]} challenged {other} (expected gain {b.value:.3g}, "
                          f"estimated win chance {b.p_init:.0%}) and offered a compromise; "
                          f"{aid[k]}'s queue of bargains chose it (PCE probability {qp:.2f})")
            else:
                reason = (f"{other} challenged {aid[k]} (win chance {b.p_init:.0%} in "
                          f"{other}'s estimate) and offered a compromise that won {aid[k]}'s "
                          f"queue of bargains (PCE probability {qp:.2f}) over standing firm")
            for d in range(m):
                if not present[k, d]:
                    continue
                a0, a1 = positions[t - 1, k, d], positions[t, k, d]
                if a0 == a1:
                    continue
                moves.append({"round": t, "actor": aid[k], "issue": iid[d],
                              "from": float(a0), "to": float(a1), "kind": "bargain",
                              "counterpart": other, "reason": reason, "bargain_id": bid,
                              "role": role, "queue_prob": qp})
        sq_prob = {}
        for k in range(n):
            for bid, pr in rec.queue_probs[k]:
                if bid not in by_id:  # k's own status quo
                    sq_prob[k] = pr
        entry: dict[str, Any] = {
            "turn": t,
            "risk": dict(zip(aid, rec.risk.tolist(), strict=True)),
            "probabilities": dict(zip(aid, probs_l[t], strict=True)),
            "ideals": dict(zip(aid, coords_rows(run.ideals[t]), strict=True)),
            "movement": run.movement[t - 1],
            "bargains": bargains,
            "status_quo": [{"id": b.bid, "actor": aid[b.init],
                            "prob": sq_prob.get(b.init),
                            "selected": rec.chosen[b.init] == b.bid}
                           for b in rec.bargains if b.is_sq],
            "movers": {aid[k]: rec.mover[k] for k in range(n) if rec.mover[k] is not None},
            "moves": moves,
        }
        if run.perspective_probs:
            entry["perspective_probs"] = run.perspective_probs[t].tolist()
        rounds.append(entry)
    details: dict[str, Any] = {
        "rounds": rounds,
        "initial": {"ideals": dict(zip(aid, coords_rows(run.ideals[0]), strict=True)),
                    "probabilities": dict(zip(aid, probs_l[0], strict=True)),
                    "risk": dict(zip(aid, risk_l[0], strict=True))},
        "stop_reason": run.stop_reason,
        "cycle": (None if run.cycle is None else
                  {"start_turn": run.cycle[0], "period": run.cycle[1],
                   "turns": list(range(run.cycle[0], run.cycle[0] + run.cycle[1] + 1))}),
        "outcomes": {"rule": params.outcome,
                     "expected": {iid[d]: float(scale(expected)[d]) for d in range(m)},
                     "most_probable": {iid[d]: float(scale(best)[d]) for d in range(m)},
                     "path": {iid[d]: [float(v[d]) for v in path] for d in range(m)}},
        "ktab_parameters": {k: getattr(params, k) for k in KTAB_PARAM_NAMES},
        "capability": {aid[i]: float(inp["cap"][i]) for i in range(n)},
        "salience": {aid[i]: {iid[d]: float(inp["sal"][i, d]) for d in range(m)}
                     for i in range(n)},
        "accommodation": (None if not isinstance(params.accommodation, tuple)
                          else [list(e) for e in params.accommodation]),
    }
    if run.perspective_probs:
        details["initial"]["perspective_probs"] = run.perspective_probs[0].tolist()
    return RunResult(
        outcome=outcome,
        positions=positions_out,
        rounds=np.full(m, t_n, dtype=int),
        converged=np.full(m, run.converged, dtype=bool),
        details=details,
    )
