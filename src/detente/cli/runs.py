"""``detente runs list|show|diff|rm``: the run store from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from detente.errors import DetenteError

StoreOpt = Annotated[Path | None, typer.Option(
    "--store", help="Run store file (default $DETENTE_STORE or the user data directory)")]


def register(app: typer.Typer) -> None:
    runs = typer.Typer(help="List, show, compare and remove stored runs.\n\n"
                       "Every `detente run` is recorded in the run store.\n\n"
                       "Examples: detente runs list ; detente runs show latest",
                       no_args_is_help=True)
    app.add_typer(runs, name="runs")

    @runs.command("list")
    def list_cmd(
        store: StoreOpt = None,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N runs")] = 20,
        scenario: Annotated[str | None, typer.Option(help="Only runs of this scenario id")
                            ] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    ) -> None:
        """List stored runs, newest first.

        Examples:

          detente runs list --limit 5

          detente runs list --scenario ukraine-2025 --format json
        """
        from detente.store import RunStore

        if fmt not in ("table", "json"):
            raise DetenteError(f"--format {fmt!r}: choose table or json")
        with RunStore(store) as st:
            rows = st.list_runs(limit=limit, scenario=scenario)
            path = st.path
        if fmt == "json":
            typer.echo(json.dumps([r.__dict__ for r in rows], indent=2))
            return
        c = Console()
        if not rows:
            which = f" of scenario {scenario!r}" if scenario else ""
            c.print(f"no runs{which} in {path}", highlight=False)
            return
        t = Table(show_edge=False, pad_edge=False)
        for col in ("id", "created", "kind", "scenario", "hash", "models", "seed"):
            t.add_column(col)
        for r in rows:
            models = ", ".join(r.models)
            t.add_row(str(r.id), r.created, r.kind, r.scenario_id, r.scenario_hash[:10],
                      models if len(models) < 50 else f"{len(r.models)} models",
                      "" if r.seed is None else str(r.seed))
        c.print(t)
        c.print(f"[dim]{path}[/]", highlight=False)

    @runs.command("show")
    def show_cmd(
        run: Annotated[str, typer.Argument(
            help="Run id: 12, run:12, latest, or run:-2 for the one before the latest")],
        store: StoreOpt = None,
        fmt: Annotated[str, typer.Option("--format", "-f",
                                         help="table, json or yaml (the scenario)")] = "table",
    ) -> None:
        """Show one run: scenario, parameters, forecasts, provenance.

        Examples:

          detente runs show latest

          detente runs show run:-2 --format yaml        # the scenario as it was run

          detente runs show 12 --format json
        """
        from detente.store import RunStore

        if fmt not in ("table", "json", "yaml"):
            raise DetenteError(f"--format {fmt!r}: choose table, json or yaml")
        with RunStore(store) as st:
            r = st.get(run)
        if fmt == "yaml":
            from detente.scenario.io_yaml import dump_yaml

            typer.echo(dump_yaml(r.scenario()), nl=False)
            return
        if fmt == "json":
            typer.echo(json.dumps({"id": r.id, "summary": r.summary.__dict__,
                                   "scenario": r.scenario_json, "source": r.source,
                                   "models": {m: {"params": v["params"]}
                                              for m, v in r.models.items()},
                                   "forecasts": r.forecasts, "skipped": r.skipped,
                                   "provenance": r.provenance, "extras": r.extras}, indent=2))
            return
        if fmt != "table":
            raise DetenteError(f"--format {fmt!r}: choose table, json or yaml")
        c = Console()
        s = r.summary
        c.print(f"[bold]run {s.id}[/] {s.created} · {s.kind} · {s.scenario_id} "
                f"({s.scenario_name}) · hash {s.scenario_hash[:12]} · seed {s.seed} · "
                f"detente {r.version}", highlight=False)
        if s.command:
            c.print(f"[dim]command: {s.command}[/]", highlight=False)
        if r.source:
            c.print(f"[dim]scenario from: {r.source}[/]", highlight=False)
        for name, entry in r.models.items():
            params = ", ".join(f"{k}={v}" for k, v in entry["params"].items())
            c.print(f"- {name}({params})", highlight=False, soft_wrap=True)
        sc = r.scenario()
        t = Table(show_edge=False, pad_edge=False)
        t.add_column("issue")
        models = list(r.models)
        for m in models:
            t.add_column(m, justify="right")
        for iss in sc.issue_ids:
            cells = []
            for m in models:
                v = r.outcome(m, iss)
                cells.append("-" if v is None else f"{v:.2f}")
            t.add_row(iss, *cells)
        c.print(t)
        for m, why in r.skipped:
            c.print(f"[yellow]skipped {m}[/]: {why}", highlight=False)

    @runs.command("diff")
    def diff_cmd(
        a: Annotated[str, typer.Argument(help="Older run (12, run:12, run:-2, ...)")],
        b: Annotated[str, typer.Argument(help="Newer run (default: latest)")] = "latest",
        store: StoreOpt = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
        tol: Annotated[float, typer.Option(help="Hide forecast changes smaller than this")
                       ] = 1e-6,
    ) -> None:
        """What changed between two runs: inputs (stance by stance), parameters, forecasts.

        Examples:

          detente runs diff run:-2 latest               # the last two runs

          detente runs diff 3 7 --format json
        """
        from detente.store import RunStore, diff_runs

        if fmt not in ("table", "json"):
            raise DetenteError(f"--format {fmt!r}: choose table or json")
        with RunStore(store) as st:
            d = diff_runs(st.get(a), st.get(b))
        if fmt == "json":
            typer.echo(json.dumps(d.to_dict(), indent=2))
            return
        c = Console()
        c.print(f"[bold]run {d.a} -> run {d.b}[/]", highlight=False)
        c.print("[bold]Inputs[/]" + (": same scenario (identical hash)" if d.same_scenario
                                      else ""), highlight=False)
        for ch in d.inputs:
            c.print(f"  {ch.line()}", highlight=False, soft_wrap=True)
        c.print("[bold]Parameters[/]" + ("" if d.params else ": unchanged"))
        for ch in d.params:
            c.print(f"  {ch.line()}", highlight=False, soft_wrap=True)
        changed = d.changed_forecasts(tol)
        c.print("[bold]Forecasts[/]" + ("" if changed else ": unchanged"))
        if changed:
            t = Table(show_edge=False, pad_edge=False)
            for col, j in (("model", "left"), ("issue", "left"), (f"run {d.a}", "right"),
                           (f"run {d.b}", "right"), ("change", "right")):
                t.add_column(col, justify=j)  # type: ignore[arg-type]
            for f in changed:
                t.add_row(f.model, f.issue, "-" if f.old is None else f"{f.old:.2f}",
                          "-" if f.new is None else f"{f.new:.2f}",
                          "-" if f.delta is None else f"{f.delta:+.2f}")
            c.print(t)

    @runs.command("rm")
    def rm_cmd(
        run: Annotated[list[str], typer.Argument(help="Run ids to remove (12, run:12, latest)")],
        store: StoreOpt = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask")] = False,
    ) -> None:
        """Remove runs from the store.

        Examples:

          detente runs rm 3 4 --yes

          detente runs rm latest
        """
        from detente.store import RunStore

        with RunStore(store) as st:
            ids = [st.resolve(r) for r in run]
            if not yes and not typer.confirm(f"remove run(s) {', '.join(map(str, ids))} "
                                             f"from {st.path}?"):
                raise typer.Exit(1)
            n = st.delete(ids)
        typer.echo(f"removed {n} run(s)")
