"""§5.4 worked numbers and the scenario-driven survival curve."""

from __future__ import annotations

import numpy as np
import pytest

from detente.conflict.implementation import (
    ImplementationParams,
    deal_survival,
    hazard,
    survival,
)
from detente.errors import ModelError

from .helpers import war_scenario

A = pytest.approx


@pytest.mark.parametrize(("tau", "G", "p24"), [(0.0, 0.0, 0.79), (0.1, 0.0, 0.34),
                                               (0.0, 1.0, 0.91), (0.1, 1.0, 0.65)])
def test_survival_54(tau, G, p24):
    assert survival([tau] * 24, G)[-1] == A(p24, abs=0.005)


def test_hazard_validates():
    with pytest.raises(ModelError):
        hazard(0.0, guarantee=1.5)
    assert hazard(-1.0) == A(1 - np.exp(-0.01))


def test_deal_survival_temptation_from_the_attrition_path():
    s = war_scenario()
    # a deal at the edge of the range: RU (high side) accepts x >= .664; at .564 RU is
    # tempted by 0.1 each month (its war value .664 minus .564)
    curve = deal_survival(s, {"share": 0.564}, params=ImplementationParams(months=1))
    # the front is frozen by the ceasefire, so the temptation stays .1
    assert curve.temptation[0] == A(0.1)
    assert curve.tempted[0] == "RU"
    inside = deal_survival(s, {"share": 0.78})
    assert max(inside.temptation) == 0.0
    assert inside.final == A(np.exp(-0.24))
    guaranteed = deal_survival(s, {"share": 0.78}, guarantee=1.0)
    assert guaranteed.final == A(np.exp(-0.096))
    assert guaranteed.at(0) == 1.0 and guaranteed.at(24) == guaranteed.final
