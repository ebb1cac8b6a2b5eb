"""The run store: every CLI run recorded in SQLite (scenario, parameters, results,
provenance), listed, shown, compared and removed with ``detente runs``."""

from detente.store.diff import RunDiff, diff_runs, diff_scenarios
from detente.store.runs import (
    ENV_VAR,
    RunRecord,
    RunStore,
    RunSummary,
    StoredRun,
    StoreError,
    default_store_path,
    record_from_forecasts,
)

__all__ = [
    "ENV_VAR",
    "RunDiff",
    "RunRecord",
    "RunStore",
    "RunSummary",
    "StoreError",
    "StoredRun",
    "default_store_path",
    "diff_runs",
    "diff_scenarios",
    "record_from_forecasts",
]
