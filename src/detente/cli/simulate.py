"""Uncertainty commands: montecarlo, whatif, sensitivity, compare."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from detente.errors import DetenteError

ModelOpt = Annotated[list[str] | None, typer.Option(
    "--model", "-m", help="Model to run (repeat for several). Default: compromise and "
    "expected_utility.")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Model parameter NAME.PARAM=VALUE, e.g. expected_utility.Q=0.5")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed: the same seed gives the "
                                      "same draws on any executor")]
RunFileOpt = Annotated[Path | None, typer.Option(
    "--run-file", help="YAML run file: scenario, models, params, n, seed, uncertainty, "
    "whatif (see docs/uncertainty.md)")]
ExecOpt = Annotated[str, typer.Option("--executor", help="serial, process (default: every "
                                      "core) or dask")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w",
                                                help="Worker processes (default: every core)")]
DaskOpt = Annotated[str | None, typer.Option(
    "--dask", help="Dask scheduler address tcp://host:port (implies --executor dask)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]
ScenarioArg = Annotated[str | None, typer.Argument(
    help="Scenario file or bundled name. Default: the run file's, else ukraine-2025.")]

DEFAULT_MODELS = ("compromise", "expected_utility")


class SimulateUsageError(DetenteError):
    """Bad command-line input for the uncertainty commands."""


def _setup(scenario: str | None, run_file: Path | None, model: list[str] | None,
           set_: list[str] | None) -> tuple[Any, Any, list[Any]]:
    from detente.cli.core import check_models, load, parse_sets
    from detente.simulate.montecarlo import resolve_models
    from detente.simulate.run import RunFile, load_run_file

    rf = load_run_file(run_file) if run_file is not None else RunFile()
    sc = load(scenario or rf.scenario)
    params = {k: dict(v) for k, v in rf.params.items()}
    for name, prm in parse_sets(set_).items():
        params.setdefault(name, {}).update(prm)
    names = list(model or rf.models or DEFAULT_MODELS)
    for name in params:
        if name not in names:
            raise SimulateUsageError(f"--set / params for model {name!r}, which is not being "
                                     f"run; add --model {name} or fix the name")
    check_models(names, params)
    return rf, sc, resolve_models(names, params)


def _progress(flag: bool | None, as_json: bool) -> bool:
    if flag is not None:
        return flag
    return not as_json and sys.stderr.isatty()


def _split_cell(spec: str, scenario: Any, opt: str) -> tuple[str, str, str]:
    """'ACTOR.ISSUE=VALUE' (ids may contain dots: every split is tried against the
    scenario)."""
    key, eq, value = spec.partition("=")
    if not eq or not value:
        raise SimulateUsageError(f"{opt} {spec!r}: expected ACTOR.ISSUE=VALUE, e.g. "
                                 f"{opt} ru_kremlin.donbas=10")
    parts = key.split(".")
    for k in range(1, len(parts)):
        actor, issue = ".".join(parts[:k]), ".".join(parts[k:])
        if actor in scenario.actor_ids and (issue in scenario.issue_ids or issue == "*"):
            return actor, issue, value
    raise SimulateUsageError(f"{opt} {spec!r}: no actor.issue pair of this scenario matches "
                             f"{key!r}; actors: {', '.join(scenario.actor_ids)}; issues: "
                             f"{', '.join(scenario.issue_ids)}")


def _num(value: str, opt: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise SimulateUsageError(f"{opt}: {value!r} is not a number") from None


def _ranges(specs: list[str] | None, issue_ids: tuple[str, ...]
            ) -> list[tuple[str, float, float]]:
    out = []
    for spec in specs or []:
        iss, eq, rng = spec.partition("=")
        lo, colon, hi = rng.partition(":")
        if not eq or not colon or iss not in issue_ids:
            raise SimulateUsageError(f"--range {spec!r}: expected ISSUE=LOW:HIGH with an issue "
                                     f"of the scenario ({', '.join(issue_ids)}); leave LOW or "
                                     f"HIGH empty for an open end, e.g. donbas=40:")
        low = _num(lo, "--range") if lo else -math.inf
        high = _num(hi, "--range") if hi else math.inf
        if low > high:
            raise SimulateUsageError(f"--range {spec!r}: LOW is above HIGH; write "
                                     f"{iss}={hi}:{lo}")
        out.append((iss, low, high))
    return out


def _intervention(opt: str, spec: str, **fields: Any) -> Any:
    """An :class:`Intervention` from one command-line option; a value out of range names
    the option and the allowed range instead of a validation dump."""
    from pydantic import ValidationError

    from detente.simulate.whatif import Intervention

    try:
        return Intervention(**fields)
    except ValidationError as exc:
        e = exc.errors()[0]
        field = str(e["loc"][-1]) if e["loc"] else "value"
        raise SimulateUsageError(f"{opt} {spec!r}: {field} {e['msg'][0].lower()}"
                                 f"{e['msg'][1:]} (got {e.get('input')!r})") from None


def register(app: typer.Typer) -> None:  # noqa: C901 - the four commands share helpers
    @app.command("montecarlo")
    def montecarlo_cmd(
        scenario: ScenarioArg = None,
        n: Annotated[int | None, typer.Option("-n", help="Number of draws (default 1000)")
                     ] = None,
        model: ModelOpt = None,
        set_: SetOpt = None,
        seed: Annotated[int | None, typer.Option("--seed", help="Seed (default 0): the same "
                                                 "seed gives the same draws anywhere")] = None,
        workers: WorkersOpt = None,
        executor: ExecOpt = "process",
        dask: DaskOpt = None,
        run_file: RunFileOpt = None,
        as_json: JsonOpt = False,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Write every draw (draw, model, issue, outcome, converged) to CSV")
        ] = None,
        range_: Annotated[list[str] | None, typer.Option(
            "--range", help="Report P(outcome in LOW..HIGH), e.g. --range donbas=40: "
            "(repeatable)")] = None,
        agreement: Annotated[bool, typer.Option(
            "--agreement", help="Also estimate P(the two-level agreement set is non-empty) "
            "per issue (slower: a full scenario per draw)")] = False,
        progress: Annotated[bool | None, typer.Option(
            "--progress/--no-progress", help="Progress bar (default: on a terminal)")] = None,
    ) -> None:
        """Forecast distributions: N perturbed draws of each model.

        Inputs are perturbed as the scenario's `uncertainty:` entries (or the run file's)
        say; with none declared, the default prior: position sd 5% of the scale width,
        salience sd 10 points, capability x LogNormal(0, 0.2). Ctrl-C stops early and keeps
        the draws done so far.

        Examples:

          detente montecarlo -n 2000 -m compromise -m expected_utility

          detente montecarlo emission-bdm1994 -n 10000 --executor serial --out draws.csv

          detente montecarlo --run-file examples/priors.yaml --json     # from the checkout

          detente montecarlo -n 5000 --dask tcp://10.0.0.5:8786         # on a Dask cluster

          detente montecarlo --range donbas=40: --agreement -n 500
        """
        from detente.analysis.summarize import montecarlo_lines
        from detente.simulate.montecarlo import montecarlo

        if n is not None and n < 1:
            raise SimulateUsageError(f"-n {n}: a Monte Carlo needs at least 1 draw "
                                     "(1000 is the default)")
        from detente.cli.core import check_output

        check_output(out, "--out")
        rf, sc, models = _setup(scenario, run_file, model, set_)
        ranges = _ranges(range_, sc.issue_ids)
        result = montecarlo(
            sc, models, n=n if n is not None else (rf.n if rf.n is not None else 1000),
            seed=seed if seed is not None else (rf.seed or 0),
            uncertainty=rf.uncertainty_for(sc), executor="dask" if dask else executor,
            workers=workers, address=dask, progress=_progress(progress, as_json),
            interventions=rf.whatif, agreement=agreement)
        if out is not None:
            result.to_csv(out)
        probs = [{"model": m, "issue": iss, "low": lo, "high": hi,
                  "p": result.prob_in_range(m, iss, lo, hi)}
                 for iss, lo, hi in ranges for m in result.models]
        if as_json:
            payload = result.to_dict()
            payload["ranges"] = probs
            typer.echo(_dumps(payload))
            return
        console = _console()
        console.print(f"[bold]{sc.name}[/] ({sc.id}): {result.n_draws} draws, seed "
                      f"{result.seed}, {result.executor} x{result.workers}, "
                      f"{result.elapsed:.2f} s", highlight=False)
        t = Table(show_edge=False, pad_edge=False)
        for col in ("issue", "model", "point", "mean", "sd", "5%", "25%", "50%", "75%", "95%",
                    "converged"):
            t.add_column(col, justify="left" if col in ("issue", "model") else "right")
        for row in result.summary():
            if not row["n"]:
                continue
            t.add_row(row["issue"], row["model"], *(f"{row[k]:.2f}" for k in (
                "point", "mean", "sd", "q05", "q25", "q50", "q75", "q95")),
                f"{row['converged']:.0%}")
        console.print(t)
        for p in probs:
            console.print(f"P({p['issue']} in [{p['low']:g}, {p['high']:g}]) under "
                          f"{p['model']}: {p['p']:.3f}", highlight=False)
        for line in montecarlo_lines(result, sc):
            console.print(f"- {line}", highlight=False)
        for note in result.notes:
            console.print(f"[dim]note: {note}[/]", highlight=False)
        if out is not None:
            console.print(f"wrote {out}", highlight=False)

    @app.command("whatif")
    def whatif_cmd(
        scenario: ScenarioArg = None,
        shift: Annotated[list[str] | None, typer.Option(
            "--shift", help="ACTOR.ISSUE=DELTA: move a position (scale units)")] = None,
        drop: Annotated[list[str] | None, typer.Option(
            "--drop", help="ACTOR: the actor (e.g. a faction) leaves the talks")] = None,
        cost: Annotated[list[str] | None, typer.Option(
            "--cost", help="ACTOR=VALUE: set its monthly war cost (xF multiplies: "
            "ru_kremlin=x1.5)")] = None,
        salience: Annotated[list[str] | None, typer.Option(
            "--salience", help="ACTOR.ISSUE=VALUE: set a salience (0-100; +D/-D changes it)")
        ] = None,
        capability: Annotated[list[str] | None, typer.Option(
            "--capability", help="ACTOR=VALUE or ACTOR=xF: set or scale its capability")
        ] = None,
        guarantee: Annotated[float | None, typer.Option(
            "--guarantee", help="A new third-party guarantee of strength 0-1")] = None,
        n: Annotated[int | None, typer.Option(
            "-n", help="Monte Carlo draws per variant (0: point forecasts only)")] = None,
        model: ModelOpt = None,
        set_: SetOpt = None,
        seed: SeedOpt = 0,
        workers: WorkersOpt = None,
        executor: ExecOpt = "process",
        dask: DaskOpt = None,
        run_file: RunFileOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """What if an actor moved, left, paid more for the war, or got a guarantee?

        Each --shift/--drop/--cost/--salience/--capability/--guarantee is one intervention
        compared with the baseline under every model; a run file's `whatif:` list can
        combine changes. With -n, the same draws are used for baseline and intervention
        (common random numbers), giving the distribution of the change.

        Examples:

          detente whatif --shift ru_kremlin.donbas=10 --drop us_interventionist

          detente whatif --cost ru=x2 -m nash -m compromise -n 500

          detente whatif --salience ru_kremlin.donbas=-20 --capability us=x0.5 --guarantee 0.8

          detente whatif --run-file examples/levers.yaml --json          # from the checkout
        """
        from detente.analysis.summarize import whatif_lines
        from detente.simulate.whatif import Intervention, whatif

        if n is not None and n < 0:
            raise SimulateUsageError(f"-n {n}: give 0 (point forecasts only) or more draws")
        rf, sc, models = _setup(scenario, run_file, model, set_)
        ivs: list[Intervention] = list(rf.whatif)
        for spec in shift or []:
            a, i, v = _split_cell(spec, sc, "--shift")
            ivs.append(_intervention("--shift", spec, name=f"shift {a}.{i} "
                                     f"{_num(v, '--shift'):+g}",
                                     shift=[{"actor": a, "issue": i,
                                             "delta": _num(v, "--shift")}]))
        for a in drop or []:
            ivs.append(_intervention("--drop", a, name=f"drop {a}", drop=[a]))
        for spec in cost or []:
            a, eq, v = spec.partition("=")
            if not eq or not v:
                raise SimulateUsageError(f"--cost {spec!r}: expected ACTOR=VALUE or ACTOR=xF, "
                                         f"e.g. --cost ru=x1.5")
            ch = ({"actor": a, "factor": _num(v[1:], "--cost")} if v.startswith("x") else
                  {"actor": a, "monthly_cost": _num(v, "--cost")})
            ivs.append(_intervention("--cost", spec, name=f"cost {a}={v}", cost=[ch]))
        for spec in salience or []:
            a, i, v = _split_cell(spec, sc, "--salience")
            ch = ({"actor": a, "issue": i, "delta": _num(v, "--salience")}
                  if v[0] in "+-" else {"actor": a, "issue": i, "value": _num(v, "--salience")})
            ivs.append(_intervention("--salience", spec, name=f"salience {a}.{i}={v}",
                                     salience=[ch]))
        for spec in capability or []:
            a, eq, v = spec.partition("=")
            if not eq or not v:
                raise SimulateUsageError(f"--capability {spec!r}: expected ACTOR=VALUE or "
                                         f"ACTOR=xF, e.g. --capability us=x0.5")
            ch = ({"actor": a, "factor": _num(v[1:], "--capability")} if v.startswith("x")
                  else {"actor": a, "value": _num(v, "--capability")})
            ivs.append(_intervention("--capability", spec, name=f"capability {a}={v}",
                                     capability=[ch]))
        if guarantee is not None:
            if not 0 <= guarantee <= 1:
                raise SimulateUsageError(f"--guarantee {guarantee}: use a strength in 0-1")
            ivs.append(Intervention(name=f"guarantee {guarantee:g}", guarantee=guarantee))
        if not ivs:
            raise SimulateUsageError("no intervention given: use --shift, --drop, --cost, "
                                     "--salience, --capability, --guarantee or a run file "
                                     "with a 'whatif:' list")
        res = whatif(sc, ivs, models, n=n if n is not None else (rf.n or 0),
                     seed=seed if seed else (rf.seed or 0),
                     uncertainty=rf.uncertainty_for(sc), executor="dask" if dask else executor,
                     workers=workers, address=dask,
                     progress=_progress(None, as_json) and bool(n))
        if as_json:
            typer.echo(_dumps({"scenario": sc.id, "seed": res.seed, "draws": res.n_draws,
                               "rows": res.rows(), "notes": list(res.notes)}))
            return
        console = _console()
        console.print(f"[bold]{sc.name}[/] ({sc.id}): {len(ivs)} intervention(s)"
                      + (f", {res.n_draws} draws each" if res.n_draws else ""), highlight=False)
        t = Table(show_edge=False, pad_edge=False)
        cols = ["intervention", "model", "issue", "baseline", "with it", "change"]
        if res.n_draws:
            cols += ["change 5%", "median", "95%", "P(up)"]
        for c in cols:
            t.add_column(c, justify="left" if c in ("intervention", "model", "issue")
                         else "right")
        for r in res.rows():
            if abs(r["change"]) < 1e-9 and abs(r.get("change_mean", 0)) < 1e-9:
                continue
            cells = [r["intervention"], r["model"], r["issue"], f"{r['baseline']:.2f}",
                     f"{r['value']:.2f}", f"{r['change']:+.2f}"]
            if res.n_draws:
                cells += [f"{r['change_q05']:+.2f}", f"{r['change_q50']:+.2f}",
                          f"{r['change_q95']:+.2f}", f"{r['p_up']:.2f}"]
            t.add_row(*cells)
        console.print(t)
        for line in whatif_lines(res, sc):
            console.print(f"- {line}", highlight=False)

    @app.command("sensitivity")
    def sensitivity_cmd(
        scenario: ScenarioArg = None,
        method: Annotated[str, typer.Option("--method", help="sobol or morris")] = "sobol",
        n: Annotated[int | None, typer.Option(
            "-N", help="Sobol base sample (power of two; runs = N(D+2)), default 256; Morris "
            "trajectories (runs = r(D+1)), default 20")] = None,
        by: Annotated[str, typer.Option(
            "--by", help="Factors: entry, actor (default) or cell; a 'group' always forms "
            "one factor")] = "actor",
        model: ModelOpt = None,
        set_: SetOpt = None,
        seed: SeedOpt = 0,
        top: Annotated[int, typer.Option("--top", min=1, help="Factors shown per issue")] = 3,
        issue: Annotated[list[str] | None, typer.Option(
            "--issue", "-i", help="Only these issues in the table (repeatable)")] = None,
        workers: WorkersOpt = None,
        executor: Annotated[str, typer.Option("--executor", help="serial (default), process "
                                              "or dask")] = "serial",
        dask: DaskOpt = None,
        run_file: RunFileOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Which assumptions matter most? Sobol or Morris indices over the uncertain inputs.

        Needs the 'sensitivity' extra (SALib). Start with Morris to screen, then Sobol on
        what matters; ST much above S1 means the input acts through interactions.

        Examples:

          detente sensitivity --method morris -N 20

          detente sensitivity emission-bdm1994 -m expected_utility --method sobol -N 512

          detente sensitivity --by entry --run-file examples/priors.yaml --json  # in the checkout
        """
        from detente.analysis.sensitivity import sensitivity
        from detente.analysis.summarize import sensitivity_lines

        if n is not None and n < 1:
            raise SimulateUsageError(f"-N {n}: give a positive sample size (Sobol: a power of "
                                     "two such as 256; Morris: 10-20 trajectories)")
        rf, sc, models = _setup(scenario, run_file, model, set_)
        if issue:
            bad = [i for i in issue if i not in sc.issue_ids]
            if bad:
                raise SimulateUsageError(f"--issue {bad[0]!r}: unknown; issues: "
                                         f"{', '.join(sc.issue_ids)}")
        res = sensitivity(sc, models, method=method, n=n, by=by,
                          uncertainty=rf.uncertainty_for(sc), seed=seed,
                          executor="dask" if dask else executor, workers=workers,
                          address=dask, progress=_progress(None, as_json))
        if as_json:
            typer.echo(_dumps(res.to_dict()))
            return
        console = _console()
        console.print(f"[bold]{sc.name}[/] ({sc.id}): {method}, {len(res.factors)} factors, "
                      f"{res.n_runs} runs per model", highlight=False)
        t = Table(show_edge=False, pad_edge=False)
        keys = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
        for c in ["model", "issue", "rank", "factor", *keys, "variance"]:
            t.add_column(c, justify="left" if c in ("model", "issue", "factor") else "right")
        names = [f.name for f in res.factors]
        for m in res.models:
            for iss in res.issue_ids:
                if issue and iss not in issue:
                    continue
                idx = res.indices[m][iss]
                for r, (name, _) in enumerate(res.ranking(m, iss)[:top], 1):
                    d = names.index(name)
                    t.add_row(m, iss, str(r), name, *(f"{idx[k][d]:.3f}" for k in keys),
                              f"{res.variance[m][iss]:.2f}")
        console.print(t)
        for line in sensitivity_lines(res, sc, top=top):
            if not issue or any(sc.issue(i).name in line for i in issue):
                console.print(f"- {line}", highlight=False)
        for note in res.notes:
            console.print(f"[dim]note: {note}[/]", highlight=False)

    @app.command("compare")
    def compare_cmd(
        scenarios: Annotated[list[str], typer.Argument(
            help="Two or more scenario variants; the first is the reference")],
        model: ModelOpt = None,
        set_: SetOpt = None,
        by: Annotated[str, typer.Option(
            "--by", help="Attribute differences to input kinds (kind: positions, saliences, "
            "capabilities, actors, status_quo, dynamics) or to actors (actor)")] = "kind",
        n: Annotated[int, typer.Option("-n", min=0, help="Also Monte Carlo bands with N draws "
                                       "per variant")] = 0,
        seed: SeedOpt = 0,
        top: Annotated[int, typer.Option("--top", min=1, help="Differences shown")] = 10,
        as_json: JsonOpt = False,
    ) -> None:
        """Competing views: where do two readings of the talks disagree, and why?

        Runs the same models on every variant, lists the largest forecast differences from
        the first, and splits each into the contributions of input groups (Shapley values
        over hybrid scenarios that take some groups from one variant and the rest from the
        other: they add up to the difference). Default models: compromise, expected_utility
        and nash.

        Examples:

          detente compare ukraine-2025 ukraine-2025-alt

          detente compare ukraine-2025 ukraine-2025-alt -m nash -m expected_utility --by actor
        """
        from detente.analysis.compare import compare
        from detente.analysis.summarize import compare_lines
        from detente.cli.core import check_models, load, parse_sets

        if len(scenarios) < 2:
            raise SimulateUsageError("compare needs two or more scenarios, e.g. detente "
                                     "compare ukraine-2025 ukraine-2025-alt")
        names = list(model or ("compromise", "expected_utility", "nash"))
        params = parse_sets(set_)
        check_models(names, params)
        scs = [load(s) for s in scenarios]
        res = compare(scs, names, by=by, seed=seed, n=n, params=params)
        if as_json:
            d = res.to_dict()
            if res.spread is not None:
                d["spread"] = {f"{v}/{m}/{i}": list(map(float, res.spread[a, b, c]))
                               for a, v in enumerate(res.variants)
                               for b, m in enumerate(res.models)
                               for c, i in enumerate(res.issue_ids)}
            typer.echo(_dumps(d))
            return
        console = _console()
        console.print(f"[bold]{' vs '.join(res.variants)}[/] (reference {res.variants[0]})",
                      highlight=False)
        t = Table(show_edge=False, pad_edge=False)
        for c in ("issue", "model", res.variants[0], "variant", "value", "diff",
                  "main causes (Shapley)"):
            t.add_column(c, justify="right" if c in ("diff",) else "left")
        for row in res.differences()[:top]:
            causes = [c for c in res.causes(row["variant"], row["model"], row["issue"])
                      if abs(c["contribution"]) > 1e-9][:3]
            t.add_row(row["issue"], row["model"], f"{row['reference']:.1f}", row["variant"],
                      f"{row['value']:.1f}", f"{row['diff']:+.1f}",
                      ", ".join(f"{c['group']} {c['contribution']:+.1f}" for c in causes))
        console.print(t)
        for line in compare_lines(res, {s.id: s for s in scs}, top=min(top, 5)):
            console.print(f"- {line}", highlight=False)


def _clean(x: Any) -> Any:
    """JSON-safe: NaN and infinities become null, NumPy values plain Python."""
    import numpy as np

    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _dumps(payload: Any) -> str:
    return json.dumps(_clean(payload), indent=2, allow_nan=False)


def _console() -> Console:
    """Wide enough for the quantile tables even when output is piped."""
    c = Console()
    return c if c.is_terminal and c.width >= 120 else Console(width=max(c.width, 140))
