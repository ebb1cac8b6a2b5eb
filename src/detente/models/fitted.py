"""Parameters fitted on real outcomes, shipped as data in ``detente/data/fitted/<model>.json``
with their provenance (file, hash, method, cross-validated accuracy)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["fitted_record"]


@lru_cache(maxsize=8)
def fitted_record(model: str) -> dict[str, Any]:
    """The shipped fit record of ``model`` (params + provenance)."""
    path = resources.files("detente").joinpath("data", "fitted", f"{model}.json")
    return json.loads(path.read_text(encoding="utf-8"))
