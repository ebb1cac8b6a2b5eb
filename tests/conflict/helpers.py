"""Small scenarios built in Python for the conflict and deals tests."""

from __future__ import annotations

from typing import Any

from detente.scenario.schema import Scenario


def war_scenario(*, scale=(0.0, 1.0), front=0.70, drift_ru=0.005, drift_ua=0.005,
                 k_ru=0.008, k_ua=0.012, horizon=12, events=(), meta=None,
                 extra_issues=(), extra_stances=()) -> Scenario:
    """§5.2's war: RU is the side favoured by high values (x = RU share)."""
    lo, hi = scale
    w = hi - lo
    data: dict[str, Any] = {
        "id": "war52", "name": "attrition example",
        "issues": [{"id": "share", "name": "RU share", "scale_min": lo, "scale_max": hi},
                   *extra_issues],
        "actors": [{"id": "UA", "name": "Ukraine", "capability": 45},
                   {"id": "RU", "name": "Russia", "capability": 100}],
        "stances": [{"actor": "UA", "issue": "share", "position": lo, "salience": 100},
                    {"actor": "RU", "issue": "share", "position": hi, "salience": 100},
                    *extra_stances],
        "conflict": {"issue": "share", "sides": ["UA", "RU"], "front_line": lo + front * w,
                     "horizon_months": horizon},
        "dynamics": [{"actor": "RU", "monthly_cost": k_ru, "drift": drift_ru * w},
                     {"actor": "UA", "monthly_cost": k_ua, "drift": drift_ua * w}],
        "events": list(events),
        "meta": meta or {},
    }
    return Scenario(**data)


def territory_actors() -> list[dict[str, Any]]:
    """§3.2's hypothetical 7-actor territory issue: (id, x, c, s, K)."""
    return [
        {"id": "RU", "x": 5, "c": 100, "s": 0.9, "K": 0.10},
        {"id": "US-WH", "x": 35, "c": 100, "s": 0.5, "K": 0.02},
        {"id": "US-Congress", "x": 70, "c": 40, "s": 0.4, "K": 0.01},
        {"id": "UK", "x": 80, "c": 25, "s": 0.7, "K": 0.03},
        {"id": "EU-core", "x": 70, "c": 60, "s": 0.6, "K": 0.05},
        {"id": "EU-east", "x": 95, "c": 25, "s": 0.9, "K": 0.04},
        {"id": "UA", "x": 95, "c": 45, "s": 1.0, "K": 0.20},
    ]


def territory_scenario(*, status_quo=None, war=False, only=None) -> Scenario:
    rows = [r for r in territory_actors() if only is None or r["id"] in only]
    data: dict[str, Any] = {
        "id": "territory32", "name": "territory example",
        "issues": [{"id": "territory", "name": "Territory", "scale_min": 0, "scale_max": 100,
                    "status_quo": status_quo}],
        "actors": [{"id": r["id"], "name": r["id"], "capability": r["c"]} for r in rows],
        "stances": [{"actor": r["id"], "issue": "territory", "position": r["x"],
                     "salience": 100 * r["s"]} for r in rows],
    }
    if war:
        data["conflict"] = {"issue": "territory", "sides": ["RU", "UA"], "front_line": 15,
                            "horizon_months": 12}
        data["dynamics"] = [{"actor": r["id"], "monthly_cost": r["K"] / 12, "drift": 0.0}
                            for r in rows]
    return Scenario(**data)
