"""Backtests from the dashboard: read an uploaded DEU file (or a cases CSV and its actors
CSV) into scoreable cases, and turn a finished backtest into the table's CSV and the
report's figure.

Uploads are handled like scenario uploads (:mod:`detente.web.library`): read with the size
limit, written to a random name in ``<data dir>/tmp`` (the client's file name only appears in
messages), parsed by :func:`detente.analysis.backtest.load_backtest_cases` and deleted. The
backtest itself runs as a background job (:meth:`detente.web.jobs.JobManager.submit_backtest`).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from detente.errors import DetenteError
from detente.web.security import csv_text, safe_path

__all__ = ["BACKTEST_SUFFIXES", "load_uploaded_cases", "scores_csv", "scores_figure_png"]

BACKTEST_SUFFIXES = (".csv", ".tsv", ".txt")


def _client_name(filename: str | None, default: str) -> str:
    name = Path(filename or default).name[:100] or default
    suffix = Path(name).suffix.lower()
    if suffix not in BACKTEST_SUFFIXES:
        raise HTTPException(415, f"{name!r}: unsupported file type {suffix or '(none)'}; a "
                            f"backtest reads a CSV file ({', '.join(BACKTEST_SUFFIXES)})")
    return name


def load_uploaded_cases(tmp_dir: Path, content: bytes, filename: str | None, fmt: str, by: str,
                        actors: bytes | None = None, actors_name: str | None = None
                        ) -> tuple[list[Any], int, str]:
    """Scoreable cases of the uploaded file(s), the number left out, and the file name the
    user knows. Bad files give a 400 with the reader's message (file, line, field, fix)."""
    from detente.analysis.backtest import load_backtest_cases

    name = _client_name(filename, "upload.csv")
    if fmt == "cases" and actors is None:
        raise HTTPException(400, "format 'cases' needs the actors file too: upload it as "
                            "'actors' (the case_actors.csv that goes with the cases)")
    if fmt == "deu" and actors is not None:
        raise HTTPException(400, "an actors file goes with format 'cases' only; a DEU file "
                            "holds its actors; leave 'actors' out or set format to 'cases'")
    a_name = _client_name(actors_name, "case_actors.csv") if actors is not None else None
    shown: dict[Path, str] = {}
    main = safe_path(tmp_dir, f"{uuid.uuid4().hex}{Path(name).suffix.lower()}")
    shown[main] = name
    side = None
    if actors is not None and a_name is not None:
        side = safe_path(tmp_dir, f"{uuid.uuid4().hex}{Path(a_name).suffix.lower()}")
        shown[side] = a_name

    def strip(message: str) -> str:
        for path, label in shown.items():
            message = message.replace(str(path), label).replace(path.name, label)
        return message

    try:
        main.write_bytes(content)
        if side is not None:
            side.write_bytes(actors or b"")
        cases, n_left_out = load_backtest_cases(main, fmt,  # type: ignore[arg-type]
                                                actors_csv=side, by=by)  # type: ignore[arg-type]
    except DetenteError as exc:
        raise HTTPException(400, strip(str(exc))) from None
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError, RecursionError) as exc:
        # a reader met input it does not guard against: still the file's fault
        raise HTTPException(400, f"{name}: cannot read the file as {fmt.upper()} backtest data "
                            f"({type(exc).__name__}: {strip(str(exc))[:300]}). Fix: check the "
                            "file against docs/backtest.md") from None
    finally:
        for path in shown:
            path.unlink(missing_ok=True)
    if not cases:
        raise HTTPException(400, f"{name}: no scoreable issue ({n_left_out} left out); a "
                            "scoreable issue needs a recorded outcome and at least 3 actors "
                            "with both a position and a salience")
    return cases, n_left_out, name


def _pct(v: Any) -> Any:
    return None if v is None else round(100 * float(v), 2)


def scores_csv(result: dict[str, Any]) -> str:
    """The backtest table (one row per model) as spreadsheet-safe CSV."""
    header = ["model", "n", "mae", "median_ae", "within_10_pct", "within_20_pct",
              "diff_vs_compromise", "diff_ci_low", "diff_ci_high", "share_better",
              "share_worse", "skipped", "not_converged", "source"]
    rows = []
    for m in result.get("models", []):
        d = m.get("diff_vs_compromise") or {}
        rows.append([m["model"], m["n"], m["mae"], m["median_ae"], _pct(m["within_10"]),
                     _pct(m["within_20"]), d.get("mean"), d.get("ci_low"), d.get("ci_high"),
                     d.get("share_better"), d.get("share_worse"), m.get("skipped", 0),
                     m.get("not_converged", 0), result.get("source", "")])
    return csv_text(header, rows)


def scores_figure_png(result: dict[str, Any], errors: dict[str, list[float]]) -> bytes:
    """The report's backtest figure (MAE per model, and the spread of per-issue errors)."""
    from detente.report.model import BacktestRow, BacktestScores
    from detente.report.plots import fig_backtest, png_bytes

    rows = [BacktestRow(model=m["model"], n=m["n"], mae=m["mae"],
                        errors=errors.get(m["model"], []))
            for m in result.get("models", []) if m.get("mae") is not None]
    if not rows:
        raise HTTPException(404, "no model scored any issue, so there is nothing to draw")
    bt = BacktestScores(dataset=str(result.get("source") or "the uploaded file"), rows=rows)
    return png_bytes(fig_backtest(bt))
