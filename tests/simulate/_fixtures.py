"""Small scenarios for the simulate tests."""

from __future__ import annotations

from detente.scenario.schema import Scenario


def toy(uncertainty: list[dict] | None = None, **extra) -> Scenario:
    """Three actors, two issues on different scales; actor c has no stance on 'b'."""
    data = {
        "id": "toy",
        "name": "Toy",
        "issues": [{"id": "a", "name": "A", "scale_min": 0, "scale_max": 100, "status_quo": 50},
                   {"id": "b", "name": "B", "scale_min": 4, "scale_max": 10, "status_quo": 4}],
        "actors": [{"id": "x", "name": "X", "capability": 3},
                   {"id": "y", "name": "Y", "capability": 2},
                   {"id": "z", "name": "Z", "capability": 1}],
        "stances": [
            {"actor": "x", "issue": "a", "position": 10, "salience": 80},
            {"actor": "y", "issue": "a", "position": 60, "salience": 50},
            {"actor": "z", "issue": "a", "position": 95, "salience": 100},
            {"actor": "x", "issue": "b", "position": 4, "salience": 40},
            {"actor": "y", "issue": "b", "position": 9, "salience": 70, "capability": 5},
        ],
        "uncertainty": uncertainty or [],
    }
    data.update(extra)
    return Scenario(**data)
