"""Plain-language summaries of Monte Carlo, what-if, sensitivity and comparison results.

Pure functions from result objects (and the scenario, for issue names and anchors) to
sentences; the CLI and reports print them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from detente.scenario.schema import Scenario

__all__ = [
    "compare_lines",
    "montecarlo_lines",
    "sensitivity_lines",
    "whatif_lines",
]


def _name(scenario: Scenario | None, issue_id: str) -> str:
    if scenario is None:
        return issue_id
    try:
        return scenario.issue(issue_id).name
    except KeyError:
        return issue_id


def _anchor(scenario: Scenario | None, issue_id: str, value: float) -> str:
    if scenario is None or not math.isfinite(value):
        return ""
    try:
        lab = scenario.issue(issue_id).label_for(value)
    except KeyError:
        return ""
    return f" ({lab})" if lab else ""


def montecarlo_lines(result: Any, scenario: Scenario | None = None) -> list[str]:
    """Per issue: each model's median and 90 % interval, and how wide that is; the
    convergence rate when a model did not always converge."""
    lines = []
    rows = result.summary()
    width = result.scale_max - result.scale_min
    for k, iss in enumerate(result.issue_ids):
        parts = []
        for row in (r for r in rows if r["issue"] == iss and r["n"]):
            spread = (row["q95"] - row["q05"]) / width[k] * 100
            s = (f"{row['model']} {row['q50']:.1f}{_anchor(scenario, iss, row['q50'])}, 90% "
                 f"in {row['q05']:.1f}-{row['q95']:.1f} ({spread:.0f}% of the scale)")
            if row["converged"] < 1:
                s += f", converged in {row['converged']:.0%} of draws"
            parts.append(s)
        if parts:
            lines.append(f"{_name(scenario, iss)}: " + "; ".join(parts) + ".")
    p = result.agreement_probability() if hasattr(result, "agreement_probability") else None
    if p:
        vals = {k: v for k, v in p.items() if not math.isnan(v)}
        if vals:
            worst = min(vals, key=vals.__getitem__)
            lines.append(f"Agreement set (every needed principal can ratify) non-empty in "
                         f"{min(vals.values()):.0%}-{max(vals.values()):.0%} of draws per "
                         f"issue; least likely on {_name(scenario, worst)}.")
    if result.partial:
        lines.append(f"Interrupted: {result.n_draws} of {result.n_requested} draws.")
    return lines


def whatif_lines(result: Any, scenario: Scenario | None = None, *, threshold: float = 1e-9
                 ) -> list[str]:
    """One line per intervention: the issues it moves, by model, with the change's interval
    when draws were run."""
    lines = []
    rows = result.rows()
    for name in result.names[1:]:
        moved = [r for r in rows if r["intervention"] == name and
                 (abs(r["change"]) > threshold or abs(r.get("change_mean", 0.0)) > threshold)]
        if not moved:
            lines.append(f"{name}: no forecast moves.")
            continue
        moved.sort(key=lambda r: -abs(r.get("change_mean", r["change"])))
        parts = []
        for r in moved[:6]:
            s = f"{_name(scenario, r['issue'])} under {r['model']} {r['change']:+.1f}"
            if "change_q05" in r:
                s += (f" (draws: {r['change_mean']:+.1f}, 90% {r['change_q05']:+.1f} to "
                      f"{r['change_q95']:+.1f})")
            parts.append(s)
        more = f" and {len(moved) - 6} more" if len(moved) > 6 else ""
        lines.append(f"{name}: " + "; ".join(parts) + more + ".")
    lines.extend(result.notes)
    return lines


def sensitivity_lines(result: Any, scenario: Scenario | None = None, *, top: int = 3
                      ) -> list[str]:
    """Per model and issue, the inputs that matter most, and whether they act alone."""
    lines = []
    for m in result.models:
        for iss in result.issue_ids:
            ranking = [(n, v) for n, v in result.ranking(m, iss) if v > 0.01][:top]
            if not ranking:
                continue
            if result.method == "sobol":
                idx = result.indices[m][iss]
                names = [f.name for f in result.factors]
                parts = []
                for n, st in ranking:
                    s1 = float(idx["S1"][names.index(n)])
                    tag = " mostly through interactions" if st > 2 * max(s1, 0.01) else ""
                    parts.append(f"{n} (ST {st:.2f}, S1 {s1:.2f}{tag})")
            else:
                parts = [f"{n} (mu* {v:.2f})" for n, v in ranking]
            lines.append(f"{_name(scenario, iss)} under {m}: " + ", ".join(parts) + ".")
    return lines


def compare_lines(result: Any, scenarios: dict[str, Scenario] | None = None, *, top: int = 5,
                  min_share: float = 0.02) -> list[str]:
    """The largest differences between variants and the input groups behind each."""
    lines = []
    ref = (scenarios or {}).get(result.variants[0])
    for row in result.differences()[:top]:
        if row["share_of_scale"] < min_share:
            break
        causes = [c for c in result.causes(row["variant"], row["model"], row["issue"])
                  if abs(c["contribution"]) > 1e-9][:3]
        why = ", ".join(f"{c['group']} {c['contribution']:+.1f}" for c in causes)
        lines.append(f"{_name(ref, row['issue'])} under {row['model']}: {row['reference']:.1f} "
                     f"in {result.variants[0]} vs {row['value']:.1f} in {row['variant']} "
                     f"({row['diff']:+.1f})" + (f"; from {why}" if why else "") + ".")
    if not lines:
        lines.append(f"The variants agree within {min_share:.0%} of every scale.")
    lines.extend(result.notes)
    return lines


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating)) and math.isfinite(float(x))
