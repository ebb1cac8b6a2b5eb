"""``detente backtest``: score models on real outcomes (DEU rows or the documented cases)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.errors import DetenteError


def register(app: typer.Typer) -> None:
    @app.command("backtest")
    def backtest_cmd(
        file: Annotated[Path, typer.Argument(help="DEU CSV (one row per issue) or cases.csv")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="deu or cases")] = "deu",
        model: Annotated[list[str] | None, typer.Option(
            "--model", "-m", help="Model to score (repeatable). Default: every registered "
            "model")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Model parameter NAME.PARAM=VALUE, e.g. "
            "weighted_median.quantile=0.4")] = None,
        actors: Annotated[Path | None, typer.Option(
            "--actors", help="case_actors.csv for --format cases (default: next to FILE)")] = None,
        by: Annotated[str, typer.Option(
            "--by", help="DEU only: run each proposal as one scenario ('proposal', so the "
            "exchange model trades across its issues) or each issue alone ('issue')")
        ] = "proposal",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines")] = False,
        seed: Annotated[int, typer.Option(
            min=0, help="Seed of model randomness and bootstrap")] = 0,
        n_boot: Annotated[int, typer.Option("--n-boot", min=100,
                                            help="Bootstrap draws for the comparison")] = 2000,
        coverage: Annotated[int, typer.Option(
            "--coverage", min=0, max=100_000, metavar="DRAWS",
            help="Also score interval forecasts: Monte Carlo intervals from DRAWS draws per "
            "proposal (the scenario's uncertainty or the default prior), and intervals from "
            "each model's own errors on the other folds (cross-conformal)")] = 0,
    ) -> None:
        """Score models on every scoreable issue with a recorded outcome.

        Prints mean and median absolute error (0-100 points), the share within 10 and 20
        points, and each model's paired difference from the compromise model with a
        bootstrap interval over proposals. Models that cannot forecast an issue are counted
        as skipped there.

        Examples (from the checkout, next to the shared data):

          detente backtest ../shared/data/deu/deu_dev.csv --format deu -m compromise

          detente backtest ../shared/data/cases/cases.csv --format cases -m compromise -m nash

          detente backtest ../shared/data/deu/deu_dev.csv -m exchange --by issue

          detente backtest ../shared/data/deu/deu_dev.csv -m compromise --coverage 200
        """
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.table import Table

        from detente.analysis.backtest import backtest, load_backtest_cases
        from detente.cli.core import build_models, parse_sets

        if fmt not in ("deu", "cases"):
            raise DetenteError(f"--format {fmt!r}: use 'deu' or 'cases'")
        if by not in ("proposal", "issue"):
            raise DetenteError(f"--by {by!r}: use 'proposal' or 'issue'")
        cases, n_unscoreable = load_backtest_cases(
            file, fmt, actors_csv=actors, by=by)  # type: ignore[arg-type]
        if not cases:
            raise DetenteError(f"{file}: no scoreable issue (needs an outcome and at least 3 "
                               "actors with position and salience)")
        models, _ = build_models(model, parse_sets(set_))  # validates --set first
        total = len(cases) * (len(models) + (0 if any(m.name == "compromise"
                                                      for m in models) else 1))
        err = Console(stderr=True)
        with Progress(TextColumn("backtest"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err, transient=True,
                      disable=as_json or not err.is_terminal) as bar:
            task = bar.add_task("backtest", total=total)
            result = backtest(cases, models, n_unscoreable=n_unscoreable, source=str(file),
                              seed=seed, n_boot=n_boot,
                              progress=lambda n: bar.advance(task, n))
        sets = parse_sets(set_)
        calibration = _calibration(cases, result, coverage, seed, sets, err,
                                   quiet=as_json) if coverage else {}
        if as_json:
            data = result.to_dict()
            if coverage:
                data["calibration"] = calibration
            typer.echo(json.dumps(data, indent=2, allow_nan=False))
            return
        out = Console(width=max(Console().width, 132))
        out.print(f"{file}: {result.n_issues} scored issues "
                  f"({n_unscoreable} without an outcome or with < 3 actors left out); "
                  "errors in points on 0-100", highlight=False)
        t = Table()
        for col in ("model", "n", "MAE", "median AE", "within 10", "within 20",
                    "vs compromise [95% CI]", "skipped"):
            t.add_column(col, justify="left" if col in ("model", "skipped") else "right",
                         no_wrap=True)

        def f(v: float | None, pct: bool = False) -> str:
            if v is None or not math.isfinite(v):
                return "-"
            return f"{100 * v:.0f}%" if pct else f"{v:.2f}"

        for s in result.scores:
            d = s.diff_vs_compromise
            diff = "-" if d is None or d.n == 0 or (s.model == "compromise" and d.mean == 0) \
                else f"{d.mean:+.2f} [{d.ci_low:+.2f}, {d.ci_high:+.2f}]"
            skipped = str(s.n_skipped) if s.n_skipped else ""
            if s.not_converged:
                skipped += f"{' ' if skipped else ''}({s.not_converged} not converged)"
            t.add_row(s.model, str(s.n), f(s.mae), f(s.median_ae), f(s.within_10, True),
                      f(s.within_20, True), diff, skipped)
        out.print(t)
        for s in result.scores:
            for reason, count in s.skipped.items():
                out.print(f"  {s.model} skipped {count} issue(s): {reason}", highlight=False)
        for s in result.scores:
            if s.note:
                out.print(f"  note: {s.model} {s.note}", highlight=False)
        if calibration:
            _print_calibration(out, calibration, coverage)


def _calibration(cases: Any, result: Any, draws: int, seed: int,
                 sets: dict[str, dict[str, Any]], err: Any, *, quiet: bool
                 ) -> dict[str, Any]:
    """Coverage of Monte Carlo and cross-conformal intervals per scored model."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from detente.analysis.backtest import interval_calibration

    with Progress(TextColumn("interval coverage"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=True, disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task("coverage", total=len(cases) * len(result.scores))
        return interval_calibration(cases, result, draws=draws, seed=seed, params=sets,
                                    progress=lambda n: bar.advance(task, n))


def _print_calibration(out: Any, calibration: dict[str, Any], draws: int) -> None:
    from rich.table import Table

    t = Table(title=f"Interval forecasts: share of outcomes inside (Monte Carlo: {draws} "
              "draws; conformal: forecast ± the errors of the other folds)",
              title_justify="left")
    for col in ("model", "nominal", "Monte Carlo", "MC width", "conformal", "conf. width"):
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for name, entry in calibration.items():
        mcs = entry["montecarlo"] or [None, None]
        for mc, conf in zip(mcs, entry["conformal"], strict=True):
            t.add_row(name, f"{conf['nominal']:.0%}",
                      "-" if mc is None else f"{mc['coverage']:.1%}",
                      "-" if mc is None else f"{mc['mean_width']:.1f}",
                      f"{conf['coverage']:.1%}", f"{conf['mean_width']:.1f}")
    out.print(t)
    for name, entry in calibration.items():
        if entry["montecarlo_error"]:
            out.print(f"  {name}: no Monte Carlo intervals ({entry['montecarlo_error']})",
                      highlight=False)
    out.print("  Monte Carlo intervals carry only the inputs' uncertainty, not the model's own "
              "error; the conformal ones carry both.", highlight=False)
