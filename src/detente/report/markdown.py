"""Markdown report with the figures as PNG files beside it.

``write_markdown(report, "out/report.md")`` writes ``out/report.md`` and
``out/report_figures/<key>.png``; image links are relative, so the folder can be moved or
committed as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detente.report.html import figure_views, quantile_levels, template_env
from detente.report.model import Report

__all__ = ["render_markdown", "write_markdown", "write_figures"]


def _cell(v: Any) -> str:
    """Text safe inside a Markdown table cell (no pipes, no line breaks)."""
    return " ".join(str(v).split()).replace("|", "\\|")


def _env() -> Any:
    env = template_env(autoescape=False)
    env.filters["cell"] = _cell
    return env


def render_markdown(report: Report, figures: list[Any] | None = None) -> str:
    """The report as Markdown; ``figures`` carry the relative ``src`` of each PNG (without
    figures the text and tables still render)."""
    figs = list(figures or [])
    return _env().get_template("markdown/report.md").render(
        report=report, figures=figs, quantile_levels=quantile_levels(report))


def write_figures(report: Report, folder: str | Path, *, rel_to: Path | None = None,
                  ) -> list[Any]:
    """Write every figure as ``folder/<key>.png``; returns the figure views with ``src`` set
    to the path relative to ``rel_to`` (default: ``folder``'s parent)."""
    from detente.atomic import atomic_write_bytes

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    base = rel_to if rel_to is not None else out.parent

    def save(key: str, png: bytes) -> str:
        path = out / f"{key}.png"
        atomic_write_bytes(path, png)
        return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)

    return figure_views(report, src_for=save)


def write_markdown(report: Report, path: str | Path) -> Path:
    """Write ``path`` (Markdown) and its figures into ``<stem>_figures/`` beside it."""
    from detente.atomic import atomic_write_text

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figs = write_figures(report, target.parent / f"{target.stem}_figures", rel_to=target.parent)
    atomic_write_text(target, render_markdown(report, figs))
    return target
