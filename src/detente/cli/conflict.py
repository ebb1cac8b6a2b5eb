"""Commands on time, force and deals: timeline, evaluate, deals."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from detente.errors import DetenteError, InputFileError

DEFAULT_SCENARIO = "ukraine-2025"

ScenarioArg = Annotated[
    str | None,
    typer.Argument(help="A scenario file or bundled scenario name (needs 'conflict' and "
                   "'dynamics' for the war path). Default: ukraine-2025."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
MonthOpt = Annotated[int, typer.Option("--month", min=0, max=600,
                                       help="Month of the war (0 = now) at which to judge.")]


def _load(name: str | None):
    from detente.scenario.load import load_scenario

    return load_scenario(name or DEFAULT_SCENARIO)


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(_plain(data), indent=2, allow_nan=False))


def _ivs(ivs: Any, fmt: str = "{:.1f}") -> str:
    if not ivs:
        return "empty"
    return " ∪ ".join(f"[{fmt.format(a)}, {fmt.format(b)}]" for a, b in ivs)


def _proposal_path(name: str) -> Path:
    p = Path(name)
    if p.is_file():
        return p
    from importlib.resources import files

    bundled = files("detente") / "data" / "proposals" / f"{name}.yaml"
    if bundled.is_file():
        return Path(str(bundled))
    raise InputFileError(name, "no such proposal file or bundled proposal",
                         fix="give a proposal YAML path, a bundled name such as "
                             "us-draft-2025, or '-' with --set issue=value")


def register(app: typer.Typer) -> None:
    @app.command("timeline")
    def timeline_cmd(
        scenario: ScenarioArg = None,
        months: Annotated[int, typer.Option("--months", min=0, max=600,
                                            help="Months to trace after month 0.")] = 24,
        learning: Annotated[float, typer.Option(
            "--learning", min=0.0, max=1.0,
            help="Share of each side's belief error closed per month (0 = none).")] = 0.0,
        horizon: Annotated[str, typer.Option(
            "--horizon", help="'rolling' (expected remaining war stays put) or 'countdown'.")
        ] = "rolling",
        as_json: JsonOpt = False,
    ) -> None:
        """Bargaining range and agreement set of the war, month by month.

        The model is in models.md §5.2 and §6.

        Examples:

          detente timeline ukraine-2025 --months 12 --learning 0.1

          detente timeline ukraine-2025-alt --horizon countdown --json
        """
        from detente.conflict.attrition import AttritionParams, attrition_path
        from detente.conflict.ratification import needed_principals, two_level_game

        if horizon not in ("rolling", "countdown"):
            raise DetenteError(f"--horizon {horizon!r}: choose 'rolling' or 'countdown'")
        s = _load(scenario)
        if s.conflict is None:
            raise InputFileError(scenario or DEFAULT_SCENARIO, "the scenario has no war to trace",
                                 field="conflict",
                                 fix="add a 'conflict' block (issue, sides, front_line) and "
                                     "'dynamics' for each side")
        params = AttritionParams(months=months, learning=learning, horizon=horizon)
        path = attrition_path(s, params)
        principals = needed_principals(s)
        rows = []
        for m in path.months:
            game = two_level_game(s, month=m.month, principals=principals, attrition=params)
            agree = game.agreement_set(s.conflict.issue)
            rows.append({**m.to_dict(), "agreement_set": [list(i) for i in agree],
                         "win_sets": {p: [list(i) for i in game.win_set(p, s.conflict.issue)]
                                      for p in principals}})
        first_agree = next((r["month"] for r in rows if r["agreement_set"]), None)
        data = {**path.to_dict(), "months": rows, "principals": list(principals),
                "first_agreement_month": first_agree}
        if as_json:
            _echo_json(data)
            return
        con = Console()
        low_s, high_s = path.sides
        t = Table(title=f"{s.name}: bargaining range on '{path.issue}' "
                        f"({high_s} accepts x ≥ low, {low_s} accepts x ≤ high)")
        for col in ("month", "front", "range low", "range high", "width", "open",
                    "agreement set", "events"):
            t.add_column(col, justify="right" if col not in ("events", "agreement set",
                                                               "open") else "left")
        for r in rows:
            t.add_row(str(r["month"]), f"{r['front']:.1f}", f"{r['low_x']:.1f}",
                      f"{r['high_x']:.1f}", f"{r['width'] * (path.scale[1] - path.scale[0]):+.1f}",
                      "[green]open[/]" if r["open"] else "[red]closed[/]",
                      _ivs(r["agreement_set"]), "; ".join(r["events"]))
        con.print(t)
        fo = path.first_open
        opens = ("open now" if fo == 0 else f"opens at month {fo}" if fo is not None
                 else "never opens within the horizon")
        con.print(f"Bargaining range: {opens}"
                  + ("; changes: " + ", ".join(f"{c} at month {m}" for m, c in path.transitions)
                     if path.transitions else ""))
        con.print("Agreement set (every needed principal ratifies, other issues at no deal): "
                  + (f"first non-empty at month {first_agree}" if first_agree is not None
                     else "empty throughout"))

    @app.command("evaluate")
    def evaluate_cmd(
        proposal: Annotated[str, typer.Argument(
            help="Proposal YAML file, bundled proposal name (us-draft-2025), or '-' to build "
                 "one from --set.")],
        scenario: Annotated[str | None, typer.Option(
            "--scenario", help="Scenario file or bundled name (default: the proposal's "
                               "'scenario', else ukraine-2025).")] = None,
        sets: Annotated[list[str] | None, typer.Option(
            "--set", help="Override a term: issue=value (repeatable).")] = None,
        month: MonthOpt = 0,
        guarantee: Annotated[float | None, typer.Option(
            "--guarantee", min=0.0, max=1.0, help="Override guarantee strength (0-1).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Judge a proposal: who gains, who vetoes and why, will it be ratified and hold.

        Shows gains against no deal, vetoes with their reasons, ratification at home, survival
        if signed, and the smallest change that would flip each veto.

        Examples:

          detente evaluate us-draft-2025 --set donbas=15

          detente evaluate us-draft-2025 --scenario ukraine-2025-alt --month 6

          detente evaluate - --set donbas=30 --set nato_membership=10 --guarantee 0.5
        """
        from detente.deals.evaluate import evaluate
        from detente.deals.proposal import load_proposal, parse_set_options, proposal_from_terms

        overrides = parse_set_options(sets)
        where = None
        if proposal == "-":
            if not overrides:
                raise InputFileError(None, "no terms given", field="--set",
                                     fix="add --set issue=value, or give a proposal file")
            prop = proposal_from_terms(overrides)
        else:
            path = _proposal_path(proposal)
            where = str(path)
            prop = load_proposal(path).with_terms(overrides)
        if guarantee is not None:
            prop = prop.model_copy(update={"guarantee": guarantee})
        s = _load(scenario or prop.scenario)
        ev = evaluate(s, prop, month=month, where=where)
        data = ev.to_dict()
        if as_json:
            _echo_json(data)
            return
        con = Console()
        terms = data["proposal"]["terms"]
        tt = Table(title=f"{prop.name} on {s.id} (month {month})")
        tt.add_column("issue")
        tt.add_column("term", justify="right")
        tt.add_column("meaning")
        for iss, v in terms.items():
            unchanged = " (unchanged)" if iss in data["proposal"]["unchanged"] else ""
            tt.add_row(iss, f"{v:g}", s.issue(iss).label_for(v) + unchanged)
        con.print(tt)
        ta = Table(title="Actors: utility of the deal against no deal")
        for col in ("actor", "deal", "no deal", "gain", "verdict", "why"):
            ta.add_column(col, justify="right" if col in ("deal", "no deal", "gain") else "left")
        veto_ids = {v["actor"] for v in data["vetoes"]}
        for a in data["actors"]:
            if a["actor"] in veto_ids:
                verdict = "[bold red]VETO[/]"
            elif a["accepts"]:
                verdict = "[green]accepts[/]"
            else:
                verdict = "[yellow]objects[/]"
            ta.add_row(a["actor"], f"{a['utility']:.3f}", f"{a['no_deal']:.3f}",
                       f"{a['gain']:+.3f}", verdict, "; ".join(a["reasons"]))
        con.print(ta)
        if data["ratification"]:
            tr = Table(title="Ratification at home")
            for col in ("principal", "rule", "ratified", "rejected by"):
                tr.add_column(col)
            for r in data["ratification"]:
                tr.add_row(r["principal"], r["rule"], "yes" if r["ratified"] else "[red]no[/]",
                           ", ".join(q["id"] + (" (veto)" if q["veto"] else "")
                                     for q in r["rejected_by"]))
            con.print(tr)
        if data["vetoes"]:
            tv = Table(title="Vetoes and the smallest change that flips each")
            for col in ("veto", "why", "smallest flip", "would then lose"):
                tv.add_column(col)
            for v in data["vetoes"]:
                f = v["flip"]
                flip = ("none on one or two issues" if f is None else ", ".join(
                    f"{i}: {f['from'][i]:g} → {x:.1f}" for i, x in f["changes"].items()))
                tv.add_row(v["actor"], "; ".join(v["reasons"]), flip,
                           ", ".join(f["would_lose"]) if f else "")
            con.print(tv)
        sv = data["survival"]
        if sv is not None:
            con.print(f"Survival if signed (guarantee {sv['guarantee']:g}): "
                      f"{sv['survival'][11] if len(sv['survival']) > 11 else sv['final']:.2f} "
                      f"at 12 months, {sv['final']:.2f} at {len(sv['survival'])} months")
        if data["commitment"] and data["commitment"]["prefers_war"]:
            con.print("Commitment problem: " + ", ".join(data["commitment"]["prefers_war"])
                      + " would rather fight now than accept the power shift")
        con.print(f"[bold]Verdict:[/] {data['verdict']}")

    @app.command("deals")
    def deals_cmd(
        scenario: ScenarioArg = None,
        month: MonthOpt = 0,
        samples: Annotated[int, typer.Option("--samples", min=100, max=2_000_000,
                                             help="Candidate packages to sample.")] = 20000,
        top: Annotated[int, typer.Option("--top", min=1, max=50,
                                         help="Packages to list per ranking.")] = 3,
        horizon: Annotated[int, typer.Option(
            "--horizon", min=0, max=600,
            help="Months to look ahead for the first feasible month when none exists now.")
        ] = 24,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Sampling seed.")] = 0,
        as_json: JsonOpt = False,
    ) -> None:
        """Search for packages every needed principal can sign and ratify.

        Lists the best packages by Nash product and by robustness, or says 'no deal possible'
        and names the binding constraint.

        Examples:

          detente deals ukraine-2025-alt --month 6 --top 5

          detente deals ukraine-2025 --samples 5000 --json
        """
        from detente.deals.search import search_deals

        s = _load(scenario)
        res = search_deals(s, month=month, n_samples=samples, n_top=top, horizon=horizon,
                           rng=seed)
        data = res.to_dict()
        if as_json:
            _echo_json(data)
            return
        con = Console()
        con.print(f"[bold]{s.name}[/] — principals whose signature is needed: "
                  f"{', '.join(res.principals)} (month {month}; {res.n_candidates} packages "
                  f"sampled, {res.n_feasible} ratified by all)")
        if not res.feasible:
            b = data["binding"] or {}
            con.print(f"[bold red]No deal possible:[/] {b.get('summary', '')}")
            if b.get("blockers"):
                tb = Table(title="Closest package: who still says no")
                for col in ("principal", "ratifier", "veto", "shortfall (utility)"):
                    tb.add_column(col)
                for q in b["blockers"][:8]:
                    tb.add_row(q["principal"], q["ratifier"], "yes" if q["veto"] else "no",
                               f"{q['shortfall']:.3f}")
                con.print(tb)
            if b.get("closest_package"):
                con.print("Closest package: " + ", ".join(
                    f"{k}={v:.0f}" for k, v in b["closest_package"].items()))
            fm = data["first_month"]
            con.print("Under the attrition path a deal first becomes possible at month "
                      f"{fm}" if fm is not None else
                      f"No month up to {horizon} makes a deal possible under the attrition path")
            return
        for title, key in (("Best by weighted Nash product", "by_nash"),
                           ("Most robust", "by_robustness")):
            t = Table(title=title)
            t.add_column("issue")
            for n in range(len(data[key])):
                t.add_column(f"#{n + 1}", justify="right")
            for iss in s.issue_ids:
                t.add_row(iss, *[f"{p['package'][iss]:.1f}" for p in data[key]])
            t.add_row("[bold]log Nash product[/]", *[f"{p['nash']:.3f}" for p in data[key]])
            t.add_row("[bold]robustness[/]", *[f"{p['robustness']:.3f}" for p in data[key]])
            con.print(t)
