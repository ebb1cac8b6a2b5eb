"""The report in the terminal (rich): the same sections as the HTML report, as tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from detente.report.model import Report

__all__ = ["print_report"]


def _n(v: float | None, d: int = 1) -> str:
    return "-" if v is None else f"{v:.{d}f}"


def print_report(report: Report, console: Console | None = None) -> None:  # noqa: C901
    """Print every section of ``report`` that has content."""
    c = console or Console()
    sc = report.scenario
    name = sc.actor_name
    c.print(f"[bold]{report.title}[/]", highlight=False)
    c.print(f"[dim]{sc.id} · hash {sc.hash[:12]} · detente {report.provenance.version} · "
            f"{report.provenance.created}[/]", highlight=False)
    if sc.view:
        c.print(f"[dim]view: {sc.view}[/]", highlight=False)
    for line in report.summary:
        c.print(f"- {line}", highlight=False)
    for note in report.notes:
        c.print(f"[yellow]note:[/] {note}", highlight=False)

    for issue in sc.issues:
        t = Table(title=f"{issue.name} [{issue.scale_min:g}-{issue.scale_max:g}"
                        f"{' ' + issue.units if issue.units else ''}]",
                  title_justify="left", show_edge=False, pad_edge=False)
        for col, just in (("model", "left"), ("forecast", "right"), ("nearest anchor", "left"),
                          ("5-95 %", "right"), ("rounds", "right"), ("converged", "left")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        mc = {m.model: m for m in report.montecarlo if m.issue == issue.id}
        for f in report.forecasts:
            if issue.id not in f.outcome:
                continue
            v = f.outcome[issue.id]
            s = mc.get(f.model)
            band = ""
            if s is not None and "0.05" in s.quantiles and "0.95" in s.quantiles:
                band = f"{s.quantiles['0.05']:.1f}-{s.quantiles['0.95']:.1f}"
            ok = f.converged.get(issue.id, True)
            t.add_row(f.model, f"{v:.2f}", issue.label_for(v), band,
                      str(f.rounds.get(issue.id, 0)), "yes" if ok else "[yellow]no[/]")
        c.print()
        c.print(t)
        pos = report.forecast(report.position_model) if report.position_model else None
        if pos is not None:
            for line in pos.explanations.get(issue.id, [])[:5]:
                c.print(f"  [dim]{line}[/]", highlight=False)

    if report.sensitivity:
        c.print()
        c.print("[bold]Sensitivity[/] (largest effects)")
        for sens in report.sensitivity:
            ranked = sorted(sens.factors, key=lambda f: -(
                abs((f.high or 0) - (f.low or 0)) if f.low is not None
                else (f.st if f.st is not None else (f.mu_star or 0))))
            top = ", ".join(f.factor for f in ranked[:3])
            c.print(f"- {sens.model} on {sens.issue} ({sens.method}): {top}", highlight=False)

    if report.attrition is not None:
        a = report.attrition
        c.print()
        opened = (f"opens at month {a.first_open:g}" if a.first_open is not None
                  else f"stays closed for {a.months[-1]:g} months")
        c.print(f"[bold]Bargaining range[/] on {a.issue}: {opened}", highlight=False)
    if report.agreement is not None:
        g = report.agreement
        sets = ", ".join(f"[{lo:.1f}, {hi:.1f}]" for lo, hi in g.agreement) or "empty"
        c.print(f"[bold]Agreement set[/] on {g.issue}: {sets}", highlight=False)

    if report.proposal is not None:
        p = report.proposal
        c.print()
        t = Table(title=f"Proposal {p.name}" + (f": {p.verdict}" if p.verdict else ""),
                  title_justify="left", show_edge=False, pad_edge=False)
        for col in ("actor", "deal", "no deal", "verdict", "why"):
            t.add_column(col)
        for vote in p.votes:
            verdict = ("accepts" if vote.accepts else
                       "[red]VETO[/]" if vote.veto else "[yellow]rejects[/]")
            t.add_row(name(vote.actor), _n(vote.utility_deal, 3), _n(vote.utility_no_deal, 3),
                      verdict, vote.reason or "")
        c.print(t)

    if report.backtest is not None:
        c.print()
        t = Table(title=f"Backtest on {report.backtest.dataset}", title_justify="left",
                  show_edge=False, pad_edge=False)
        for col in ("model", "cases", "MAE", "RMSE", "note"):
            t.add_column(col)
        for r in sorted(report.backtest.rows, key=lambda r: r.mae):
            t.add_row(r.model, str(r.n), _n(r.mae, 2), _n(r.rmse, 2), r.note or "")
        c.print(t)

    prov = report.provenance
    c.print()
    c.print("[bold]Provenance[/]")
    runs: list[Any] = [f"{r.model}({', '.join(f'{k}={v}' for k, v in r.params.items())})"
                       for r in prov.runs]
    c.print(f"- models: {'; '.join(runs)}", highlight=False, soft_wrap=True)
    c.print(f"- seeds: {', '.join(str(s) for s in prov.seeds)}; scenario hash "
            f"{prov.scenario_hash}", highlight=False)
    c.print(f"- evidence rows: {len(prov.evidence)}; inputs without evidence: "
            f"{len(prov.unsupported_inputs)}", highlight=False)
