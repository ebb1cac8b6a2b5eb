"""``detente report``: the full report of a scenario or a stored run in one command."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detente.errors import DetenteError

_RUN_REF = re.compile(r"^(?:run:|#)?(?:\d+|latest|-\d+)$")


def _is_run_ref(arg: str | None) -> bool:
    """``12``, ``run:12``, ``#12``, ``run:latest``: a stored run, unless a file has that name."""
    if arg is None or Path(arg).exists():
        return False
    return bool(_RUN_REF.match(arg)) and (arg[0].isdigit() or arg.startswith(("run:", "#")))


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        source: Annotated[str | None, typer.Argument(
            help="A scenario (file or bundled name; default ukraine-2025) or a stored run "
                 "(12, run:12, run:latest)")] = None,
        output: Annotated[Path | None, typer.Option(
            "-o", "--output", help="Output file (default <scenario-id>-report.html or .md)")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", "-f",
                                         help="html, md or terminal")] = "html",
        montecarlo: Annotated[int, typer.Option(
            "--montecarlo", "-n", help="Monte Carlo draws (0: none)", min=0)] = 1000,
        mc_model: Annotated[list[str] | None, typer.Option(
            "--mc-model", help="Model for the Monte Carlo (repeat); default: the fast "
                               "baselines (compromise, weighted_median, mean, status_quo)")
        ] = None,
        model: Annotated[list[str] | None, typer.Option(
            "--model", "-m", help="Model to run (repeat). Default: every model")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Model parameter NAME.PARAM=VALUE")] = None,
        issue: Annotated[str | None, typer.Option(
            "--issue", "-i", help="Focus issue for the quad map, bargains, tornado and "
                                  "agreement set (default: the conflict's issue)")] = None,
        actor: Annotated[str | None, typer.Option(
            "--actor", "-a", help="Focal actor of the quad map (default: the strongest)")
        ] = None,
        proposal: Annotated[Path | None, typer.Option(
            "--proposal", help="A proposal YAML to evaluate (default: the bundled proposal "
                               "written for the scenario, if any)")] = None,
        backtest: Annotated[Path | None, typer.Option(
            "--backtest", help="Score the models on this DEU file too")] = None,
        fan_draws: Annotated[int, typer.Option(
            "--fan-draws", min=0,
            help="When the Monte Carlo models are closed-form, draws (at most --montecarlo) "
                 "of the round-based position model for the fan chart; 0: no fan chart")
        ] = 200,
        sensitivity: Annotated[str, typer.Option(
            "--sensitivity",
            help="morris (default: cheap global screen), sobol (variance shares), oat "
                 "(one input at a time on the focus issue) or none")] = "morris",
        sensitivity_model: Annotated[str | None, typer.Option(
            "--sensitivity-model",
            help="Model the sensitivity screens (default: the first fast baseline, e.g. "
                 "compromise)")] = None,
        executor: Annotated[str, typer.Option(
            help="Monte Carlo executor: process or serial")] = "process",
        seed: Annotated[int, typer.Option(min=0, help="Seed for models and Monte Carlo")] = 0,
        store: Annotated[Path | None, typer.Option(
            "--store", help="Run store (default $DETENTE_STORE or the user data dir)")
        ] = None,
    ) -> None:
        """Write the full report of a scenario or a stored run (HTML, Markdown or terminal).

        Forecasts, positions by round with reasons, power, quad map, bargains, Monte Carlo,
        sensitivity, bargaining range, agreement set, proposal verdict and an evidence
        appendix. The HTML file is self-contained (opens offline).

        Examples:

          detente report -o report.html                 # ukraine-2025, 1,000 draws

          detente report ukraine-2025-alt --format md -o out/report.md --montecarlo 500

          detente report run:latest -o last.html        # a stored run, no model re-run
        """
        from detente.cli.core import check_models, check_output, load, parse_sets
        from detente.report.build import build_report, report_from_run

        check_output(output, "--output")
        if fmt not in ("html", "md", "terminal"):
            raise DetenteError(f"--format {fmt!r}: choose html, md or terminal")
        if executor not in ("process", "serial"):
            raise DetenteError(f"--executor {executor!r}: choose process or serial")
        from detente.report.build import SENSITIVITY_METHODS

        if sensitivity not in SENSITIVITY_METHODS:
            raise DetenteError(f"--sensitivity {sensitivity!r}: choose "
                               f"{', '.join(SENSITIVITY_METHODS)}")
        sets = parse_sets(set_)
        check_models(list(mc_model or []) + ([sensitivity_model] if sensitivity_model else []))
        if model:
            check_models(model, sets)
        prop: object = True
        if proposal is not None:
            from detente.deals.proposal import load_proposal

            prop = load_proposal(proposal)
        t0 = time.perf_counter()
        command = "detente report " + " ".join(sys.argv[2:]) if len(sys.argv) > 1 else None
        common = dict(montecarlo=montecarlo, mc_models=mc_model or None, executor=executor,
                      fan_draws=fan_draws, sensitivity=sensitivity,
                      sensitivity_model=sensitivity_model,
                      issue=issue, quad_actor=actor, proposal=prop, backtest=backtest,
                      sets=sets)
        if _is_run_ref(source):
            from detente.store import RunStore

            with RunStore(store) as st:
                run = st.get(source)  # type: ignore[arg-type]
                if model:
                    raise DetenteError("--model applies to scenarios; a stored run keeps the "
                                       "models it ran")
                rep = report_from_run(run, **common)
        else:
            sc = load(source)
            if issue is not None and issue not in sc.issue_ids:
                raise DetenteError(f"--issue {issue!r}: unknown issue; issues: "
                                   f"{', '.join(sc.issue_ids)}")
            if actor is not None and actor not in sc.actor_ids:
                raise DetenteError(f"--actor {actor!r}: unknown actor; actors: "
                                   f"{', '.join(sc.actor_ids)}")
            rep = build_report(sc, models=model or None, seed=seed, command=command,
                               **common)  # type: ignore[arg-type]
        err = Console(stderr=True)
        if fmt == "terminal":
            from detente.report.terminal import print_report

            print_report(rep)
            return
        target = output or Path(f"{rep.scenario.id}-report.{'md' if fmt == 'md' else 'html'}")
        if fmt == "md":
            from detente.report.markdown import write_markdown

            write_markdown(rep, target)
        else:
            from detente.report.html import write_html

            write_html(rep, target)
        err.print(f"wrote {target} ({time.perf_counter() - t0:.1f} s)", highlight=False)
