"""Work the job manager sends to executor workers (kept free of web imports, so a worker
process loads only the models)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["backtest_task", "forecast_task"]


def forecast_task(model: Any, scenario: Any, seed: int) -> Any:
    """One model's forecast of ``scenario`` (non-convergence is recorded in the forecast)."""
    from detente.errors import NotConvergedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        return model.forecast(scenario, rng=seed)


def backtest_task(cases: Any, model: Any, seed: int, n_boot: int,
                  progress: Callable[[int], None] | None = None) -> Any:
    """``model`` scored on the backtest ``cases`` and compared with the compromise model
    (a ``BacktestResult`` with one score)."""
    from detente.analysis.backtest import backtest

    return backtest(cases, [model], seed=seed, n_boot=n_boot, progress=progress)
