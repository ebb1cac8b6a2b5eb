"""Load a scenario from a path (any supported format) or a bundled scenario name."""

from __future__ import annotations

from pathlib import Path

from detente.scenario.schema import Scenario

__all__ = ["load_scenario"]


def load_scenario(source: str | Path) -> Scenario:
    """Load ``source``: a YAML/CSV/KTAB/Decide/DEU file, or a bundled scenario's name."""
    from detente.scenario.formats import read_any

    return read_any(source)
