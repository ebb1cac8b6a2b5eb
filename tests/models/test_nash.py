"""NashBargainingModel: §3.2's NBS rows and the conformance expectations."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from detente.errors import ParamsError
from detente.models.nash import NashBargainingModel, nash_solution
from detente.models.registry import get_model_class
from detente.scenario.schema import Scenario
from tests.conflict.helpers import territory_actors, territory_scenario

A = pytest.approx


def _out(scenario, **params):
    return NashBargainingModel(**params).forecast(scenario).outcome_of("territory")


def test_registered():
    assert get_model_class("nash") is NashBargainingModel


def test_costless_status_quo_stays_at_q():
    f = NashBargainingModel().forecast(territory_scenario(status_quo=20))
    assert f.outcome_of("territory") == A(20)
    assert f.details["territory"]["disagreement"] == "status_quo"


def test_war_disagreement_21_9_and_feasible_set():
    f = NashBargainingModel().forecast(territory_scenario(war=True))
    d = f.details["territory"]
    assert d["disagreement"] == "war"
    assert f.outcome_of("territory") == A(21.9, abs=0.05)
    assert d["feasible"] == [A(12.5, abs=0.05), A(26.1, abs=0.05)]


def test_ru_ua_only():
    s = territory_scenario(war=True, only={"RU", "UA"})
    assert _out(s, weights="equal") == A(10.6, abs=0.05)
    assert _out(s) == A(5.0, abs=1e-6)
    f = NashBargainingModel().forecast(s)
    assert f.details["territory"]["feasible"] == [A(0.0), A(26.1, abs=0.05)]


def test_quadratic_bad_disagreement_is_the_compromise():
    s = territory_scenario()
    assert _out(s, utility="quadratic", disagreement="limit") == A(13652.5 / 277)
    assert _out(s, preset="compromise_limit") == A(49.29, abs=0.005)
    # and a finite but very bad no deal converges to it
    rows = territory_actors()
    pos = np.array([r["x"] for r in rows], float)
    sal = np.array([r["s"] for r in rows])
    cap = np.array([r["c"] for r in rows], float)
    sol = nash_solution(pos, sal, cap, np.full(7, -1e4), lo=0, hi=100, utility="quadratic")
    assert sol["outcome"] == A(49.29, abs=0.01)


def test_no_status_quo_linear_falls_back_to_weighted_median():
    # c*s weights at 5 / 35 / ...: cumulative 90, 140 >= 138.5 -> 35 (§3.2's median row)
    assert _out(territory_scenario()) == A(35)


def test_empty_feasible_set_returns_the_no_deal_point():
    s = territory_scenario(war=True, only={"RU", "UA"})
    data = s.model_dump()
    data["dynamics"] = [{"actor": "RU", "monthly_cost": 0.0, "drift": -2.0},
                        {"actor": "UA", "monthly_cost": 0.0, "drift": 2.0}]
    s2 = Scenario(**data)
    f = NashBargainingModel().forecast(s2)
    assert f.details["territory"]["feasible"] is None
    assert f.outcome_of("territory") == A(15.0)  # realised drift 0: the front stays


def test_invalid_params():
    with pytest.raises(ParamsError):
        NashBargainingModel(weights="power")
    with pytest.raises(ParamsError):
        NashBargainingModel(bogus=1)
    m = NashBargainingModel(utility="quadratic")
    assert NashBargainingModel(m.params.model_dump()) == m


def _simple(positions, caps, sq=None, sal=None):
    sal = sal or [50] * len(positions)
    return Scenario(
        id="s", name="s",
        issues=[{"id": "territory", "name": "t", "status_quo": sq}],
        actors=[{"id": f"a{i}", "name": f"a{i}", "capability": c} for i, c in enumerate(caps)],
        stances=[{"actor": f"a{i}", "issue": "territory", "position": x, "salience": s}
                 for i, (x, s) in enumerate(zip(positions, sal, strict=True))],
    )


@pytest.mark.parametrize("sq", [None, 10.0])
def test_unanimity_and_single_actor(sq):
    assert _out(_simple([60, 60, 60], [1, 2, 3], sq=sq)) == A(60)
    assert _out(_simple([42], [5], sq=sq)) == A(42)


def test_order_scaling_determinism_purity_pickle():
    s = territory_scenario(war=True)
    base = _out(s)
    data = s.model_dump()
    data["actors"] = list(reversed(data["actors"]))
    data["stances"] = list(reversed(data["stances"]))
    assert _out(Scenario(**data)) == A(base, abs=1e-7)
    data = s.model_dump()
    for a in data["actors"]:
        a["capability"] *= 7.5
    assert _out(Scenario(**data)) == A(base, abs=1e-7)
    m = NashBargainingModel()
    before = s.model_dump()
    f1, f2 = m.forecast(s, rng=1), m.forecast(s, rng=1)
    assert np.array_equal(f1.outcome, f2.outcome)
    assert s.model_dump() == before
    m2 = pickle.loads(pickle.dumps(m))
    assert m2 == m
    assert pickle.loads(pickle.dumps(f1)).outcome_of("territory") == A(base)
    assert 0 <= base <= 100
