"""Figures for reports: each function turns plain report data into a matplotlib Figure.

No function here computes a result; they place numbers a :class:`~detente.report.model.Report`
already holds. Figures use matplotlib's object API (``matplotlib.figure.Figure`` with the Agg
canvas, no pyplot state), the Okabe-Ito colour-blind-safe palette, and the issue's own anchor
words as tick labels. matplotlib is the ``plots`` extra and is imported only when a figure is
drawn.

:func:`report_figures` lists every figure a report supports (key, section, title, caption and
a zero-argument ``draw``); :func:`png_bytes` renders one to PNG.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from detente.errors import DetenteError
from detente.report.model import (
    AgreementSet,
    AttritionTimeline,
    BacktestScores,
    BargainNetwork,
    Fan,
    IssueInfo,
    IssuePower,
    ModelForecast,
    MonteCarloSummary,
    ProposalEvaluation,
    QuadMap,
    Report,
    SensitivityResult,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "FigureItem",
    "actor_styles",
    "fig_agreement_set",
    "fig_backtest",
    "fig_bargain_network",
    "fig_bargaining_range",
    "fig_fan",
    "fig_fans",
    "fig_histogram",
    "fig_histograms",
    "fig_model_comparison",
    "fig_positions",
    "fig_power",
    "fig_power_grid",
    "fig_proposal",
    "fig_quad_map",
    "fig_tornado",
    "fig_tornado_grid",
    "png_bytes",
    "report_figures",
]

#: Okabe & Ito (2008) colour-blind-safe palette, ordered so the first colours contrast most
#: on white (yellow last but one).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
_MARK_COLORS = tuple(c for c in OKABE_ITO if c != "#F0E442")  # yellow dots vanish on white
_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
ACCEPT, REJECT, NEUTRAL = "#0072B2", "#D55E00", "#999999"


def _mpl() -> Any:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise DetenteError("figures need matplotlib; install the extra: "
                           "pip install 'detente[plots]'") from None
    matplotlib.use("Agg", force=False)
    return matplotlib


def _figure(w: float, h: float, *,
            layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
            ) -> Figure:
    _mpl()
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=100, layout=layout)


def _grid(n_items: int, ncols: int, *, base: float, row: float, left: float, top: float,
          bottom: float, hspace: float, wspace: float) -> tuple[Figure, Any]:
    """A 9-inch-wide figure of small multiples, ``ncols`` panels per row: margins in inches
    (``top``, ``bottom``) stay the same whatever the number of rows."""
    nrows = max(1, math.ceil(n_items / ncols))
    height = base + row * nrows
    fig = _figure(9.0, height, layout=None)
    fig.subplots_adjust(left=left, right=0.98, top=1 - top / height, bottom=bottom / height,
                        hspace=hspace, wspace=wspace)
    return fig, fig.subplots(nrows, ncols, squeeze=False).ravel()


def png_bytes(fig: Figure, *, dpi: int = 100) -> bytes:
    """Render ``fig`` to PNG bytes (Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


@dataclass(frozen=True)
class Style:
    color: str
    linestyle: str
    marker: str


def actor_styles(actor_ids: Sequence[str]) -> dict[str, Style]:
    """One stable colour/line/marker per actor (colours repeat with a new line style)."""
    n = len(OKABE_ITO)
    return {a: Style(OKABE_ITO[k % n], _LINESTYLES[(k // n) % len(_LINESTYLES)],
                     _MARKERS[k % len(_MARKERS)]) for k, a in enumerate(actor_ids)}


def _wrap(s: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(s, width)) or s


def _issue_label(issue: IssueInfo) -> str:
    return issue.name + (f" ({issue.units})" if issue.units else "")


def _short(label: str, wrap: int, max_lines: int = 3) -> str:
    lines = textwrap.wrap(label, wrap) or [label]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, wrap - 1)].rstrip() + "\u2026"
    return "\n".join(lines)


def _spaced_anchors(issue: IssueInfo, min_gap: float) -> list[Any]:
    """Anchors at least ``min_gap`` (share of the scale) apart, so tick labels do not
    collide; the scale's ends are kept first."""
    anchors = sorted(issue.anchors, key=lambda a: a.value)
    if len(anchors) <= 2:
        return anchors
    gap = min_gap * issue.width
    kept = [anchors[0], anchors[-1]]
    for a in anchors[1:-1]:
        if all(abs(a.value - k.value) >= gap for k in kept):
            kept.append(a)
    return sorted(kept, key=lambda a: a.value)


def _anchor_axis(ax: Any, issue: IssueInfo, which: str = "y", *, wrap: int = 18,
                 pad: float = 0.03, min_gap: float | None = None) -> None:
    """Limits on the issue's scale; ticks at its anchors, labelled with the anchor words
    (shortened to three lines; anchors too close to a neighbour are left unlabelled)."""
    lo, hi = issue.scale_min, issue.scale_max
    margin = pad * (hi - lo)
    setlim = ax.set_ylim if which == "y" else ax.set_xlim
    setlim(lo - margin, hi + margin)
    axis = ax.yaxis if which == "y" else ax.xaxis
    if issue.anchors:
        gap = min_gap if min_gap is not None else (0.07 if which == "y" else 0.12)
        shown = _spaced_anchors(issue, gap)
        vals = [a.value for a in shown]
        labels = [f"{_short(a.label, wrap)}\n({a.value:g})" for a in shown]
        axis.set_ticks(vals, labels=labels, fontsize=7)
    (ax.set_ylabel if which == "y" else ax.set_xlabel)(_issue_label(issue), fontsize=9)


def _integer_x(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9,
            color="#555555")
    ax.set_axis_off()


# ---------------------------------------------------------------------------------------
# the figures


def fig_positions(issue: IssueInfo, forecast: ModelForecast,
                  outcomes: dict[str, float] | None = None,
                  names: dict[str, str] | None = None) -> Figure:
    """Positions by round on one issue (one line per actor) with each model's forecast.

    ``outcomes`` maps model -> point forecast; they are drawn as markers right of the last
    round so the round path and the models' answers share one axis.
    """
    names = names or {}
    fig = _figure(8.0, 4.6, layout=None)  # fixed margins: constrained layout is slow
    fig.subplots_adjust(left=0.2, right=0.76, bottom=0.12, top=0.93)
    ax = fig.add_subplot()
    path = forecast.positions.get(issue.id, [])
    styles = actor_styles(forecast.actor_ids)
    n_rows = len(path)
    for k, actor in enumerate(forecast.actor_ids):
        ys = [row[k] for row in path]
        pts = [(t, y) for t, y in enumerate(ys) if y is not None and math.isfinite(y)]
        if not pts:
            continue
        st = styles[actor]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=st.color, ls=st.linestyle,
                marker=st.marker, ms=3.5, lw=1.4, label=names.get(actor, actor))
    last = max(n_rows - 1, 0)
    outcomes = outcomes or {}
    for j, (model, value) in enumerate(sorted(outcomes.items(), key=lambda kv: kv[1])):
        if value is None or not math.isfinite(value):
            continue
        x = last + 0.6 + 0.35 * (j % 2)
        ax.plot([x], [value], marker="D", color="#333333", ms=5, zorder=5)
        ax.annotate(model, (x, value), xytext=(5, 0), textcoords="offset points",
                    fontsize=7, va="center", color="#333333")
    ax.axvline(last + 0.3, color="#bbbbbb", lw=0.8)
    ax.set_xlim(-0.3, last + 2.6)
    _integer_x(ax)
    ax.set_xlabel(f"round ({forecast.model}); right of the line: each model's forecast",
                  fontsize=9)
    _anchor_axis(ax, issue)
    ax.set_title(f"{issue.name}: positions by round", fontsize=11, loc="left")
    ax.grid(True, axis="y", color="#eeeeee")
    if forecast.actor_ids:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def fig_power_grid(issues: Sequence[IssueInfo], power: Sequence[IssuePower],
                   names: dict[str, str] | None = None, actor_ids: Sequence[str] | None = None,
                   ncols: int = 2) -> Figure:
    """Small multiples of the effective-power landscape, one panel per issue."""
    by_id = {i.id: i for i in issues}
    items = [(p, by_id[p.issue]) for p in power if p.issue in by_id]
    fig, axes = _grid(len(items), ncols, base=0.9, row=2.3, left=0.06,
                      top=0.6, bottom=0.6, hspace=1.2, wspace=0.18)
    styles = actor_styles(list(actor_ids or dict.fromkeys(b.actor for p in power
                                                           for b in p.bars)))
    for ax, (p, issue) in zip(axes, items, strict=False):
        stack: dict[float, float] = {}
        for b in sorted(p.bars, key=lambda b: (b.position, -b.power)):
            base = stack.get(round(b.position, 9), 0.0)
            st = styles.get(b.actor) or Style(NEUTRAL, "-", "o")
            ax.bar([b.position], [b.power], bottom=[base], width=issue.width * 0.025,
                   color=st.color, edgecolor="white", lw=0.4)
            stack[round(b.position, 9)] = base + b.power
        _anchor_axis(ax, issue, "x", wrap=12, min_gap=0.2)
        ax.tick_params(axis="x", labelsize=5.5)
        ax.tick_params(axis="y", labelsize=6)
        ax.set_xlabel("")
        ax.set_title(_wrap(issue.name, 60), fontsize=8, loc="left")
    for ax in axes[len(items):]:
        ax.set_axis_off()
    from matplotlib.patches import Patch

    handles = [Patch(color=styles[a].color, label=(names or {}).get(a, a)) for a in styles]
    fig.legend(handles=handles, loc="lower center", ncol=min(7, len(handles)), fontsize=6,
               frameon=False)
    fig.suptitle("Effective power (capability x salience) at each stated position",
                 fontsize=10, x=0.01, y=1 - 0.12 / fig.get_figheight(), ha="left")
    return fig


def fig_power(issue: IssueInfo, power: IssuePower, forecasts: dict[str, float] | None = None,
              names: dict[str, str] | None = None,
              actor_ids: Sequence[str] | None = None) -> Figure:
    """Effective-power landscape: at each position, bars of capability x salience."""
    names = names or {}
    fig = _figure(8.0, 3.8)
    ax = fig.add_subplot()
    styles = actor_styles(list(actor_ids or [b.actor for b in power.bars]))
    width = issue.width * 0.018
    stack: dict[float, float] = {}
    for b in sorted(power.bars, key=lambda b: (b.position, -b.power)):
        base = stack.get(round(b.position, 9), 0.0)
        st = styles.get(b.actor) or Style(NEUTRAL, "-", "o")
        ax.bar([b.position], [b.power], bottom=[base], width=width, color=st.color,
               edgecolor="white", lw=0.5, label=names.get(b.actor, b.actor))
        if b.power > 0:
            ax.text(b.position, base + b.power / 2, b.actor, rotation=90, ha="center",
                    va="center", fontsize=6, color="white" if st.color != "#F0E442" else "black",
                    clip_on=True)
        stack[round(b.position, 9)] = base + b.power
    for model, value in sorted((forecasts or {}).items(), key=lambda kv: kv[1]):
        ax.axvline(value, color="#555555", lw=0.8, ls=":")
        ax.text(value, ax.get_ylim()[1], f" {model}", rotation=90, va="top", ha="right",
                fontsize=6, color="#555555")
    _anchor_axis(ax, issue, "x")
    ax.set_ylabel("capability x salience", fontsize=9)
    ax.set_title(f"{issue.name}: effective power by position", fontsize=11, loc="left")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


_QUAD_TEXT = (
    (0.97, 0.97, "right", "top", "both expect to gain:\nconflict"),
    (0.97, 0.03, "right", "bottom", "focal actor has the edge:\nrival compromises or gives in"),
    (0.03, 0.97, "left", "top", "rival has the edge:\nfocal actor compromises or gives in"),
    (0.03, 0.03, "left", "bottom", "neither gains:\nstatus quo"),
)


def fig_quad_map(quad: QuadMap, names: dict[str, str] | None = None) -> Figure:
    """Expected-utility quad map for one actor: its view of challenging each rival (x) against
    the rival's view of challenging it (y)."""
    names = names or {}
    fig = _figure(6.4, 5.6)
    ax = fig.add_subplot()
    if not quad.points:
        _empty(ax, "no rivals on this issue")
        return fig
    xs = [p.eu_self for p in quad.points]
    ys = [p.eu_other for p in quad.points]
    lim = max(1e-9, *(abs(v) for v in xs + ys)) * 1.25
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.axhline(0, color="#888888", lw=0.8)
    ax.axvline(0, color="#888888", lw=0.8)
    ax.plot([-lim, lim], [-lim, lim], color="#cccccc", lw=0.7, ls="--")
    for x, y, ha, va, text in _QUAD_TEXT:
        ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=7, color="#777777")
    kinds = sorted({p.quadrant or "" for p in quad.points})
    kind_color = {k: OKABE_ITO[n % len(OKABE_ITO)] for n, k in enumerate(kinds)}
    for p in quad.points:
        ax.scatter([p.eu_self], [p.eu_other], s=36, color=kind_color[p.quadrant or ""],
                   edgecolor="black", lw=0.4, zorder=3)
        ax.annotate(names.get(p.other, p.other), (p.eu_self, p.eu_other), xytext=(4, 3),
                    textcoords="offset points", fontsize=7)
    if any(kinds):
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", ls="", color=kind_color[k], label=k)
                   for k in kinds if k]
        ax.legend(handles=handles, fontsize=7, loc="lower right", bbox_to_anchor=(1, 0.12),
                  frameon=False)
    who = names.get(quad.actor, quad.actor)
    ax.set_xlabel(f"{who}'s expected utility of challenging the rival", fontsize=9)
    ax.set_ylabel(f"rival's expected utility of challenging {who}", fontsize=9)
    rnd = f", round {quad.round}" if quad.round is not None else ""
    ax.set_title(f"Quad map: {who} on {quad.issue}{rnd}", fontsize=11, loc="left")
    return fig


def fig_bargain_network(net: BargainNetwork, issue: IssueInfo | None = None,
                        names: dict[str, str] | None = None,
                        actor_ids: Sequence[str] | None = None) -> Figure:
    """Who proposed a bargain to whom in one round; nodes sit at the actors' positions."""
    names = names or {}
    nodes = list(actor_ids or [])
    for e in net.edges:
        for a in (e.initiator, e.receiver):
            if a not in nodes:
                nodes.append(a)
    fig = _figure(8.0, max(3.2, 0.42 * len(nodes) + 1.2))
    ax = fig.add_subplot()
    if not net.edges:
        _empty(ax, f"no bargains recorded in round {net.round}")
        return fig
    styles = actor_styles(nodes)
    import numpy as np

    have_pos = issue is not None and all(a in net.positions for a in nodes)
    coords: dict[str, tuple[float, float]] = {}
    order = sorted(nodes, key=lambda a: net.positions.get(a, 0.0)) if have_pos else nodes
    for k, a in enumerate(order):
        x = net.positions[a] if have_pos else math.cos(2 * math.pi * k / len(order))
        y = k if have_pos else math.sin(2 * math.pi * k / len(order))
        coords[a] = (x, y)
    weights = np.array([abs(e.weight) for e in net.edges if e.weight is not None] or [1.0])
    wmax = float(weights.max()) or 1.0
    for e in net.edges:
        (x0, y0), (x1, y1) = coords[e.initiator], coords[e.receiver]
        lw = 0.6 + 2.4 * (abs(e.weight) / wmax if e.weight is not None else 0.5)
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "-|>", "lw": lw + (1.2 if e.chosen else 0),
                                "color": "#D55E00" if e.chosen else "#777777",
                                "alpha": 0.95 if e.chosen else 0.6,
                                "shrinkA": 7, "shrinkB": 7,
                                "connectionstyle": "arc3,rad=0.18"})
    for a, (x, y) in coords.items():
        ax.scatter([x], [y], s=90, color=styles[a].color, edgecolor="black", lw=0.5, zorder=3)
        ax.annotate(names.get(a, a), (x, y), xytext=(7, -3), textcoords="offset points",
                    fontsize=7)
    if have_pos and issue is not None:
        _anchor_axis(ax, issue, "x")
        ax.set_yticks([])
        ax.set_ylim(-0.8, len(order) - 0.2)
    else:
        ax.set_axis_off()
        ax.set_xlim(-1.4, 1.4)
        ax.set_ylim(-1.3, 1.3)
    ax.set_title(f"Bargains proposed in round {net.round} ({net.model}); "
                 "orange: the bargain each receiver took", fontsize=10, loc="left")
    return fig


def _quantile_pairs(q: dict[str, Any]) -> list[tuple[str, str]]:
    levels = sorted(q, key=float)
    pairs = []
    i, j = 0, len(levels) - 1
    while i < j:
        if float(levels[i]) < 0.5 < float(levels[j]):
            pairs.append((levels[i], levels[j]))
        i += 1
        j -= 1
    return pairs


def _median_key(q: dict[str, Any]) -> str | None:
    return next((k for k in q if abs(float(k) - 0.5) < 1e-9), None)


def fig_fan(fan: Fan, issue: IssueInfo) -> Figure:
    """Fan chart: nested quantile bands (e.g. 5-95 %, 25-75 %) and the median over ``x``."""
    fig = _figure(7.2, 3.8)
    ax = fig.add_subplot()
    _fan_panel(ax, fan)
    _anchor_axis(ax, issue)
    _integer_x(ax)
    ax.set_xlabel(fan.x_label, fontsize=9)
    ax.set_title(f"{issue.name}: {fan.model}, spread over Monte Carlo draws", fontsize=11,
                 loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def _fan_panel(ax: Any, fan: Fan) -> None:
    for n, (lo, hi) in enumerate(_quantile_pairs(fan.quantiles)):
        ax.fill_between(fan.x, fan.quantiles[lo], fan.quantiles[hi], color=OKABE_ITO[0],
                        alpha=0.18 + 0.22 * n, lw=0,
                        label=f"{float(lo) * 100:g}-{float(hi) * 100:g} %")
    med = _median_key(fan.quantiles)
    if med is not None:
        ax.plot(fan.x, fan.quantiles[med], color=OKABE_ITO[0], lw=1.5, label="median")
    if fan.point:
        ax.plot(fan.x, fan.point, color=OKABE_ITO[3], lw=1.1, ls="--", label="point forecast")


def fig_fans(fans: Sequence[Fan], issues: Sequence[IssueInfo], ncols: int = 3) -> Figure:
    """Small multiples: one model's fan chart on every issue."""
    by_id = {i.id: i for i in issues}
    items = [(f, by_id[f.issue]) for f in fans if f.issue in by_id]
    fig, axes = _grid(len(items), ncols, base=0.9, row=2.2, left=0.08,
                      top=0.6, bottom=0.9, hspace=0.9, wspace=0.45)
    for ax, (fan, issue) in zip(axes, items, strict=False):
        _fan_panel(ax, fan)
        _anchor_axis(ax, issue, wrap=12, min_gap=0.2)
        ax.tick_params(axis="y", labelsize=5.5)
        ax.tick_params(axis="x", labelsize=6)
        ax.set_ylabel("")
        _integer_x(ax)
        ax.set_title(_wrap(issue.name, 38), fontsize=8, loc="left")
    for ax in axes[len(items):]:
        ax.set_axis_off()
    if items:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7,
                   frameon=False)
    model = fans[0].model if fans else ""
    fig.suptitle(f"{model}: forecast by {fans[0].x_label if fans else 'round'} over the Monte "
                 "Carlo draws", fontsize=10, x=0.01, y=1 - 0.12 / fig.get_figheight(), ha="left")
    return fig


def fig_histogram(mc: MonteCarloSummary, issue: IssueInfo) -> Figure:
    """Outcome histogram over Monte Carlo draws with the 5/50/95 % marks."""
    fig = _figure(7.2, 3.4)
    ax = fig.add_subplot()
    if mc.counts and len(mc.bin_edges) == len(mc.counts) + 1:
        edges = mc.bin_edges
        ax.stairs(mc.counts, edges, fill=True, color=OKABE_ITO[4], alpha=0.8)
        ax.stairs(mc.counts, edges, color=OKABE_ITO[0], lw=0.8)
    for level, ls in (("0.05", ":"), ("0.5", "-"), ("0.95", ":")):
        key = next((k for k in mc.quantiles if abs(float(k) - float(level)) < 1e-9), None)
        if key is not None:
            ax.axvline(mc.quantiles[key], color="#333333", ls=ls, lw=1,
                       label=f"{float(key) * 100:g} %: {mc.quantiles[key]:.1f}")
    if mc.point is not None:
        ax.axvline(mc.point, color=OKABE_ITO[3], lw=1.4, ls="--",
                   label=f"point forecast: {mc.point:.1f}")
    _anchor_axis(ax, issue, "x")
    ax.set_ylabel(f"draws (of {mc.n})", fontsize=9)
    ax.set_title(f"{issue.name}: {mc.model} outcomes over {mc.n} draws", fontsize=11,
                 loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def fig_histograms(summaries: Sequence[MonteCarloSummary], issues: Sequence[IssueInfo],
                   ncols: int = 3) -> Figure:
    """Small multiples: one model's outcome histogram on every issue (5/50/95 % marked)."""
    by_id = {i.id: i for i in issues}
    items = [(s, by_id[s.issue]) for s in summaries if s.issue in by_id]
    fig, axes = _grid(len(items), ncols, base=0.6, row=2.1, left=0.05,
                      top=0.6, bottom=0.9, hspace=1.3, wspace=0.25)
    for ax, (mc, issue) in zip(axes, items, strict=False):
        if mc.counts and len(mc.bin_edges) == len(mc.counts) + 1:
            ax.stairs(mc.counts, mc.bin_edges, fill=True, color=OKABE_ITO[4], alpha=0.8)
        for level, ls in (("0.05", ":"), ("0.5", "-"), ("0.95", ":")):
            key = next((k for k in mc.quantiles if abs(float(k) - float(level)) < 1e-9), None)
            if key is not None:
                ax.axvline(mc.quantiles[key], color="#333333", ls=ls, lw=0.9)
        if mc.point is not None:
            ax.axvline(mc.point, color=OKABE_ITO[3], lw=1.2, ls="--")
        _anchor_axis(ax, issue, "x", wrap=12, min_gap=0.3)
        ax.tick_params(axis="x", labelsize=5.5)
        ax.set_xlabel("")
        ax.set_yticks([])
        ax.set_title(_wrap(issue.name, 38), fontsize=8, loc="left")
    for ax in axes[len(items):]:
        ax.set_axis_off()
    model = summaries[0].model if summaries else ""
    n = summaries[0].n if summaries else 0
    fig.suptitle(f"{model}: outcomes over {n} draws (solid: median; dotted: 5 and 95 %; "
                 "dashed: point forecast)", fontsize=10, x=0.01, y=1 - 0.12 / fig.get_figheight(),
                 ha="left")
    return fig


def fig_tornado(sens: SensitivityResult, issue: IssueInfo, top: int = 12) -> Figure:
    """Sensitivity tornado: the outcome with each input at its low and high value (one-at-a-
    time), or total- and first-order indices (variance-based), largest effect on top."""
    factors = list(sens.factors)
    oat = all(f.low is not None and f.high is not None for f in factors) and factors
    if oat:
        factors.sort(key=lambda f: abs((f.high or 0) - (f.low or 0)))
    else:
        factors.sort(key=lambda f: (f.st if f.st is not None else (f.mu_star or 0)))
    factors = factors[-top:]
    fig = _figure(7.6, 1.2 + 0.36 * max(1, len(factors)))
    ax = fig.add_subplot()
    if not factors:
        _empty(ax, "no sensitivity factors")
        return fig
    ys = list(range(len(factors)))
    if oat:
        base = sens.base if sens.base is not None else 0.0
        for y, f in zip(ys, factors, strict=True):
            ax.barh(y, (f.low or 0) - base, left=base, color=OKABE_ITO[0], height=0.6,
                    label="input low" if y == 0 else None)
            ax.barh(y, (f.high or 0) - base, left=base, color=OKABE_ITO[1], height=0.6,
                    label="input high" if y == 0 else None)
        ax.axvline(base, color="black", lw=0.9)
        # oat: every factor has both low and high
        lo = min(base, *(min(cast(float, f.low), cast(float, f.high)) for f in factors))
        hi = max(base, *(max(cast(float, f.low), cast(float, f.high)) for f in factors))
        pad = max(hi - lo, 0.02 * issue.width) * 0.25
        ax.set_xlim(lo - pad, hi + pad)
        inside = [a for a in issue.anchors if lo - pad <= a.value <= hi + pad]
        if inside:
            ax.set_xticks([a.value for a in inside],
                          labels=[f"{_wrap(a.label, 18)}\n({a.value:g})" for a in inside],
                          fontsize=7)
        ax.set_xlabel(f"{sens.model} forecast: {_issue_label(issue)}", fontsize=9)
    else:
        st = [f.st if f.st is not None else (f.mu_star or 0.0) for f in factors]
        s1 = [f.s1 if f.s1 is not None else 0.0 for f in factors]
        ax.barh(ys, st, height=0.6, color=OKABE_ITO[1],
                label="total order (ST)" if sens.method == "sobol" else "mu*")
        if any(f.s1 is not None for f in factors):
            ax.barh(ys, s1, height=0.3, color=OKABE_ITO[0], label="first order (S1)")
        ax.set_xlabel("share of outcome variance" if sens.method == "sobol"
                      else "elementary effect (mu*)", fontsize=9)
    ax.set_yticks(ys, labels=[f.factor for f in factors], fontsize=7)
    ax.set_title(f"{issue.name}: what moves the {sens.model} forecast ({sens.method})",
                 fontsize=11, loc="left")
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    return fig


def fig_tornado_grid(results: Sequence[SensitivityResult], issues: Sequence[IssueInfo],
                     top: int = 6, ncols: int = 3) -> Figure:
    """Small multiples: the ``top`` factors of each issue (mu*, ST with S1, or the one-at-a-
    time swing), largest on top."""
    by_id = {i.id: i for i in issues}
    items = [(r, by_id[r.issue]) for r in results if r.issue in by_id]
    fig, axes = _grid(len(items), ncols, base=0.8, row=(0.5 + 0.22 * top), left=0.13,
                      top=0.55, bottom=0.4, hspace=0.75, wspace=1.0)
    for ax, (r, issue) in zip(axes, items, strict=False):
        fs = list(r.factors)
        if r.method in ("sobol", "morris"):
            vals = [(f.st if f.st is not None else (f.mu_star or 0.0)) for f in fs]
            s1 = [f.s1 for f in fs]
        else:
            vals = [abs((f.high or 0.0) - (f.low or 0.0)) for f in fs]
            s1 = [None] * len(fs)
        order = sorted(range(len(fs)), key=lambda i: vals[i])[-top:]
        ys = list(range(len(order)))
        ax.barh(ys, [vals[i] for i in order], color=OKABE_ITO[1], height=0.6)
        if any(s1[i] is not None for i in order):
            ax.barh(ys, [s1[i] or 0.0 for i in order], color=OKABE_ITO[0], height=0.3)
        ax.set_yticks(ys, labels=[fs[i].factor for i in order], fontsize=5.5)
        ax.tick_params(axis="x", labelsize=5.5)
        ax.set_title(_wrap(issue.name, 36), fontsize=7.5, loc="left")
    for ax in axes[len(items):]:
        ax.set_axis_off()
    method = results[0].method if results else ""
    what = {"sobol": "total-order index ST (inner bar: S1)",
            "morris": "mu* (mean absolute elementary effect)"}.get(method, "swing of the forecast")
    model = results[0].model if results else ""
    fig.suptitle(f"What moves the {model} forecast on each issue: {what}", fontsize=10,
                 x=0.01, y=1 - 0.12 / fig.get_figheight(), ha="left")
    return fig


def fig_bargaining_range(att: AttritionTimeline, issue: IssueInfo,
                         agreement: AgreementSet | None = None,
                         names: dict[str, str] | None = None) -> Figure:
    """The bargaining range month by month: shaded where a deal beats war for both sides,
    with the front line and the ratifiable agreement set alongside."""
    import numpy as np

    fig = _figure(8.0, 4.2)
    ax = fig.add_subplot()
    x = np.asarray(att.months, dtype=float)
    lo = np.asarray(att.lower, dtype=float)
    hi = np.asarray(att.upper, dtype=float)
    open_ = lo <= hi
    ax.fill_between(x, lo, hi, where=open_, color=OKABE_ITO[2], alpha=0.35, lw=0,
                    interpolate=True, label="bargaining range (deal beats war for both)")
    ax.fill_between(x, hi, lo, where=~open_, color=OKABE_ITO[3], alpha=0.25, lw=0,
                    hatch="//", interpolate=True, label="no range (beliefs too far apart)")
    a, b = ((names or {}).get(s, s) for s in att.sides)
    ax.plot(x, lo, color=OKABE_ITO[2], lw=1.2, label=f"least {b} accepts")
    ax.plot(x, hi, color=OKABE_ITO[0], lw=1.2, label=f"most {a} accepts")
    ax.plot(x, att.front, color="black", lw=1.2, ls="--", label="front line")
    if agreement is not None and agreement.agreement:
        for n, (alo, ahi) in enumerate(agreement.agreement):
            ax.axhspan(alo, ahi, color=OKABE_ITO[5], alpha=0.15, lw=0,
                       label="ratifiable agreement set" if n == 0 else None)
    for month, label in att.events:
        ax.axvline(month, color="#777777", lw=0.8, ls=":")
        ax.text(month, 1.0, f" {label}", transform=ax.get_xaxis_transform(), rotation=90,
                va="top", ha="right", fontsize=6, color="#555555")
    _anchor_axis(ax, issue)
    ax.set_xlabel("months from now", fontsize=9)
    ax.set_title(f"{issue.name}: bargaining range over time", fontsize=11, loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def fig_agreement_set(ag: AgreementSet, issue: IssueInfo,
                      names: dict[str, str] | None = None) -> Figure:
    """Each principal's ratification win-set and their intersection (the agreement set)."""
    names = names or {}
    rows = [(names.get(w.principal, w.principal), w.intervals) for w in ag.winsets]
    rows.append(("agreement set", ag.agreement))
    fig = _figure(8.0, 1.4 + 0.45 * len(rows))
    ax = fig.add_subplot()
    for y, (_label, intervals) in enumerate(rows):
        last = y == len(rows) - 1
        color = OKABE_ITO[5] if last else OKABE_ITO[y % 5]
        for lo, hi in intervals:
            ax.barh(y, hi - lo, left=lo, height=0.55, color=color, alpha=0.85)
        if not intervals:
            ax.text(issue.scale_min + 0.01 * issue.width, y,
                    "empty: no deal can be ratified" if last else "empty", va="center",
                    fontsize=7, color=REJECT)
    for model, value in sorted(ag.forecasts.items(), key=lambda kv: kv[1]):
        ax.axvline(value, color="#444444", lw=0.8, ls=":")
        ax.text(value, len(rows) - 0.4, f" {model}", rotation=90, fontsize=6, va="bottom",
                color="#444444")
    ax.set_yticks(list(range(len(rows))), labels=[r[0] for r in rows], fontsize=8)
    ax.set_ylim(-0.6, len(rows) + 0.9)
    _anchor_axis(ax, issue, "x")
    ax.set_title(f"{issue.name}: ratification win-sets and the agreement set", fontsize=11,
                 loc="left")
    return fig


def fig_proposal(prop: ProposalEvaluation, names: dict[str, str] | None = None) -> Figure:
    """A proposal's accept/veto chart: each actor's gain from the deal over no deal."""
    names = names or {}
    votes = sorted(prop.votes, key=lambda v: v.margin)
    fig = _figure(7.6, 1.3 + 0.34 * max(1, len(votes)))
    ax = fig.add_subplot()
    ys = list(range(len(votes)))
    for y, v in zip(ys, votes, strict=True):
        color = ACCEPT if v.accepts else REJECT
        ax.barh(y, v.margin, color=color, height=0.62, hatch="xx" if v.veto else None,
                edgecolor="white" if v.veto else color)
        tag = "accepts" if v.accepts else ("VETO" if v.veto else "rejects")
        ax.text(v.margin, y, f" {tag} ", va="center", ha="left" if v.margin >= 0 else "right",
                fontsize=7)
    ax.axvline(0, color="black", lw=0.9)
    ax.set_yticks(ys, labels=[names.get(v.actor, v.actor) for v in votes], fontsize=7)
    ax.set_xlabel("utility of the deal minus utility of no deal", fontsize=9)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=ACCEPT, label="accepts"), Patch(color=REJECT, label="rejects"),
                       Patch(facecolor=REJECT, hatch="xx", edgecolor="white",
                             label="rejects with a veto")],
              fontsize=7, loc="lower right", frameon=False)
    lo, hi = ax.get_xlim()
    span = max(abs(lo), abs(hi))
    ax.set_xlim(-span * 1.35, span * 1.35)
    verdict = f" - {prop.verdict}" if prop.verdict else ""
    ax.set_title(f"Proposal {prop.name}{verdict}", fontsize=11, loc="left")
    return fig


def fig_model_comparison(issues: Sequence[IssueInfo], forecasts: Sequence[ModelForecast],
                         montecarlo: Sequence[MonteCarloSummary] = ()) -> Figure:
    """Every model's forecast on every issue (small multiples), with Monte Carlo 5-95 %
    intervals where they were run."""
    models = [f.model for f in forecasts]
    panel = 0.26 * max(1, len(models)) + 1.35
    height = 0.7 + panel * len(issues)
    fig = _figure(8.0, height, layout=None)
    fig.subplots_adjust(left=0.2, right=0.97, top=1 - 0.55 / height, bottom=0.7 / height,
                        hspace=1.2 / (panel - 1.2))
    axes = fig.subplots(len(issues), 1, squeeze=False)[:, 0]
    mc = {(m.model, m.issue): m for m in montecarlo}
    colors = {m: _MARK_COLORS[n % len(_MARK_COLORS)] for n, m in enumerate(models)}
    for ax, issue in zip(axes, issues, strict=True):
        for y, f in enumerate(forecasts):
            v = f.outcome.get(issue.id)
            s = mc.get((f.model, issue.id))
            if s is not None:
                q05 = next((val for k, val in s.quantiles.items() if abs(float(k) - .05) < 1e-9),
                           None)
                q95 = next((val for k, val in s.quantiles.items() if abs(float(k) - .95) < 1e-9),
                           None)
                if q05 is not None and q95 is not None:
                    ax.plot([q05, q95], [y, y], color=colors[f.model], lw=4, alpha=0.35,
                            solid_capstyle="butt")
            if v is not None and math.isfinite(v):
                ax.plot([v], [y], marker="o", color=colors[f.model], ms=6)
                ax.annotate(f"{v:.1f}", (v, y), xytext=(5, 2), textcoords="offset points",
                            fontsize=6)
        if issue.status_quo is not None:
            ax.axvline(issue.status_quo, color="#999999", lw=0.8, ls=":")
        ax.set_yticks(list(range(len(models))), labels=models, fontsize=7)
        ax.set_ylim(-0.7, len(models) - 0.3)
        _anchor_axis(ax, issue, "x", wrap=14)
        ax.set_title(issue.name, fontsize=9, loc="left")
    fig.suptitle("Model comparison" + (" (bars: Monte Carlo 5-95 %)" if montecarlo else ""),
                 fontsize=11, x=0.01, y=1 - 0.15 / height, ha="left")
    return fig


def fig_backtest(bt: BacktestScores) -> Figure:
    """Backtest: mean absolute error per model (bars) and the spread of per-case errors."""
    rows = sorted(bt.rows, key=lambda r: r.mae)
    fig = _figure(8.0, 1.4 + 0.34 * max(1, len(rows)))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    ys = list(range(len(rows)))
    ax1.barh(ys, [r.mae for r in rows], color=[OKABE_ITO[n % 8] for n in ys], height=0.6)
    for y, r in zip(ys, rows, strict=True):
        ax1.text(r.mae, y, f" {r.mae:.2f} (n={r.n})", va="center", fontsize=7)
    ax1.set_xlabel("mean absolute error (scale points)", fontsize=9)
    ax1.set_xlim(0, max([r.mae for r in rows] + [1e-9]) * 1.45)
    with_errors = [(y, r.errors) for y, r in zip(ys, rows, strict=True) if r.errors]
    if with_errors:
        ax2.boxplot([e for _, e in with_errors], positions=[y for y, _ in with_errors],
                    orientation="horizontal", widths=0.5, showfliers=True,
                    flierprops={"markersize": 2})
        ax2.set_xlabel("absolute error per case", fontsize=9)
    else:
        ax2.set_axis_off()
    ax1.set_yticks(ys, labels=[r.model for r in rows], fontsize=8)  # after boxplot resets them
    ax1.set_ylim(-0.6, len(rows) - 0.4)
    fig.suptitle(f"Backtest on {bt.dataset}", fontsize=11, x=0.01, ha="left")
    return fig


# ---------------------------------------------------------------------------------------
# which figures a report has


@dataclass(frozen=True)
class FigureItem:
    """One figure of a report: where it goes, what it says, and how to draw it."""

    key: str  # file-name safe, unique in the report
    section: str  # "positions", "power", "quad", "bargains", "montecarlo", ...
    title: str
    caption: str
    # called with no arguments; typed "..." because the lambdas bind their loop variables
    # as default arguments, which mypy cannot match against Callable[[], Figure]
    draw: Callable[..., Figure] = field(repr=False)
    details: list[str] = field(default_factory=list)  # longer text (all move reasons)


def _safe(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in s)


def _caption_lines(lines: list[str], limit: int = 4) -> str:
    if not lines:
        return ""
    shown = lines[:limit]
    more = f" (+{len(lines) - limit} more below)" if len(lines) > limit else ""
    return " Why actors moved: " + "; ".join(shown) + more + "."


def report_figures(report: Report) -> list[FigureItem]:  # noqa: C901 - one list, in order
    """Every figure the report supports, in reading order."""
    sc = report.scenario
    names = {a.id: a.name for a in sc.actors}
    actor_ids = [a.id for a in sc.actors]
    items: list[FigureItem] = []
    issues = {i.id: i for i in sc.issues}
    outcomes_by_issue = {i.id: {f.model: f.outcome[i.id] for f in report.forecasts
                                if i.id in f.outcome} for i in sc.issues}

    if report.forecasts:
        items.append(FigureItem(
            "model-comparison", "forecasts", "Where each model says the talks land",
            "Each dot is one model's point forecast on the issue's own scale (tick labels are "
            "the scenario's anchor points)." + (" Shaded bars span the 5-95 % range over the "
                                                "Monte Carlo draws." if report.montecarlo else ""),
            lambda: fig_model_comparison(sc.issues, report.forecasts, report.montecarlo)))

    pos = report.forecast(report.position_model) if report.position_model else None
    if pos is not None:
        for issue in sc.issues:
            if issue.id not in pos.positions:
                continue
            lines = pos.explanations.get(issue.id, [])
            items.append(FigureItem(
                f"positions-{_safe(issue.id)}", "positions", f"{issue.name}: positions by round",
                f"Positions of every actor round by round under {pos.model}; diamonds on the "
                f"right mark each model's forecast." + _caption_lines(lines),
                (lambda issue=issue: fig_positions(issue, pos, outcomes_by_issue[issue.id],
                                                   names)),
                details=lines))

    if len(report.power) == 1:
        p = report.power[0]
        issue = issues[p.issue]
        items.append(FigureItem(
            f"power-{_safe(p.issue)}", "power", f"{issue.name}: effective power",
            "Bar height is capability x salience of each actor, placed at its stated position; "
            "dotted lines mark the models' forecasts.",
            lambda: fig_power(issue, p, outcomes_by_issue[issue.id], names, actor_ids)))
    elif report.power:
        items.append(FigureItem(
            "power", "power", "Effective power on every issue",
            "Bar height is capability x salience of each actor, placed at its stated position "
            "(bars at the same position are stacked).",
            lambda: fig_power_grid(sc.issues, report.power, names, actor_ids)))

    if report.quad_map is not None:
        q = report.quad_map
        items.append(FigureItem(
            "quad-map", "quad", f"Quad map for {names.get(q.actor, q.actor)} on {q.issue}",
            "Right of the vertical axis the focal actor expects to gain by challenging that "
            "rival; above the horizontal axis the rival expects to gain by challenging it.",
            lambda: fig_quad_map(q, names)))

    if report.bargains is not None:
        b = report.bargains
        b_issue = issues.get(b.issue) if b.issue else None
        items.append(FigureItem(
            "bargain-network", "bargains", f"Bargain network, round {b.round}",
            "Arrows run from the actor proposing a bargain to the actor receiving it; thicker "
            "arrows carry more weight; orange arrows are the bargains that were taken.",
            lambda: fig_bargain_network(b, b_issue, names, actor_ids)))

    for model in dict.fromkeys(f.model for f in report.fans):
        group = [f for f in report.fans if f.model == model and f.issue in issues]
        if len(group) == 1:
            fan = group[0]
            issue = issues[fan.issue]
            items.append(FigureItem(
                f"fan-{_safe(fan.model)}-{_safe(fan.issue)}", "montecarlo",
                f"{issue.name}: {fan.model} fan chart",
                f"Bands hold the stated share of Monte Carlo draws at each {fan.x_label}; "
                "the dashed line is the forecast without uncertainty.",
                (lambda fan=fan, issue=issue: fig_fan(fan, issue))))
        elif group:
            items.append(FigureItem(
                f"fan-{_safe(model)}", "montecarlo", f"{model}: fan charts",
                f"{model}'s forecast {group[0].x_label} by {group[0].x_label} over the Monte "
                "Carlo draws, one panel per issue: bands hold 90 % and 50 % of the draws, the "
                "solid line is the median, the dashed line the forecast without uncertainty.",
                (lambda group=group: fig_fans(group, sc.issues))))
    mc_models = list(dict.fromkeys(m.model for m in report.montecarlo))
    for model in mc_models:
        mc_group = [m for m in report.montecarlo if m.model == model]
        if len(mc_group) == 1:
            mc = mc_group[0]
            issue = issues[mc.issue]
            items.append(FigureItem(
                f"hist-{_safe(mc.model)}-{_safe(mc.issue)}", "montecarlo",
                f"{issue.name}: {mc.model} outcome distribution",
                f"{mc.n} draws; mean {mc.mean:.1f}, sd {mc.sd:.1f}.",
                (lambda mc=mc, issue=issue: fig_histogram(mc, issue))))
        else:
            items.append(FigureItem(
                f"hist-{_safe(model)}", "montecarlo", f"{model}: outcome distributions",
                f"Histograms of {model}'s forecast over {mc_group[0].n} Monte Carlo draws, one "
                "panel per issue; the table above gives the numbers.",
                (lambda mc_group=mc_group: fig_histograms(mc_group, sc.issues))))

    sens = [r for r in report.sensitivity if r.issue in issues]
    for s in sens[:1]:  # the focus issue in full
        issue = issues[s.issue]
        how = {"morris": " Bars: Morris mu*, the mean absolute change of the forecast as the "
                         "input moves across its range.",
               "sobol": " Bars: Sobol total-order index ST (share of the forecast's variance "
                        "the input drives, with interactions); inner bars: first-order S1."
               }.get(s.method, " Bars: the forecast with the input at its low and high value.")
        items.append(FigureItem(
            f"tornado-{_safe(s.model)}-{_safe(s.issue)}", "sensitivity",
            f"{issue.name}: sensitivity of {s.model}",
            "Inputs ranked by how far they move the forecast; the largest effect is on top."
            + how, (lambda s=s, issue=issue: fig_tornado(s, issue))))
    if len(sens) > 1:
        items.append(FigureItem(
            f"tornado-{_safe(sens[0].model)}-all", "sensitivity",
            f"Sensitivity of {sens[0].model} on every issue",
            "The inputs that move each issue's forecast most, one panel per issue; the table "
            "gives the numbers.", (lambda: fig_tornado_grid(sens, sc.issues))))

    if report.attrition is not None:
        att = report.attrition
        issue = issues[att.issue]
        items.append(FigureItem(
            "bargaining-range", "conflict", f"{issue.name}: bargaining range over time",
            "Green: outcomes both sides prefer to more fighting, month by month; dashed: the "
            "front line." + (" Purple band: what every principal can ratify at home."
                             if report.agreement and report.agreement.agreement else ""),
            lambda: fig_bargaining_range(att, issue, report.agreement, names)))
    if report.agreement is not None:
        ag = report.agreement
        issue = issues[ag.issue]
        items.append(FigureItem(
            "agreement-set", "conflict", f"{issue.name}: agreement set",
            "Each row is the range of outcomes a principal's domestic ratifiers would approve; "
            "the bottom row is their intersection.",
            lambda: fig_agreement_set(ag, issue, names)))

    if report.proposal is not None:
        prop = report.proposal
        items.append(FigureItem(
            "proposal", "proposal", f"Proposal: {prop.name}",
            "Bars show each actor's gain from the deal over no deal; blue accepts, vermillion "
            "rejects, cross-hatched rejections are vetoes.",
            lambda: fig_proposal(prop, names)))

    if report.backtest is not None:
        bt = report.backtest
        items.append(FigureItem(
            "backtest", "backtest", f"Backtest on {bt.dataset}",
            "Lower is better: mean absolute error of each model against recorded outcomes.",
            lambda: fig_backtest(bt)))
    return items
