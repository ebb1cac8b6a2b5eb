"""Assemble a :class:`~detente.report.model.Report`: every computation of a report lives here.

:func:`build_report` runs the models, the Monte Carlo, a one-at-a-time sensitivity screen,
the attrition path, the ratification win-sets, a proposal's evaluation and (optionally) a
backtest through the public API, and turns their results into plain report data. Sections
run only when the scenario carries what they need (``scenario.conflict`` for the timeline,
``scenario.ratification`` or conflict sides for the agreement set, a stance of the focal
actor for the quad map); otherwise the report says what is missing in ``notes``.
:func:`report_from_run` builds the same report from a stored run without re-running its
models.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from detente.errors import DetenteError, ModelError, NotConvergedWarning
from detente.report.model import (
    ActorInfo,
    AgreementSet,
    AnchorInfo,
    AttritionTimeline,
    BacktestRow,
    BacktestScores,
    BargainEdge,
    BargainNetwork,
    EvidenceRow,
    Fan,
    IssueInfo,
    IssuePower,
    ModelForecast,
    ModelRun,
    MonteCarloSummary,
    Move,
    PowerBar,
    ProposalEvaluation,
    ProposalVote,
    QuadMap,
    QuadPoint,
    Report,
    ReportProvenance,
    ScenarioInfo,
    SensitivityFactor,
    SensitivityResult,
    StanceInfo,
    WinSet,
)
from detente.scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from detente.deals.proposal import Proposal
    from detente.models.base import Forecast

__all__ = [
    "FAN_DRAWS",
    "FAST_MODELS",
    "POSITION_MODELS",
    "SENSITIVITY_METHODS",
    "build_report",
    "bundled_proposals_for",
    "montecarlo_sections",
    "report_from_run",
    "run_forecasts",
    "scenario_info",
]

#: Models whose Monte Carlo is vectorised (a 1,000-draw run takes well under a second).
FAST_MODELS = ("compromise", "weighted_median", "mean", "status_quo")
#: Round-based models drawn in "positions by round", in order of preference.
POSITION_MODELS = ("expected_utility", "spatial", "exchange")
_MIN_MOVE = 0.01  # moves smaller than 1 % of the scale are left out of the captions
#: Draws of the round-based model's own Monte Carlo behind the fan chart, when the main
#: Monte Carlo runs only closed-form models (at most the main run's draws).
FAN_DRAWS = 200
#: ``sensitivity=`` choices: global screens on the declared uncertainty (Morris, Sobol), the
#: one-at-a-time screen, or none.
SENSITIVITY_METHODS = ("morris", "sobol", "oat", "none")


# ---------------------------------------------------------------------------------------
# scenario and forecasts


def scenario_info(scenario: Scenario) -> ScenarioInfo:
    actors = {a.id: a for a in scenario.actors}
    return ScenarioInfo(
        id=scenario.id, name=scenario.name, description=scenario.description,
        view=scenario.view, hash=scenario.content_hash(),
        issues=[IssueInfo(id=i.id, name=i.name, scale_min=i.scale_min, scale_max=i.scale_max,
                          units=i.units, status_quo=i.status_quo, description=i.description,
                          anchors=[AnchorInfo(value=a.value, label=a.label) for a in i.anchors])
                for i in scenario.issues],
        actors=[ActorInfo(id=a.id, name=a.name, kind=a.kind, capability=a.capability,
                          parent=a.parent) for a in scenario.actors],
        stances=[StanceInfo(actor=s.actor, issue=s.issue, position=s.position,
                            salience=s.salience,
                            capability=s.capability if s.capability is not None
                            else actors[s.actor].capability,
                            red_line=s.red_line, acceptable=s.acceptable)
                 for s in scenario.stances])


def run_forecasts(scenario: Scenario, models: Sequence[str] | None = None,
                  sets: Mapping[str, Mapping[str, Any]] | None = None, seed: int | None = 0,
                  ) -> tuple[list[Forecast], list[tuple[str, str]]]:
    """Run ``models`` (default: every registered model). On the default all-model run a
    model that cannot handle the scenario is skipped with its reason; named models must run.
    """
    from detente.models.registry import available_models, forecast_each, get_model

    sets = sets or {}
    chosen = list(models) if models else available_models()
    return forecast_each(scenario, [get_model(n, **dict(sets.get(n, {}))) for n in chosen],
                         strict=bool(models), seed=seed)


def _explanations(f: Forecast, issue: str, width: float) -> list[str]:
    from detente.models.explain import iter_moves

    def fmt(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = []
    for m in iter_moves(f, issue):
        if m.get("issue") not in (None, issue):
            continue
        fr, to = m.get("from"), m.get("to")
        if (isinstance(fr, (int, float)) and isinstance(to, (int, float))
                and abs(to - fr) < _MIN_MOVE * width):
            continue
        with_ = f" with {m['counterpart']}" if m.get("counterpart") else ""
        reason = f": {m['reason']}" if m.get("reason") else ""
        lines.append(f"round {m.get('round', '?')}, {m.get('actor')}: {fmt(fr)} -> {fmt(to)} "
                     f"({m.get('kind', 'move')}{with_}){reason}")
    return lines


def _model_forecast(f: Forecast, scenario: Scenario) -> ModelForecast:
    from detente.models.explain import iter_moves

    issues = {i.id: i for i in scenario.issues}
    positions = {}
    for k, iss in enumerate(f.issue_ids):
        block = f.positions[:, :, k]
        positions[iss] = [[None if math.isnan(v) else float(v) for v in row] for row in block]
    round_based = f.positions.shape[0] > 1
    moves, expl = [], {}
    if round_based:
        for m in iter_moves(f):
            if "actor" in m:
                moves.append(Move.model_validate({k: m.get(k) for k in (
                    "round", "issue", "actor", "from", "to", "kind", "counterpart", "reason")
                    if m.get(k) is not None}))
        for iss in f.issue_ids:
            lines = _explanations(f, iss, issues[iss].width)
            if lines:
                expl[iss] = lines
    return ModelForecast(
        model=f.model, params=dict(f.provenance.params), seed=f.provenance.seed,
        outcome={iss: float(f.outcome[k]) for k, iss in enumerate(f.issue_ids)},
        rounds={iss: int(f.rounds[k]) for k, iss in enumerate(f.issue_ids)},
        converged={iss: bool(f.converged[k]) for k, iss in enumerate(f.issue_ids)},
        actor_ids=list(f.actor_ids), positions=positions, moves=moves, explanations=expl,
        round_based=round_based)


def _focus_issue(scenario: Scenario, issue: str | None) -> str:
    if issue is not None:
        scenario.issue(issue)  # KeyError names the known ids
        return issue
    if scenario.conflict is not None:
        return scenario.conflict.issue
    return scenario.issues[0].id


# ---------------------------------------------------------------------------------------
# sections


def _power(scenario: Scenario) -> list[IssuePower]:
    from detente.scenario.arrays import scenario_arrays

    a = scenario_arrays(scenario)
    out = []
    for k, iss in enumerate(a.issue_ids):
        bars = []
        for i in np.flatnonzero(a.present[:, k]):
            cap, sal = float(a.capability[i, k]), float(a.salience[i, k])
            bars.append(PowerBar(actor=a.actor_ids[i], position=float(a.position[i, k]),
                                 capability=cap, salience=sal, power=cap * sal))
        out.append(IssuePower(issue=iss, bars=bars))
    return out


def _quad(scenario: Scenario, issue: str, actor: str | None,
          sets: Mapping[str, Mapping[str, Any]], notes: list[str]) -> QuadMap | None:
    from detente.models.registry import available_models, get_model

    if "expected_utility" not in available_models():
        notes.append("Quad map: the expected-utility model is not installed.")
        return None
    from detente.models.expected_utility import ExpectedUtilityModel, quad_map
    from detente.scenario.arrays import scenario_arrays

    arr = scenario_arrays(scenario)  # factions speak for their parent: use who takes part
    k = arr.issue_ids.index(issue)
    present = [n for n in range(len(arr.actor_ids)) if arr.present[n, k]]
    if actor is None:
        actor = arr.actor_ids[max(present, key=lambda n: float(arr.capability[n, k]
                                                              * arr.salience[n, k]))]
    if actor not in arr.actor_ids or arr.actor_ids.index(actor) not in present:
        notes.append(f"Quad map: {actor} takes no part on {issue} (no stance of its own, or "
                     f"its factions speak for it).")
        return None
    model = cast(ExpectedUtilityModel,
                 get_model("expected_utility", **dict(sets.get("expected_utility", {}))))
    rows = quad_map(scenario, issue, actor, model)
    return QuadMap(actor=actor, issue=issue, round=0, points=[
        QuadPoint(other=r["actor"], eu_self=float(r["eu_ij"]), eu_other=float(r["eu_ji"]),
                  quadrant=r.get("quadrant")) for r in rows])


def _bargains(forecasts: Sequence[Forecast], issue: str, rnd: int) -> BargainNetwork | None:
    f = next((f for f in forecasts if f.model == "spatial"), None)
    if f is None:
        return None
    rounds = f.details.get("rounds")
    if not isinstance(rounds, list) or not rounds:
        return None
    turn = next((r for r in rounds if isinstance(r, dict) and r.get("turn") == rnd), rounds[0])
    bargains = turn.get("bargains") or []
    chosen = set((turn.get("movers") or {}).values())
    k = f.issue_ids.index(issue)
    row = min(int(turn.get("turn", rnd)) - 1, f.positions.shape[0] - 1)
    pos = {a: float(f.positions[row, n, k]) for n, a in enumerate(f.actor_ids)
           if not math.isnan(f.positions[row, n, k])}
    edges = [BargainEdge(initiator=b["initiator"], receiver=b["receiver"],
                         weight=float(b["value"]) if b.get("value") is not None else None,
                         chosen=b.get("id") in chosen)
             for b in bargains if b.get("initiator") in pos and b.get("receiver") in pos]
    return BargainNetwork(model="spatial", round=int(turn.get("turn", rnd)), issue=issue,
                          positions=pos, edges=edges)


def _montecarlo(scenario: Scenario, models: Sequence[str], n: int, seed: int,
                sets: Mapping[str, Mapping[str, Any]], executor: str, notes: list[str],
                ) -> tuple[list[MonteCarloSummary], list[Fan], dict[str, Any]]:
    from detente.models.registry import get_model
    from detente.simulate.batch import has_round_path
    from detente.simulate.montecarlo import montecarlo

    params = {m: dict(v) for m, v in sets.items() if m in models}
    paths = any(has_round_path(get_model(m, **params.get(m, {}))) for m in models)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        res = montecarlo(scenario, list(models), n=n, seed=seed, params=params,
                         executor=executor, paths=paths)
    notes.extend(f"Monte Carlo: {x}" for x in res.notes
                 if "no round-based model" not in x)
    d = res.to_dict()
    d["histograms"] = _histograms(res, scenario)
    summaries, fans, meta = montecarlo_sections(d)
    meta["seconds"] = round(res.elapsed, 2)
    return summaries, fans, meta


def _histograms(res: Any, scenario: Scenario, bins: int = 25) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for j, model in enumerate(res.models):
        out[model] = {}
        for k, iss in enumerate(res.issue_ids):
            v = res.outcome[j, :, k]
            v = v[np.isfinite(v)]
            issue = scenario.issue(iss)
            counts, edges = np.histogram(v, bins=bins, range=(issue.scale_min, issue.scale_max))
            out[model][iss] = {"edges": [float(e) for e in edges],
                               "counts": [int(c) for c in counts]}
    return out


def montecarlo_sections(d: Mapping[str, Any]
                        ) -> tuple[list[MonteCarloSummary], list[Fan], dict[str, Any]]:
    """Report data from a Monte Carlo summary as :meth:`MonteCarloResult.to_dict` writes it
    (what a stored run keeps), plus optional ``histograms[model][issue] = {edges, counts}``:
    outcome summaries, the fans of round-based models and the settings line."""
    hists = d.get("histograms") or {}
    summaries = []
    for row in d.get("summary") or []:
        if not row.get("n") or row.get("mean") is None:
            continue
        h = hists.get(row["model"], {}).get(row["issue"], {})
        conv = row.get("converged")
        summaries.append(MonteCarloSummary(
            model=row["model"], issue=row["issue"], n=int(row["n"]), mean=float(row["mean"]),
            sd=float(row.get("sd") or 0.0), point=row.get("point"),
            quantiles={f"{q / 100:g}": float(row[f"q{q:02d}"]) for q in (5, 25, 50, 75, 95)
                       if row.get(f"q{q:02d}") is not None},
            bin_edges=list(h.get("edges", [])), counts=list(h.get("counts", [])),
            p_nonconverged=None if conv is None else float(1.0 - conv)))
    fans = []
    for model, p in (d.get("paths") or {}).items():
        for iss, fan in (p.get("issues") or {}).items():
            fans.append(Fan(issue=iss, model=model, x=[float(x) for x in fan["x"]],
                            x_label="round", quantiles=fan["quantiles"], point=fan.get("point")))
    meta: dict[str, Any] = {"draws": d.get("n_draws"), "requested": d.get("n_requested"),
                            "seed": d.get("seed"), "models": ", ".join(d.get("models") or []),
                            "executor": d.get("executor"), "workers": d.get("workers"),
                            "seconds": d.get("elapsed_s")}
    if d.get("paths"):
        meta["fans"] = "; ".join(f"{m}: {p['n']} draws, rounds 0-{p['rounds']}"
                                 for m, p in d["paths"].items())
    if d.get("uncertainty"):
        meta["uncertain inputs"] = "; ".join(
            f"{u['target']}[{u.get('actor') or '*'}/{u.get('issue') or '*'}] "
            f"{u['distribution']}" for u in d["uncertainty"])
    return summaries, fans, {k: v for k, v in meta.items() if v is not None}


def _fan_run(scenario: Scenario, model: str, n: int, seed: int,
             sets: Mapping[str, Mapping[str, Any]], executor: str) -> tuple[list[Fan], str]:
    """The fan of the round-based ``model`` from its own ``n``-draw Monte Carlo."""
    from detente.simulate.montecarlo import montecarlo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        res = montecarlo(scenario, [model], n=n, seed=seed,
                         params={model: dict(sets.get(model, {}))}, executor=executor,
                         paths=True)
    _, fans, _ = montecarlo_sections(res.to_dict())
    p = res.paths.get(model)
    how = "" if p is None else (f"{model}: its own {p.n}-draw Monte Carlo, rounds 0-"
                                f"{p.rounds} ({res.elapsed:.1f} s)")
    return fans, how


def _global_sensitivity(scenario: Scenario, model_name: str, method: str,
                        sets: Mapping[str, Mapping[str, Any]], seed: int, n: int | None,
                        executor: str, top: int = 12) -> tuple[list[SensitivityResult], str]:
    """Morris (mu*) or Sobol (ST, S1) of ``model_name``'s forecast on every issue, over the
    scenario's declared uncertainty (else the default prior), one factor per input and
    actor (:func:`detente.analysis.sensitivity.sensitivity`)."""
    from detente.analysis.sensitivity import sensitivity
    from detente.models.registry import get_model

    model = get_model(model_name, **dict(sets.get(model_name, {})))
    res = sensitivity(scenario, [model], method=method, n=n, by="actor", seed=seed,
                      executor="serial" if model_name in FAST_MODELS else executor)
    desc = {f.name: f.description for f in res.factors}
    out = []
    for iss in res.issue_ids:
        idx = res.indices[model_name][iss]
        factors = []
        names = [f.name for f in res.factors]
        for name, _ in res.ranking(model_name, iss)[:top]:
            d = names.index(name)

            def val(key: str, d: int = d, idx: Mapping[str, Any] = idx) -> float | None:
                v = idx.get(key)
                return None if v is None or not math.isfinite(float(v[d])) else float(v[d])

            factors.append(SensitivityFactor(
                factor=name, description=desc.get(name), s1=val("S1"), st=val("ST"),
                s1_conf=val("S1_conf"), st_conf=val("ST_conf"), mu_star=val("mu_star"),
                mu_star_conf=val("mu_star_conf"), sigma=val("sigma")))
        out.append(SensitivityResult(model=model_name, issue=iss, method=method,
                                     factors=factors, runs=res.n_runs,
                                     variance=res.variance[model_name][iss]))
    what = (f"{method.capitalize()} ({res.n_runs} runs of {model_name}, "
            f"{len(res.factors)} factors: each uncertain input split by actor)")
    if res.notes:
        what += "; " + "; ".join(res.notes)
    return out, what


def _oat(scenario: Scenario, model_name: str, issue: str, sets: Mapping[str, Mapping[str, Any]],
         seed: int | None, top: int = 10) -> SensitivityResult:
    """One-at-a-time screen: each actor's salience (x0.75 / x1.25, within 0-100), capability
    (x0.75 / x1.25) and position (-/+ 10 % of the scale) on ``issue``, the others held."""
    from detente.models.registry import get_model

    model = get_model(model_name, **dict(sets.get(model_name, {})))
    iss = scenario.issue(issue)
    k = scenario.issue_ids.index(issue)
    caps = {a.id: a.capability for a in scenario.actors}

    def run(sc: Scenario) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotConvergedWarning)
            return float(model.forecast(sc, rng=seed).outcome[k])

    base = run(scenario)
    factors = []
    for n, s in enumerate(scenario.stances):
        if s.issue != issue:
            continue
        cap = s.capability if s.capability is not None else caps[s.actor]
        variants = {
            f"salience {s.actor}": ("salience", min(100.0, s.salience * 0.75),
                                    min(100.0, s.salience * 1.25)),
            f"capability {s.actor}": ("capability", cap * 0.75, cap * 1.25),
            f"position {s.actor}": ("position", max(iss.scale_min, s.position - 0.1 * iss.width),
                                    min(iss.scale_max, s.position + 0.1 * iss.width)),
        }
        for label, (field, lo, hi) in variants.items():
            outs = []
            for v in (lo, hi):
                st = s.model_copy(update={field: v})
                stances = scenario.stances[:n] + (st,) + scenario.stances[n + 1:]
                outs.append(run(scenario.model_copy(update={"stances": stances})))
            factors.append(SensitivityFactor(factor=label, low=outs[0], high=outs[1],
                                             low_input=lo, high_input=hi))
    factors.sort(key=lambda f: -abs((f.high or 0) - (f.low or 0)))
    return SensitivityResult(model=model_name, issue=issue, method="one-at-a-time", base=base,
                             factors=factors[:top])


def _attrition(scenario: Scenario) -> AttritionTimeline:
    from detente.conflict.attrition import attrition_path

    path = attrition_path(scenario)
    events = [(float(m.month), "; ".join(m.events)) for m in path.months if m.events]
    fo = path.first_open
    return AttritionTimeline(
        issue=path.issue, sides=(path.sides[0], path.sides[1]),
        months=[float(m.month) for m in path.months],
        lower=[float(m.low_x) for m in path.months],
        upper=[float(m.high_x) for m in path.months],
        front=[float(m.front) for m in path.months], events=events,
        first_open=None if fo is None else float(fo))


def _agreement(scenario: Scenario, issue: str, forecasts: Sequence[Forecast]) -> AgreementSet:
    from detente.conflict.ratification import needed_principals, two_level_game

    principals = needed_principals(scenario)
    game = two_level_game(scenario, principals=principals or None)
    k = scenario.issue_ids.index(issue)
    return AgreementSet(
        issue=issue,
        winsets=[WinSet(principal=p, intervals=[(float(a), float(b))
                                                for a, b in game.win_set(p, issue)])
                 for p in game.principals],
        agreement=[(float(a), float(b)) for a, b in game.agreement_set(issue)],
        forecasts={f.model: float(f.outcome[k]) for f in forecasts
                   if math.isfinite(float(f.outcome[k]))})


def bundled_proposals_for(scenario: Scenario) -> list[Path]:
    """Bundled proposal files whose ``scenario:`` names this scenario's id."""
    import yaml

    folder = Path(__file__).resolve().parents[1] / "data" / "proposals"
    out = []
    for p in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("scenario") == scenario.id:
            out.append(p)
    return out


def _proposal(scenario: Scenario, proposal: Proposal) -> ProposalEvaluation:
    from detente.deals.evaluate import evaluate

    ev = evaluate(scenario, proposal)
    vetoers = {v["actor"]: v for v in ev.vetoes}
    votes = []
    for row in ev.actors:
        reasons = list(row.get("reasons") or [])
        if row["actor"] in vetoers:
            reasons = list(vetoers[row["actor"]].get("reasons") or reasons)
        votes.append(ProposalVote(actor=row["actor"], utility_deal=float(row["utility"]),
                                  utility_no_deal=float(row["no_deal"]),
                                  accepts=bool(row["accepts"]) and row["actor"] not in vetoers,
                                  veto=row["actor"] in vetoers,
                                  reason="; ".join(str(r) for r in reasons) or None))
    return ProposalEvaluation(id=proposal.id, name=proposal.name,
                              terms={k: float(v) for k, v in ev.proposal["terms"].items()},
                              votes=votes, verdict=ev.verdict)


def _backtest(path: str | Path, fmt: str, models: Sequence[str], seed: int | None
              ) -> BacktestScores:
    from detente.analysis.backtest import backtest, load_backtest_cases
    from detente.models.registry import get_model

    cases, skipped = load_backtest_cases(path, fmt)  # type: ignore[arg-type]
    res = backtest(cases, [get_model(m) for m in models], n_unscoreable=skipped,
                   source=str(path), seed=seed or 0, n_boot=200)
    rows = []
    for s in res.scores:
        err = np.asarray(s.errors, dtype=float)
        err = err[np.isfinite(err)]
        rows.append(BacktestRow(model=s.model, n=int(s.n), mae=float(s.mae),
                                rmse=float(np.sqrt(np.mean(err ** 2))) if err.size else None,
                                errors=[float(e) for e in err],
                                note=s.note))
    return BacktestScores(dataset=f"{Path(path).name} ({res.n_issues} issues)", rows=rows)


def _evidence(scenario: Scenario) -> tuple[list[EvidenceRow], list[str]]:
    sources = {s.id: s for s in scenario.sources}
    rows: list[EvidenceRow] = []
    bare: list[str] = []

    def add(what: str, value: str | None, ev: Sequence[Any], track: bool = False) -> None:
        if not ev and track:
            bare.append(what)
        for e in ev:
            src = sources.get(e.source)
            rows.append(EvidenceRow(
                input=what, value=value, source=e.source,
                source_title=src.title if src else None,
                source_date=src.date.isoformat() if src and src.date else None,
                source_url=src.url if src else None, locator=e.locator,
                paraphrase=e.paraphrase))

    for i in scenario.issues:
        add(f"issue {i.id}", f"scale {i.scale_min:g}-{i.scale_max:g}", i.evidence)
    for a in scenario.actors:
        add(f"actor {a.id}", f"capability {a.capability:g}", a.evidence, track=True)
    for s in scenario.stances:
        val = f"position {s.position:g}, salience {s.salience:g}"
        if s.capability is not None:
            val += f", capability {s.capability:g}"
        add(f"stance {s.actor} / {s.issue}", val, s.evidence, track=True)
    for r in scenario.relations:
        add(f"relation {r.kind} {r.source} -> {r.target}", f"weight {r.weight:g}", r.evidence)
    for d in scenario.dynamics:
        add(f"dynamics {d.actor}", f"monthly cost {d.monthly_cost:g}, drift {d.drift:g}",
            d.evidence, track=True)
    if scenario.conflict is not None:
        c = scenario.conflict
        add(f"conflict on {c.issue}", f"front {c.front_line:g}, horizon "
            f"{c.horizon_months:g} months", c.evidence, track=True)
    for e in scenario.events:
        add(f"event month {e.month}: {e.kind}", f"{e.value:g}", e.evidence)
    for rat in scenario.ratification:
        add(f"ratification {rat.principal}", f"rule {rat.rule}", rat.evidence, track=True)
        for rf in rat.ratifiers:
            add(f"ratifier {rat.principal} / {rf.id}", None, rf.evidence)
    return rows, bare


def _summary(scenario: Scenario, forecasts: Sequence[ModelForecast],
             mc: Sequence[MonteCarloSummary], agreement: AgreementSet | None,
             proposal: ProposalEvaluation | None) -> list[str]:
    lines = []
    band = {(s.model, s.issue): s for s in mc}
    for issue in scenario.issues:
        vals = sorted((f.outcome[issue.id], f.model) for f in forecasts
                      if issue.id in f.outcome and math.isfinite(f.outcome[issue.id]))
        if not vals:
            continue
        lo, hi = vals[0], vals[-1]
        bench = next((v for v, m in vals if m == "compromise"), None)
        s = f"{issue.name}: "
        if bench is not None:
            s += (f"the compromise benchmark lands at {bench:.1f} "
                  f"({issue.label_for(bench) or 'no anchors'})")
        else:
            s += f"models land between {lo[0]:.1f} and {hi[0]:.1f}"
        if len(vals) > 1:
            spread = (hi[0] - lo[0]) / (issue.scale_max - issue.scale_min) * 100
            agree = ("models broadly agree" if spread < 10 else
                     "models disagree" if spread < 30 else "models disagree sharply")
            s += f"; {agree} ({lo[0]:.1f} {lo[1]} to {hi[0]:.1f} {hi[1]})"
        m = band.get(("compromise", issue.id)) or next(
            (x for x in mc if x.issue == issue.id), None)
        if m is not None and "0.05" in m.quantiles and "0.95" in m.quantiles:
            s += (f"; {m.model} 90 % range over {m.n} draws: {m.quantiles['0.05']:.1f}-"
                  f"{m.quantiles['0.95']:.1f}")
        lines.append(s + ".")
    if agreement is not None:
        name = scenario.issue(agreement.issue).name
        if agreement.agreement:
            rng = ", ".join(f"{a:.1f}-{b:.1f}" for a, b in agreement.agreement)
            lines.append(f"{name}: every principal could ratify an outcome in {rng}.")
        else:
            lines.append(f"{name}: no outcome can be ratified by every principal today "
                         "(the agreement set is empty).")
    if proposal is not None and proposal.verdict:
        lines.append(f"Proposal {proposal.name}: {proposal.verdict}.")
    return lines


# ---------------------------------------------------------------------------------------
# the report


def build_report(
    scenario: Scenario,
    *,
    models: Sequence[str] | None = None,
    sets: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int | None = 0,
    forecasts: Sequence[Forecast] | None = None,
    skipped: Sequence[tuple[str, str]] = (),
    montecarlo: int = 0,
    mc_models: Sequence[str] | None = None,
    executor: str = "process",
    fan_draws: int = FAN_DRAWS,
    sensitivity: bool | str = "morris",
    sensitivity_model: str | None = None,
    sensitivity_n: int | None = None,
    montecarlo_stored: Mapping[str, Any] | None = None,
    issue: str | None = None,
    quad_actor: str | None = None,
    bargain_round: int = 1,
    proposal: Proposal | None | bool = True,
    backtest: str | Path | None = None,
    backtest_format: str = "deu",
    command: str | None = None,
    run_id: int | None = None,
    title: str | None = None,
    strict: bool = True,
) -> Report:
    """Run what the report needs and assemble it.

    forecasts: already computed forecasts (e.g. from a stored run); otherwise ``models`` are
    run (default: every registered model). montecarlo: number of draws (0: none) of
    ``mc_models`` (default: the fast baselines among the forecasts). issue: the focus issue
    of the quad map, bargain network, tornado and agreement set (default: the conflict's
    issue, else the first). proposal: a :class:`~detente.deals.proposal.Proposal`, ``True``
    for the bundled proposals written for this scenario, or ``False``/``None`` for none.
    backtest: a DEU (or cases) file to score the models on. fan_draws: when the Monte Carlo
    models are all closed-form, the round-based position model gets its own Monte Carlo of
    ``min(montecarlo, fan_draws)`` draws for the fan chart (0: no fan chart).
    sensitivity: ``morris`` (default), ``sobol``, ``oat`` (one-at-a-time) or ``none``
    (``True``/``False`` mean morris/none), on ``sensitivity_model`` (default: the first fast
    baseline) with ``sensitivity_n`` trajectories (Morris) or base samples (Sobol).
    montecarlo_stored: a stored Monte Carlo summary (``MonteCarloResult.to_dict()`` with
    ``histograms``) to report instead of running one (:func:`report_from_run`).
    strict: ``False`` turns a failure of an optional section (quad map, bargains,
    sensitivity, bargaining range, agreement set, proposal) into a note instead of an error
    (the dashboard shows whatever a user's scenario supports).
    """

    def optional(name: str, fn: Any) -> Any:
        if strict:
            return fn()
        try:
            return fn()
        except DetenteError as exc:
            notes.append(f"{name}: could not be computed ({exc}).")
            return None

    sets = {k: dict(v) for k, v in (sets or {}).items()}
    notes: list[str] = []
    if forecasts is None:
        forecasts, skipped = run_forecasts(scenario, models, sets, seed)
    forecasts = list(forecasts)
    if not forecasts:
        raise ModelError("no model could run on this scenario: " +
                         "; ".join(f"{m}: {r}" for m, r in skipped))
    focus = _focus_issue(scenario, issue)
    mfs = [_model_forecast(f, scenario) for f in forecasts]
    position_model = next((m for m in POSITION_MODELS for f in mfs
                           if f.model == m and f.round_based), None)
    if position_model is None:
        position_model = next((f.model for f in mfs if f.round_based), None)
    if position_model is None:
        notes.append("Positions by round: no round-based model among the forecasts "
                     "(add -m expected_utility or -m spatial).")

    quad = optional("Quad map", lambda: _quad(scenario, focus, quad_actor, sets, notes))
    bargains = optional("Bargain network", lambda: _bargains(forecasts, focus, bargain_round))
    if bargains is None and any(f.model == "spatial" for f in forecasts):
        notes.append("Bargain network: the spatial model recorded no bargains.")

    run_names = [f.model for f in forecasts]
    mc: list[MonteCarloSummary] = []
    fans: list[Fan] = []
    mc_meta: dict[str, Any] = {}
    if montecarlo > 0:
        chosen = list(mc_models) if mc_models else [m for m in run_names if m in FAST_MODELS]
        chosen = chosen or run_names[:1]
        mc, fans, mc_meta = _montecarlo(scenario, chosen, montecarlo, int(seed or 0), sets,
                                        executor, notes)
        fan_model = position_model if position_model in POSITION_MODELS else None
        if not fans and fan_model is not None and fan_draws > 0:
            fans, how = _fan_run(scenario, fan_model, min(montecarlo, fan_draws),
                                 int(seed or 0), sets, executor)
            if how:
                mc_meta["fans"] = how
        if not fans:
            notes.append("Fan chart: no round-based model in the Monte Carlo (add --mc-model "
                         "expected_utility, or keep --fan-draws above 0 with a round-based "
                         "model among the forecasts).")
    elif montecarlo_stored:
        mc, fans, mc_meta = montecarlo_sections(montecarlo_stored)
        notes.extend(f"Monte Carlo: {x}" for x in montecarlo_stored.get("notes") or [])
    else:
        notes.append("Monte Carlo: not run (use --montecarlo N for outcome distributions).")

    sens: list[SensitivityResult] = []
    method = ("morris" if sensitivity is True else "none" if not sensitivity
              else str(sensitivity))
    if method not in SENSITIVITY_METHODS:
        raise ModelError(f"sensitivity {sensitivity!r}: choose "
                         f"{', '.join(SENSITIVITY_METHODS)}")
    if method != "none":
        target = sensitivity_model or next(
            (m for m in (mc_models or ()) if m in FAST_MODELS), None) or next(
            (m for m in run_names if m in FAST_MODELS), None)
        if target is None:
            notes.append("Sensitivity: no fast model among the forecasts to screen (name one "
                         "with --sensitivity-model).")
        elif method == "oat":
            sens = optional("Sensitivity", lambda: [_oat(scenario, target, focus, sets,
                                                         seed)]) or []
        else:
            try:
                sens, what = _global_sensitivity(scenario, target, method, sets,
                                                 int(seed or 0), sensitivity_n, executor)
                notes.append(f"Sensitivity: {what}.")
            except DetenteError as exc:
                notes.append(f"Sensitivity: {method} could not run ({exc}); showing the "
                             "one-at-a-time screen instead.")
                sens = optional("Sensitivity", lambda: [_oat(scenario, target, focus, sets,
                                                             seed)]) or []
        # the focus issue first: its tornado leads the section
        sens.sort(key=lambda r: r.issue != focus)

    attrition = (optional("Bargaining range over time", lambda: _attrition(scenario))
                 if scenario.conflict is not None else None)
    if scenario.conflict is None:
        notes.append("Bargaining range over time: the scenario has no 'conflict' block.")
    agreement = None
    if scenario.conflict is not None or scenario.ratification:
        agreement = optional("Agreement set", lambda: _agreement(scenario, focus, forecasts))
    else:
        notes.append("Agreement set: the scenario names no principals to ratify a deal.")

    prop_eval = None
    if proposal is True:
        from detente.deals.proposal import load_proposal

        found = bundled_proposals_for(scenario)
        if found:
            prop_eval = optional("Proposal", lambda: _proposal(scenario,
                                                               load_proposal(found[0])))
    elif proposal:
        prop_eval = optional("Proposal",
                             lambda: _proposal(scenario, proposal))

    bt = None
    if backtest is not None:
        bt = _backtest(backtest, backtest_format, run_names, seed)

    evidence, bare = _evidence(scenario)
    from detente import __version__

    prov = ReportProvenance(
        scenario_id=scenario.id, scenario_hash=scenario.content_hash(), version=__version__,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        seeds=sorted({f.provenance.seed for f in forecasts if f.provenance.seed is not None}
                     | ({int(seed)} if seed is not None and montecarlo else set())),
        runs=[ModelRun(model=f.model, params=dict(f.provenance.params),
                       seed=f.provenance.seed, created=f.provenance.created)
              for f in forecasts],
        montecarlo=mc_meta, command=command, run_id=run_id, evidence=evidence,
        unsupported_inputs=bare)
    return Report(
        title=title or f"{scenario.name}: forecast report",
        scenario=scenario_info(scenario),
        summary=_summary(scenario, mfs, mc, agreement, prop_eval),
        forecasts=mfs, skipped=[(m, r) for m, r in skipped], position_model=position_model,
        power=_power(scenario), quad_map=quad, bargains=bargains, montecarlo=mc, fans=fans,
        sensitivity=sens, attrition=attrition, agreement=agreement, proposal=prop_eval,
        backtest=bt, notes=notes, provenance=prov)


def report_from_run(run: Any, **kwargs: Any) -> Report:
    """The report of a stored run (:class:`detente.store.StoredRun`): its scenario and
    forecasts as stored (no model is re-run); other sections are computed as in
    :func:`build_report` (``kwargs`` pass through). A run that stored a Monte Carlo summary
    (a dashboard Monte Carlo job) reports it unless ``montecarlo`` asks for a new one."""
    kwargs.setdefault("command", run.summary.command)
    kwargs.setdefault("seed", run.summary.seed)
    if not kwargs.get("montecarlo"):
        kwargs.setdefault("montecarlo_stored", run.extras.get("montecarlo"))
    return build_report(run.scenario(), forecasts=run.to_forecasts(),
                        skipped=run.skipped, run_id=run.id, **kwargs)
