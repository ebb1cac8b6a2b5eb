"""``detente ktab-export``: run the spatial model (KTAB SMP) and write KTAB's SQLite tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from detente.errors import DetenteError


def register(app: typer.Typer) -> None:
    @app.command("ktab-export")
    def ktab_export_cmd(
        scenario: Annotated[str, typer.Argument(
            help="A scenario file (KTAB CSV/XML, YAML, ...) or a bundled scenario name")],
        output: Annotated[Path, typer.Option("-o", "--output",
                                             help="SQLite file to write (runs are appended)")],
        tidy: Annotated[Path | None, typer.Option(
            "--tidy", help="Also write the tidy per-turn table (.csv, or .parquet with pyarrow); "
            "default: next to the database as <name>.csv")] = None,
        preset: Annotated[str | None, typer.Option(
            "--preset", help="'ktab' reproduces KTAB exactly, quirks included")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Model parameter PARAM=VALUE, e.g. --set VotingRule=PropCbc")] = None,
        seed: Annotated[int, typer.Option(min=0, help="Seed (used in Stochastic mode)")] = 0,
    ) -> None:
        """Run the spatial model and write a KTAB-compatible SQLite database.

        Examples:

          detente ktab-export dummyData_3Dim.csv -o run.db --preset ktab

          detente ktab-export emission-bdm1994 -o emission.db --set VotingRule=Prop
        """
        import yaml

        from detente.models.spatial_db import run_and_export
        from detente.scenario.load import load_scenario

        params: dict[str, object] = {}
        for item in set_ or []:
            key, eq, raw = item.partition("=")
            if not eq or not key.strip():
                raise DetenteError(f"--set {item!r}: expected PARAM=VALUE, e.g. "
                                   "--set VotingRule=PropCbc")
            try:
                params[key.strip()] = yaml.safe_load(raw)
            except yaml.YAMLError:
                params[key.strip()] = raw
        if preset:
            params["preset"] = preset
        from detente.cli.core import check_output

        check_output(output, "--output")
        tidy_path = tidy if tidy is not None else output.with_suffix(".csv")
        check_output(tidy_path, "--tidy")
        if tidy_path.suffix.lower() not in (".csv", ".parquet"):
            raise DetenteError(f"--tidy {tidy_path}: write .csv or .parquet, e.g. --tidy "
                               f"{tidy_path.with_suffix('.csv')}")
        sc = load_scenario(scenario)
        fc, sid = run_and_export(sc, output, params=params, rng=seed, tidy_path=tidy_path)
        state = "converged" if bool(fc.converged.all()) else fc.details.get("stop_reason")
        typer.echo(f"{sc.id}: {len(fc.actor_ids)} actors x {len(fc.issue_ids)} dimensions, "
                   f"{fc.n_rounds} turns ({state}); ScenarioId {sid}")
        typer.echo(f"wrote {output} and {tidy_path}")
