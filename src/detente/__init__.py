"""detente: forecast and war-game multi-party negotiations.

The small public API::

    from detente import load_scenario, get_model, forecast
    s = load_scenario("ukraine-2025")
    f = get_model("compromise").forecast(s)
"""

from __future__ import annotations

__version__ = "0.1.0"

from detente.errors import DetenteError, ModelError, NotConvergedWarning, ScenarioError
from detente.models.base import Forecast, ForecastModel
from detente.models.registry import available_models, get_model
from detente.scenario.load import load_scenario
from detente.scenario.schema import Scenario

__all__ = [
    "DetenteError",
    "Forecast",
    "ForecastModel",
    "ModelError",
    "NotConvergedWarning",
    "Scenario",
    "ScenarioError",
    "__version__",
    "available_models",
    "forecast",
    "get_model",
    "load_scenario",
]


def forecast(scenario: Scenario | str, model: str = "compromise", *, rng=None, **params):
    """Load ``scenario`` if it is a path or bundled name, then forecast it with ``model``."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return get_model(model, **params).forecast(scenario, rng=rng)
