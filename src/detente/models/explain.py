"""Plain-language explanations of why actors moved, read from a forecast's details.

Round-based models record their moves in ``details[issue_id]["moves"]`` (per-issue models)
or ``details["rounds"]``/``details["moves"]`` (joint models) as lists per round of
``{"round", "actor", "from", "to", "kind", "counterpart", "reason", ...}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from detente.models.base import Forecast

__all__ = ["explain_lines", "iter_moves"]

_NO_CHANGE = 1e-12


def _flatten(moves: Any) -> Iterator[dict[str, Any]]:
    if isinstance(moves, dict):
        if "actor" in moves:
            yield moves
        else:
            for v in moves.values():
                yield from _flatten(v)
    elif isinstance(moves, (list, tuple)):
        for m in moves:
            yield from _flatten(m)


def iter_moves(forecast: Forecast, issue_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every recorded move (with its issue filled in), in round order."""
    details = forecast.details
    found: list[dict[str, Any]] = []
    for iss in forecast.issue_ids:
        block = details.get(iss)
        if isinstance(block, dict) and "moves" in block:
            for m in _flatten(block["moves"]):
                found.append({"issue": iss, **m})
    if "moves" in details:
        found.extend(_flatten(details["moves"]))
    elif isinstance(details.get("rounds"), list):
        for r in details["rounds"]:
            if isinstance(r, dict) and "moves" in r:
                found.extend(_flatten(r["moves"]))
    for m in sorted(found, key=lambda m: (m.get("round", 0), str(m.get("issue", "")))):
        if issue_id is None or m.get("issue") in (None, issue_id):
            yield m


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)


def explain_lines(forecast: Forecast, actor_id: str, issue_id: str | None = None,
                  ) -> list[str]:
    """Lines such as ``round 2, territory: moved 40 -> 55 (compromise with us-pragmatic): ...``.

    Falls back to the position path when the model records no moves.
    """
    if actor_id not in forecast.actor_ids:
        raise KeyError(f"unknown actor {actor_id!r}; actors: {', '.join(forecast.actor_ids)}")
    lines = []
    for m in iter_moves(forecast, issue_id):
        if m.get("actor") != actor_id:
            continue
        where = f", {m['issue']}" if m.get("issue") else ""
        kind = m.get("kind", "move")
        with_ = f" with {m['counterpart']}" if m.get("counterpart") else ""
        reason = f": {m['reason']}" if m.get("reason") else ""
        lines.append(f"round {m.get('round', '?')}{where}: moved {_fmt(m.get('from'))} -> "
                     f"{_fmt(m.get('to'))} ({kind}{with_}){reason}")
    if lines:
        return lines
    combined = _combination_lines(forecast, actor_id, issue_id)
    if combined:
        return combined
    a = forecast.actor_ids.index(actor_id)
    issues: Iterable[int] = (range(len(forecast.issue_ids)) if issue_id is None
                             else [forecast.issue_ids.index(issue_id)])
    for k in issues:
        path = forecast.positions[:, a, k]
        if math.isnan(path[0]):
            continue
        iss = forecast.issue_ids[k]
        if forecast.positions.shape[0] == 1 or all(abs(p - path[0]) < 1e-12 for p in path):
            lines.append(f"{iss}: {actor_id} holds {path[0]:.4g} throughout "
                         f"({forecast.model} moves no actor)")
        else:
            steps = " -> ".join(f"{p:.4g}" for p in path)
            lines.append(f"{iss}: {actor_id} moved {steps} (the model records no reasons)")
    return lines


def _combination_lines(forecast: Forecast, actor_id: str, issue_id: str | None) -> list[str]:
    """For forecasts that combine members (``details[issue]`` has ``members`` and
    ``weights``, as the ensemble writes): how the outcome is made up, and how much the
    actor's capability counted in each member (``capability_factors``)."""
    lines = []
    for k, iss in enumerate(forecast.issue_ids):
        block = forecast.details.get(iss)
        if (issue_id not in (None, iss) or not isinstance(block, dict)
                or "members" not in block or "weights" not in block):
            continue
        parts = [f"{m} {_fmt(float(v))} (weight {float(block['weights'][m]):.2f})"
                 for m, v in block["members"].items() if float(block["weights"][m]) > 0]
        line = f"{iss}: {forecast.model} {_fmt(float(forecast.outcome[k]))} = weighted " \
               f"mean of {', '.join(parts)}"
        factors = block.get("capability_factors") or {}
        scaled = [f"x{_fmt(t[actor_id])} in {m}" for m, t in factors.items()
                  if actor_id in t and abs(t[actor_id] - 1.0) > _NO_CHANGE]
        if scaled:
            line += f"; {actor_id}'s capability counts {', '.join(scaled)} (fitted factors)"
        lines.append(line)
    return lines
