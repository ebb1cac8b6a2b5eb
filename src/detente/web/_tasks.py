"""Work the job manager sends to executor workers (kept free of web imports, so a worker
process loads only the models)."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["forecast_task"]


def forecast_task(model: Any, scenario: Any, seed: int) -> Any:
    """One model's forecast of ``scenario`` (non-convergence is recorded in the forecast)."""
    from detente.errors import NotConvergedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        return model.forecast(scenario, rng=seed)
