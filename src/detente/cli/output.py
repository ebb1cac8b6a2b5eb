"""The documented shape of ``detente run --format json`` (exported by ``detente schema``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RunOutput", "run_output_schema"]


class ScenarioRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    hash: str = Field(description="SHA-256 of the scenario's canonical JSON")


class ForecastRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    issue: str
    outcome: float = Field(description="point forecast on the issue's own scale")
    rounds: int = Field(ge=0, description="rounds run (0 for closed-form models)")
    converged: bool


class Skipped(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    reason: str


class Provenance(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: str
    seed: int | None
    models: list[dict[str, Any]] = Field(
        description="per model: model, params, scenario_id, scenario_hash, seed, version, created")


class RunOutput(BaseModel):
    """One object: the scenario, a ``forecasts`` list, skipped models and provenance."""

    model_config = ConfigDict(extra="allow")
    scenario: ScenarioRef
    forecasts: list[ForecastRow]
    skipped: list[Skipped] = []
    provenance: Provenance


def run_output_schema() -> dict[str, Any]:
    return RunOutput.model_json_schema()
