"""One self-contained HTML file from a :class:`~detente.report.model.Report`.

Figures are embedded as base64 PNG ``data:`` URIs, the CSS is inline, there is no script and
no external address: the file opens offline and makes no network request. Templates live in
``detente/report/templates`` (a base layout, a macro file and one partial per section) so the
web dashboard can reuse them: build an environment with :func:`template_env` (optionally
with its own loaders first), and pass figures whose ``src`` is a route instead of a data URI.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detente.errors import DetenteError
from detente.report.model import Report

__all__ = [
    "TEMPLATE_DIR",
    "FigureView",
    "figure_views",
    "render_html",
    "report_sections",
    "template_env",
    "write_html",
]

TEMPLATE_DIR = Path(__file__).parent / "templates"

_SCHEME = re.compile(r"\b(?:https?|ftp)://", re.IGNORECASE)


@dataclass(frozen=True)
class FigureView:
    """A figure as templates see it: ``src`` is a data URI (report) or a URL (dashboard)."""

    key: str
    section: str
    title: str
    caption: str
    src: str
    details: list[str] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    lazy: bool = False  # load the image only as it scrolls into view (a route, not data:)


def plain_url(url: str | None) -> str:
    """An address as plain text without its scheme (``example.org/page``)."""
    return _SCHEME.sub("", url or "")


def template_env(loaders: Sequence[Any] = (), *, autoescape: bool = True) -> Any:
    """A Jinja2 environment over the report templates; ``loaders`` are searched first, so a
    dashboard can override or extend any template (``{% extends "base.html" %}``)."""
    try:
        import jinja2
    except ImportError:  # pragma: no cover - depends on the environment
        raise DetenteError("HTML and Markdown reports need Jinja2; install it with "
                           "pip install jinja2 (or the extra: pip install 'detente[web]')"
                           ) from None
    loader = jinja2.ChoiceLoader([*loaders, jinja2.FileSystemLoader(str(TEMPLATE_DIR))])
    env = jinja2.Environment(loader=loader, autoescape=autoescape,
                             undefined=jinja2.StrictUndefined, trim_blocks=False,
                             lstrip_blocks=False, keep_trailing_newline=True)
    env.filters["plain_url"] = plain_url
    return env


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def figure_views(report: Report, *, src_for: Callable[[str, bytes], str] | None = None,
                 only: Iterable[str] | None = None) -> list[FigureView]:
    """Render every figure of ``report`` to PNG and wrap it for the templates.

    ``src_for(key, png)`` returns the ``src`` to use; by default a base64 data URI.
    """
    from detente.report.plots import png_bytes, report_figures

    keep = set(only) if only is not None else None
    views = []
    for item in report_figures(report):
        if keep is not None and item.key not in keep:
            continue
        fig = item.draw()
        png = png_bytes(fig)
        size = _png_size(png)
        src = (src_for(item.key, png) if src_for is not None
               else "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
        views.append(FigureView(item.key, item.section, item.title, item.caption, src,
                                list(item.details), *(size or (None, None))))
    return views


_SECTIONS: tuple[tuple[str, str, Callable[[Report, list[FigureView]], bool]], ...] = (
    ("summary", "Summary", lambda r, f: True),
    ("forecasts", "Forecasts", lambda r, f: bool(r.forecasts)),
    ("positions", "Positions", lambda r, f: any(v.section == "positions" for v in f)),
    ("power", "Power", lambda r, f: bool(r.power)),
    ("quad", "Quad map", lambda r, f: r.quad_map is not None),
    ("bargains", "Bargains", lambda r, f: r.bargains is not None),
    ("montecarlo", "Uncertainty", lambda r, f: bool(r.montecarlo or r.fans)),
    ("sensitivity", "Sensitivity", lambda r, f: bool(r.sensitivity)),
    ("conflict", "War and ratification",
     lambda r, f: r.attrition is not None or r.agreement is not None),
    ("proposal", "Proposal", lambda r, f: r.proposal is not None),
    ("backtest", "Backtest", lambda r, f: r.backtest is not None),
    ("provenance", "Provenance", lambda r, f: True),
)


def report_sections(report: Report, figures: Sequence[FigureView]) -> list[tuple[str, str]]:
    """``(anchor, title)`` of the sections that have content, in reading order."""
    figs = list(figures)
    return [(a, t) for a, t, has in _SECTIONS if has(report, figs)]


def quantile_levels(report: Report) -> list[str]:
    levels = {k for s in report.montecarlo for k in s.quantiles}
    return sorted(levels, key=float)


def render_html(report: Report, *, figures: Sequence[FigureView] | None = None,
                env: Any = None, template: str = "report.html") -> str:
    """The report as one HTML document (figures rendered unless given)."""
    figs = list(figures) if figures is not None else figure_views(report)
    env = env or template_env()
    html = env.get_template(template).render(
        report=report, figures=figs, sections=report_sections(report, figs),
        quantile_levels=quantile_levels(report), version=report.provenance.version)
    # A safety net: free text in a scenario (descriptions, notes) may carry addresses; print
    # them without the scheme so the file never refers to the network. Base64 data holds no ':'.
    return _SCHEME.sub("", html)


def write_html(report: Report, path: str | Path, *,
               figures: Sequence[FigureView] | None = None) -> Path:
    """Write the self-contained HTML report to ``path`` atomically (readable by others as
    the umask allows, like any file the user writes)."""
    import os

    from detente.atomic import atomic_write_text

    target = Path(path)
    atomic_write_text(target, render_html(report, figures=figures))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(target, 0o666 & ~umask)
    return target
