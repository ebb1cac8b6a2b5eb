"""Core commands: run, validate, models, schema, convert, explain."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from detente.errors import (
    DetenteError,
    InputFileError,
    ModelError,
    NotConvergedWarning,
    ParamsError,
)

DEFAULT_SCENARIO = "ukraine-2025"

SeedOpt = Annotated[int, typer.Option("--seed", min=0,
                                      help="Seed for stochastic models (a non-negative integer)")]

ScenarioArg = Annotated[
    str | None,
    typer.Argument(help="A scenario file (YAML, CSV table, KTAB CSV/XML, Decide, DEU#issue) "
                   "or a bundled scenario name. Default: ukraine-2025."),
]


def parse_sets(sets: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["expected_utility.Q=0.5"]`` -> ``{"expected_utility": {"Q": 0.5}}``."""
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in sets or []:
        key, eq, raw = item.partition("=")
        model, dot, param = key.partition(".")
        if not eq or not dot or not model or not param:
            raise DetenteError(f"--set {item!r}: expected NAME.PARAM=VALUE, e.g. "
                               f"--set expected_utility.Q=0.5")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        out.setdefault(model.strip(), {})[param.strip()] = value
    return out


def check_output(path: Path | None, opt: str) -> None:
    """Fail before any work is done when ``path`` cannot be written as an output file.

    Outputs are written atomically (temporary file, then rename), so a failing command
    leaves no half-written file; this check also spares the wait for a doomed run.
    """
    if path is None:
        return
    if path.is_dir():
        raise InputFileError(str(path), "is a directory, not a file", field=opt,
                             fix="give the name of a file to write")
    anc = path.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise InputFileError(str(path), f"{anc} is a file, not a directory", field=opt,
                             fix="choose a path inside a directory")
    if anc.is_dir() and not os.access(anc, os.W_OK | os.X_OK):
        raise InputFileError(str(path), f"cannot write in {anc}", field=opt,
                             fix="choose a directory you can write to")


def check_models(names: list[str] | tuple[str, ...],
                 sets: dict[str, dict[str, Any]] | None = None) -> None:
    """Every model name exists, every ``--set`` names a model being run and one of its
    parameters; raises a :class:`DetenteError` naming the option and the fix otherwise."""
    import difflib

    from detente.models.registry import get_model_class

    classes = {n: get_model_class(n) for n in names}
    for name, params in (sets or {}).items():
        if name not in classes:
            raise DetenteError(f"--set {name}.{next(iter(params), 'PARAM')}: model {name!r} is "
                               f"not being run; add --model {name} or fix the name "
                               f"(running: {', '.join(names)})")
        fields = list(classes[name].Params.model_fields)
        for key in params:
            if key == "preset" or key in fields:
                continue
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ParamsError(f"--set {name}.{key}: {name} has no parameter {key!r}; {hint}"
                              f"its parameters: {', '.join(fields) or '(none)'} "
                              "(see `detente models`)")


def make_model(name: str, params: dict[str, Any]):
    """``get_model`` with a fix appended to invalid-parameter messages."""
    from detente.models.registry import get_model

    try:
        return get_model(name, **params)
    except ParamsError as exc:
        raise ParamsError(f"{exc}. Fix: change the --set value; `detente models` lists "
                          f"{name}'s parameters and defaults") from None


def load(scenario: str | None):
    from detente.scenario.load import load_scenario

    return load_scenario(scenario or DEFAULT_SCENARIO)


def build_models(names: list[str] | None, sets: dict[str, dict[str, Any]]):
    from detente.models.registry import available_models

    chosen = names or available_models()
    check_models(chosen, sets)
    return [make_model(n, sets.get(n, {})) for n in chosen], bool(names)


def run_models(scenario, models, explicit: bool, seed: int | None):
    """Run every model; on the default all-model run, models that cannot handle the scenario
    are skipped with a note instead of failing the command."""
    from detente.models.registry import forecast_each

    return forecast_each(scenario, models, strict=explicit, seed=seed)


def _label(scenario, issue_id: str, value: float) -> str:
    return scenario.issue(issue_id).label_for(value)


def render_table(console: Console, scenario, forecasts, skipped) -> None:
    console.print(f"[bold]{scenario.name}[/] ({scenario.id})", highlight=False)
    if scenario.view:
        console.print(f"[dim]view: {scenario.view}[/]", highlight=False)
    for k, issue in enumerate(scenario.issues):
        t = Table(title=f"{issue.name} [{issue.scale_min:g}-{issue.scale_max:g}"
                        f"{' ' + issue.units if issue.units else ''}]",
                  title_justify="left", show_edge=False, pad_edge=False)
        t.add_column("model")
        t.add_column("forecast", justify="right")
        t.add_column("nearest anchor")
        t.add_column("rounds", justify="right")
        t.add_column("converged")
        for f in forecasts:
            v = float(f.outcome[k])
            t.add_row(f.model, f"{v:.2f}", _label(scenario, issue.id, v), str(int(f.rounds[k])),
                      "yes" if f.converged[k] else "[yellow]no[/]")
        console.print(t)
        if issue.anchors:
            console.print("  anchors: " + "; ".join(f"{a.value:g} = {a.label}"
                                                     for a in issue.anchors), highlight=False)
        console.print()
    if any(issue.anchors for issue in scenario.issues):
        console.print("[dim]nearest anchor: '~ X' lies within a tenth of the scale of anchor X; "
                      "'between X and Y' lies further from both[/]", highlight=False)
    for name, why in skipped:
        console.print(f"[yellow]skipped {name}[/]: {why}", highlight=False)
    console.print("[bold]Summary[/]")
    for line in summary_lines(scenario, forecasts):
        console.print(f"- {line}", highlight=False)


def summary_lines(scenario, forecasts) -> list[str]:
    """One plain-language line per issue: the spread across models and the benchmark.

    The status-quo baseline (no one moves) is not a forecast of a deal: it is left out of
    the spread and quoted as the reference point instead."""
    lines = []
    for k, issue in enumerate(scenario.issues):
        vals = [(float(f.outcome[k]), f.model) for f in forecasts
                if math.isfinite(float(f.outcome[k])) and f.model != "status_quo"]
        sq = next((float(f.outcome[k]) for f in forecasts if f.model == "status_quo"
                   and math.isfinite(float(f.outcome[k]))), None)
        if not vals:
            if sq is not None:
                lines.append(f"{issue.name}: status quo {sq:.1f} "
                             f"({_label(scenario, issue.id, sq)}).")
            continue
        lo, hi = min(vals), max(vals)
        bench = next((v for v, m in vals if m == "compromise"), None)
        spread = (hi[0] - lo[0]) / issue.width * 100
        s = f"{issue.name}: "
        if bench is not None:
            label = _label(scenario, issue.id, bench)
            s += f"the compromise benchmark lands at {bench:.1f} ({label})"
        else:
            s += f"models land between {lo[0]:.1f} and {hi[0]:.1f}"
        if len(vals) > 1:
            agree = "models broadly agree" if spread < 10 else (
                "models disagree" if spread < 30 else "models disagree sharply")
            s += (f"; {agree}: from {lo[0]:.1f} ({lo[1]}) to {hi[0]:.1f} ({hi[1]}), "
                  f"{spread:.0f}% of the scale")
        if sq is not None:
            s += f"; status quo {sq:.1f}"
        unconverged = [f.model for f in forecasts if not f.converged[k]]
        if unconverged:
            s += f"; no convergence in {', '.join(unconverged)}"
        lines.append(s + ".")
    return lines


def run_payload(scenario, forecasts, skipped, seed) -> dict[str, Any]:
    from detente import __version__

    return {
        "scenario": {"id": scenario.id, "name": scenario.name, "hash": scenario.content_hash()},
        "forecasts": [row for f in forecasts for row in f.forecast_rows()],
        "skipped": [{"model": m, "reason": r} for m, r in skipped],
        "provenance": {
            "version": __version__,
            "seed": seed,
            "models": [f.provenance.to_dict() for f in forecasts],
        },
    }


def write_positions(path: Path, forecasts) -> None:
    from detente.atomic import atomic_write_text

    buf = io.StringIO()
    w = csv.DictWriter(buf, ["model", "round", "actor", "issue", "position"], lineterminator="\n")
    w.writeheader()
    for f in forecasts:
        w.writerows(f.tidy())
    atomic_write_text(path, buf.getvalue())


def _record_run(store: Path | None, sc, forecasts, skipped, seed, source: str) -> None:
    """Save the run in the run store and say where (on stderr, so --format json stays clean)."""
    import sys

    from detente.store import RunStore, StoreError

    err = Console(stderr=True)
    try:
        with RunStore(store) as st:
            run_id = st.save_forecasts(sc, forecasts, seed=seed, skipped=skipped,
                                       source=source, command="detente " + " ".join(sys.argv[1:]))
            err.print(f"saved as run {run_id} in {st.path} (detente runs show {run_id})",
                      highlight=False, soft_wrap=True)
    except StoreError as exc:
        err.print(f"warning: run not recorded: {exc}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:  # noqa: C901 - one place for the core commands
    @app.command("run")
    def run_cmd(
        scenario: ScenarioArg = None,
        model: Annotated[list[str] | None, typer.Option(
            "--model", "-m", help="Model to run (repeat for several). Default: every model.")
        ] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Model parameter NAME.PARAM=VALUE, e.g. expected_utility.Q=0.5")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", "-f",
                                         help="table, json or csv")] = "table",
        positions: Annotated[Path | None, typer.Option(
            "--positions", help="Write every model's per-round positions to this CSV")] = None,
        seed: SeedOpt = 0,
        store: Annotated[Path | None, typer.Option(
            "--store", help="Run store file (default $DETENTE_STORE or the user data dir)")
        ] = None,
        no_store: Annotated[bool, typer.Option("--no-store",
                                               help="Do not record this run")] = False,
    ) -> None:
        """Forecast where the talks land, with several models side by side.

        Examples:

          detente run                                  # bundled ukraine-2025, every model

          detente run ukraine-2025-alt -m compromise -m expected_utility --set expected_utility.Q=1

          detente run emission-bdm1994 --format csv --no-store

          detente run dummyData_3Dim.csv --format json --positions rounds.csv   # a KTAB file
        """
        if fmt not in ("table", "json", "csv"):
            raise DetenteError(f"--format {fmt!r}: choose table, json or csv")
        check_output(positions, "--positions")
        sc = load(scenario)
        models, explicit = build_models(model, parse_sets(set_))
        forecasts, skipped = run_models(sc, models, explicit, seed)
        if not forecasts:
            raise ModelError("no model could run on this scenario: " +
                             "; ".join(f"{m}: {r}" for m, r in skipped))
        if positions is not None:
            write_positions(positions, forecasts)
        if not no_store:
            _record_run(store, sc, forecasts, skipped, seed, scenario or DEFAULT_SCENARIO)
        console = Console()
        if fmt == "json":
            typer.echo(json.dumps(run_payload(sc, forecasts, skipped, seed), indent=2))
        elif fmt == "csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, ["model", "issue", "outcome", "rounds", "converged"],
                               lineterminator="\n")
            w.writeheader()
            for f in forecasts:
                w.writerows(f.forecast_rows())
            typer.echo(buf.getvalue(), nl=False)
        else:
            render_table(console, sc, forecasts, skipped)

    @app.command("warmup")
    def warmup_cmd() -> None:
        """Compile the optional fast kernels (numba) once after installation.

        The first real run then does not pay for compiling them; the setup scripts call this.

        Example: detente warmup
        """
        import time

        import numpy as np

        from detente.models.registry import available_models, get_model

        t0 = time.perf_counter()
        scenarios = [load("emission-bdm1994"), load(DEFAULT_SCENARIO)]
        for name in available_models():
            model = get_model(name)
            for sc in scenarios:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        model.forecast(sc, rng=0)
                    except ModelError:
                        pass  # e.g. status_quo on a scenario without one
        from detente.models import _eu_kernels, spatial_kernel

        if spatial_kernel.numba_available():
            spatial_kernel.warm_up()
        if _eu_kernels.numba_enabled():  # the batched (parallel) paths of Monte Carlo
            from detente.models.expected_utility import ExpectedUtilityModel, solve_batch

            rng = np.random.default_rng(0)
            for preset in ExpectedUtilityModel.presets:
                solve_batch(rng.uniform(0, 10, (256, 12)), rng.uniform(1, 5, (256, 12)),
                            rng.uniform(0.1, 1, (256, 12)), width=10.0,
                            params=ExpectedUtilityModel(preset=preset).params)
        typer.echo(f"warm: every model ran once ({time.perf_counter() - t0:.1f} s)")

    @app.command("validate")
    def validate_cmd(
        file: Annotated[str, typer.Argument(help="Scenario file or bundled name")],
    ) -> None:
        """Check a scenario file; prints a one-line verdict or the first problem.

        Examples:

          detente validate ukraine-2025

          detente validate my-talks.yaml        # your own file: the first problem, with its line
        """
        if not file.strip():
            raise InputFileError(None, "no scenario given", field="FILE",
                                 fix="give a scenario file or a bundled name such as "
                                     "ukraine-2025")
        sc = load(file)
        where = f"{file}: " if file != sc.id else ""
        typer.echo(f"ok: {where}{sc.id}: {len(sc.actors)} actors, {len(sc.issues)} issues, "
                   f"{len(sc.stances)} stances")

    @app.command("models")
    def models_cmd() -> None:
        """List the registered models with their parameters.

        Example: detente models
        """
        from detente.models.registry import available_models, get_model_class, param_defaults

        t = Table(show_edge=False)
        t.add_column("model")
        t.add_column("what it does")
        t.add_column("parameters (defaults)")
        t.add_column("presets")
        for name in available_models():
            try:
                cls = get_model_class(name)
            except Exception as exc:  # a broken plugin must not hide the others
                t.add_row(name, f"[red]cannot load: {exc}[/]", "", "")
                continue
            params = ", ".join(f"{k}={v!r}" for k, v in param_defaults(cls).items())
            t.add_row(name, cls.summary or (cls.__doc__ or "").strip().split("\n")[0],
                      params, ", ".join(cls.presets))
        Console(width=200).print(t)

    @app.command("schema")
    def schema_cmd(
        what: Annotated[str, typer.Argument(help="scenario or run-output")] = "scenario",
        output: Annotated[Path | None, typer.Option("-o", "--output",
                                                    help="Write to a file")] = None,
    ) -> None:
        """Print the JSON Schema of scenario files or of `run --format json` output.

        Examples:

          detente schema -o scenario.schema.json

          detente schema run-output
        """
        from detente.cli.output import run_output_schema
        from detente.scenario.schema import Scenario

        if what == "scenario":
            schema = Scenario.model_json_schema()
        elif what == "run-output":
            schema = run_output_schema()
        else:
            raise DetenteError(f"schema {what!r}: choose 'scenario' or 'run-output'")
        check_output(output, "--output")
        text = json.dumps(schema, indent=2)
        if output:
            from detente.atomic import atomic_write_text

            atomic_write_text(output, text + "\n")
        else:
            typer.echo(text)

    @app.command("convert")
    def convert_cmd(
        src: Annotated[str, typer.Argument(help="Input: any readable scenario format")],
        dst: Annotated[Path, typer.Argument(help="Output: .yaml, .json or .csv (wide table)")],
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")
                         ] = False,
    ) -> None:
        """Convert a scenario between formats (KTAB, Decide, DEU, table -> YAML, ...).

        Examples:

          detente convert dummyData_3Dim.csv dummy.yaml

          detente convert ukraine-2025 ukraine.csv
        """
        from detente.scenario.formats import write_any

        check_output(dst, "DST")
        if dst.exists() and not force:
            raise InputFileError(str(dst), "already exists", fix="pass --force to overwrite")
        sc = load(src)
        write_any(sc, dst)
        typer.echo(f"wrote {dst} ({sc.id}: {len(sc.actors)} actors, {len(sc.issues)} issues)")

    @app.command("explain")
    def explain_cmd(
        scenario: ScenarioArg = None,
        model: Annotated[str, typer.Option(
            "--model", "-m", help="Model whose rounds to explain")] = "expected_utility",
        actor: Annotated[str, typer.Option("--actor", "-a", help="Actor id (required)")] = "",
        issue: Annotated[str | None, typer.Option(
            "--issue", "-i", help="Only this issue id (default: every issue)")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Model parameter NAME.PARAM=VALUE, e.g. expected_utility.Q=0.5")
        ] = None,
        seed: SeedOpt = 0,
    ) -> None:
        """Say why an actor moved, round by round.

        Examples:

          detente explain ukraine-2025 --model expected_utility --actor ru_kremlin

          detente explain emission-bdm1994 -m spatial --actor uk
        """
        from detente.models.explain import explain_lines

        sc = load(scenario)
        if not actor:
            raise DetenteError(f"--actor is required; actors: {', '.join(sc.actor_ids)}")
        if actor not in sc.actor_ids:
            raise DetenteError(f"--actor {actor!r}: unknown actor; actors: "
                               f"{', '.join(sc.actor_ids)}")
        if issue is not None and issue not in sc.issue_ids:
            raise DetenteError(f"--issue {issue!r}: unknown issue; issues: "
                               f"{', '.join(sc.issue_ids)}")
        sets = parse_sets(set_)
        check_models([model], sets)
        m = make_model(model, sets.get(model, {}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotConvergedWarning)
            f = m.forecast(sc, rng=seed)
        Console().print(f"[bold]{actor}[/] under {model} on {sc.id}:", highlight=False)
        for line in explain_lines(f, actor, issue):
            typer.echo(line)
