"""The model registry: built-in models plus third-party ones from the ``detente.models``
entry-point group. Built-ins are imported lazily so ``detente models`` stays fast."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from detente.errors import ModelError
from detente.models.base import ForecastModel

__all__ = ["available_models", "get_model", "get_model_class", "Shown", "forecast_each",
           "param_defaults", "register"]

_BUILTIN: dict[str, str] = {
    "compromise": "detente.models.baselines:CompromiseModel",
    "weighted_median": "detente.models.baselines:WeightedMedianModel",
    "mean": "detente.models.baselines:MeanModel",
    "status_quo": "detente.models.baselines:StatusQuoModel",
    "nash": "detente.models.nash:NashBargainingModel",
    "exchange": "detente.models.exchange:ExchangeModel",
    "expected_utility": "detente.models.expected_utility:ExpectedUtilityModel",
    "spatial": "detente.models.spatial:SpatialModel",
    "procedure_compromise": "detente.models.procedural:ProcedureCompromiseModel",
    "ensemble": "detente.models.ensemble:EnsembleModel",
}
_REGISTERED: dict[str, type[ForecastModel]] = {}


def register(cls: type[ForecastModel]) -> type[ForecastModel]:
    """Register a model class under ``cls.name`` (usable as a decorator)."""
    if not getattr(cls, "name", None):
        raise ModelError(f"{cls.__name__} has no 'name'")
    _REGISTERED[cls.name] = cls
    return cls


def _plugins() -> dict[str, str]:
    found = {}
    for ep in entry_points(group="detente.models"):
        found[ep.name] = ep.value
    return found


def available_models() -> list[str]:
    """Names of every registered model, built-ins first."""
    names = list(_BUILTIN)
    for extra in (*_plugins(), *_REGISTERED):
        if extra not in names:
            names.append(extra)
    return names


def get_model_class(name: str) -> type[ForecastModel]:
    if name in _REGISTERED:
        return _REGISTERED[name]
    target = _BUILTIN.get(name) or _plugins().get(name)
    if target is None:
        raise ModelError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    _REGISTERED[name] = cls
    return cls


def get_model(name: str, /, **params: Any) -> ForecastModel:
    """An instance of model ``name`` with ``params`` (``preset=...`` selects a preset)."""
    return get_model_class(name)(**params)


def param_defaults(cls: type[ForecastModel], limit: int = 60) -> dict[str, Any]:
    """A model's default parameters for display: numbers, strings, booleans and None as
    they are; anything else as its repr, long tables (the ensemble's fitted capability
    factors) summarised by their size."""
    out: dict[str, Any] = {}
    for key, field in cls.Params.model_fields.items():
        value = field.get_default(call_default_factory=True)
        if value is None or isinstance(value, (int, float, str, bool)):
            out[key] = value
            continue
        text = repr(value)
        if len(text) > limit and isinstance(value, dict):
            text = "{" + ", ".join(f"{k}: {len(v)} entries" if isinstance(v, dict)
                                   else f"{k}: ..." for k, v in value.items()) + "}"
        out[key] = Shown(text)
    return out


class Shown(str):
    """Display text standing for a non-scalar default (printed without quotes)."""

    def __repr__(self) -> str:
        return str(self)


def forecast_each(scenario: Any, models: Sequence[ForecastModel], *, strict: bool,
                  seed: Any = None) -> tuple[list[Any], list[tuple[str, str]]]:
    """Forecast ``scenario`` with every model (non-convergence warnings silenced: it is
    recorded in each forecast). With ``strict`` a model that cannot handle the scenario
    raises; otherwise it is skipped and listed with its reason."""
    import warnings

    from detente.errors import NotConvergedWarning

    forecasts: list[Any] = []
    skipped: list[tuple[str, str]] = []
    for model in models:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotConvergedWarning)
            try:
                forecasts.append(model.forecast(scenario, rng=seed))
            except ModelError as exc:
                if strict:
                    raise
                skipped.append((model.name, str(exc)))
    return forecasts, skipped
