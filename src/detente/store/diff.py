"""What changed between two stored runs: inputs (stance by stance), parameters, forecasts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from detente.store.runs import StoredRun

__all__ = ["Change", "ForecastChange", "RunDiff", "diff_runs", "diff_scenarios"]

_STANCE_FIELDS = ("position", "salience", "capability", "acceptable", "red_line")
_ISSUE_FIELDS = ("name", "scale_min", "scale_max", "units", "status_quo", "anchors")
_ACTOR_FIELDS = ("name", "kind", "capability", "parent")
_SECTIONS = ("relations", "dynamics", "conflict", "events", "ratification", "uncertainty",
             "sources", "meta")


@dataclass(frozen=True)
class Change:
    """One input that differs: ``what`` names it, e.g. ``stance ru / territory: salience``."""

    what: str
    old: Any
    new: Any

    def line(self) -> str:
        return f"{self.what}: {_fmt(self.old)} -> {_fmt(self.new)}"


@dataclass(frozen=True)
class ForecastChange:
    model: str
    issue: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old


@dataclass
class RunDiff:
    a: int
    b: int
    same_scenario: bool
    inputs: list[Change] = field(default_factory=list)
    params: list[Change] = field(default_factory=list)
    forecasts: list[ForecastChange] = field(default_factory=list)

    def changed_forecasts(self, tol: float = 1e-9) -> list[ForecastChange]:
        out = []
        for f in self.forecasts:
            d = f.delta
            if d is None and (f.old is not None or f.new is not None):
                out.append(f)
            elif d is not None and abs(d) > tol:
                out.append(f)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "same_scenario": self.same_scenario,
            "inputs": [{"what": c.what, "old": c.old, "new": c.new} for c in self.inputs],
            "params": [{"what": c.what, "old": c.old, "new": c.new} for c in self.params],
            "forecasts": [{"model": f.model, "issue": f.issue, "old": f.old, "new": f.new,
                           "delta": f.delta} for f in self.forecasts],
        }


def _fmt(v: Any) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list) and len(v) > 4:
        return f"[{len(v)} items]"
    return str(v)


def _index(items: list[dict[str, Any]], key: Any) -> dict[Any, dict[str, Any]]:
    return {key(x): x for x in items}


def diff_scenarios(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Differences between two scenarios' JSON forms: issues, actors, each stance's fields,
    then any other section that changed as a whole."""
    out: list[Change] = []
    for top in ("id", "name", "view"):
        if a.get(top) != b.get(top):
            out.append(Change(f"scenario {top}", a.get(top), b.get(top)))

    def compare(kind: str, key: Any, fields: tuple[str, ...], label: Any) -> None:
        ia, ib = _index(a.get(kind, []), key), _index(b.get(kind, []), key)
        for k in ia.keys() - ib.keys():
            out.append(Change(f"{label(k)}", "present", "removed"))
        for k in ib.keys() - ia.keys():
            out.append(Change(f"{label(k)}", "absent", "added"))
        for k in sorted(ia.keys() & ib.keys(), key=str):
            for f in fields:
                if ia[k].get(f) != ib[k].get(f):
                    out.append(Change(f"{label(k)}: {f}", ia[k].get(f), ib[k].get(f)))
            ea, eb = ia[k].get("evidence"), ib[k].get("evidence")
            if ea != eb:
                out.append(Change(f"{label(k)}: evidence changed", f"{len(ea or [])} item(s)",
                                  f"{len(eb or [])} item(s)"))

    compare("issues", lambda x: x["id"], _ISSUE_FIELDS, lambda k: f"issue {k}")
    compare("actors", lambda x: x["id"], _ACTOR_FIELDS, lambda k: f"actor {k}")
    compare("stances", lambda x: (x["actor"], x["issue"]), _STANCE_FIELDS,
            lambda k: f"stance {k[0]} / {k[1]}")
    for sec in _SECTIONS:
        if a.get(sec) != b.get(sec):
            va, vb = a.get(sec), b.get(sec)
            out.append(Change(f"{sec} (changed)", _size(va), _size(vb)))
    return out


def _size(v: Any) -> str:
    if isinstance(v, (list, dict)):
        return f"{len(v)} item(s)"
    return "set" if v is not None else "(none)"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def diff_runs(a: StoredRun, b: StoredRun) -> RunDiff:
    """Compare run ``a`` (older) with run ``b``."""
    same = a.summary.scenario_hash == b.summary.scenario_hash
    d = RunDiff(a=a.id, b=b.id, same_scenario=same)
    if not same:
        d.inputs = diff_scenarios(a.scenario_json, b.scenario_json)
    if a.summary.seed != b.summary.seed:
        d.params.append(Change("seed", a.summary.seed, b.summary.seed))
    for m in a.models.keys() - b.models.keys():
        d.params.append(Change(f"model {m}", "run", "not run"))
    for m in b.models.keys() - a.models.keys():
        d.params.append(Change(f"model {m}", "not run", "run"))
    for m in [x for x in a.models if x in b.models]:
        pa, pb = a.models[m]["params"], b.models[m]["params"]
        for k in sorted(pa.keys() | pb.keys()):
            if pa.get(k) != pb.get(k):
                d.params.append(Change(f"{m}.{k}", pa.get(k), pb.get(k)))
    fa = {(r["model"], r["issue"]): _num(r["outcome"]) for r in a.forecasts}
    fb = {(r["model"], r["issue"]): _num(r["outcome"]) for r in b.forecasts}
    keys = list(fa) + [k for k in fb if k not in fa]
    for k in keys:
        d.forecasts.append(ForecastChange(k[0], k[1], fa.get(k), fb.get(k)))
    return d
