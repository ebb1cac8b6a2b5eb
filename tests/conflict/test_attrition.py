"""§5.1-§5.3 worked numbers and the monthly path."""

from __future__ import annotations

import pytest

from detente.conflict.attrition import (
    AttritionParams,
    attrition_path,
    attrition_range,
    commitment_test,
    deal_commitment,
    fearon_range,
    war_values,
)
from detente.errors import ModelError
from detente.scenario.schema import Scenario

from .helpers import war_scenario

A = pytest.approx


def test_fearon_range_51():
    assert fearon_range(0.6, 0.10, 0.15) == (A(0.50), A(0.75))
    with pytest.raises(ModelError):
        fearon_range(1.2, 0.1, 0.1)


@pytest.mark.parametrize(("z", "m_ru", "m_ua", "low", "high"), [
    (0.70, 0.005, 0.005, 0.664, 0.904),
    (0.73, 0.005, 0.005, 0.694, 0.934),
    (0.73, -0.005, -0.005, 0.574, 0.814),
    (0.70, 0.015, -0.010, 0.784, 0.724),
])
def test_attrition_table_52(z, m_ru, m_ua, low, high):
    lo, hi = attrition_range(z, drift_a=m_ru, drift_b=m_ua, cost_a=0.008, cost_b=0.012,
                             months=12)
    assert (lo, hi) == (A(low), A(high))
    assert (hi - lo) == A(0.24 if m_ru == m_ua else -0.06)


def test_path_reproduces_table_rows_from_a_scenario():
    # month 0: z = .70; six months of common drift +.005 -> z = .73; an aid surge at month 6
    s = war_scenario()
    path = attrition_path(s, months=6)
    assert (path.months[0].low, path.months[0].high) == (A(0.664), A(0.904))
    assert path.months[6].front == A(0.73)
    assert (path.months[6].low, path.months[6].high) == (A(0.694), A(0.934))
    surge = war_scenario(events=[{"month": 6, "kind": "drift_change", "value": -0.005,
                                  "label": "aid surge"}])
    m6 = attrition_path(surge, months=6).months[6]
    assert (m6.low, m6.high) == (A(0.574), A(0.814))
    assert m6.events == ("aid surge",)


def test_mutual_optimism_closes_the_range_and_scale_units():
    s = war_scenario(scale=(0, 100), drift_ru=0.015, drift_ua=-0.010)
    m0 = attrition_path(s, months=0).months[0]
    assert (m0.low, m0.high) == (A(0.784), A(0.724))
    assert (m0.low_x, m0.high_x) == (A(78.4), A(72.4))
    assert not m0.open


def test_range_opens_when_beliefs_converge_and_closes_after_a_shock():
    s = war_scenario(drift_ru=0.015, drift_ua=-0.010,
                     events=[{"month": 10, "kind": "drift_change", "actor": "RU",
                              "value": 0.03}])
    path = attrition_path(s, months=12, learning=0.3)
    assert not path.months[0].open
    assert path.first_open is not None and 0 < path.first_open < 10
    kinds = [c for _, c in path.transitions]
    assert kinds[0] == "opens" and "closes" in kinds


def test_events_cost_front_and_horizon():
    s = war_scenario(events=[{"month": 1, "kind": "front_shift", "value": -0.05},
                             {"month": 2, "kind": "cost_change", "actor": "RU", "value": 0.02},
                             {"month": 3, "kind": "horizon_change", "value": 6}])
    p = attrition_path(s, months=3)
    assert p.months[1].front == A(0.70 + 0.005 - 0.05)
    assert p.months[2].costs["RU"] == A(0.02)
    assert p.months[3].remaining == 6
    assert p.months[3].width == A((0.02 + 0.012) * 6)
    countdown = attrition_path(war_scenario(), months=3, horizon="countdown")
    assert countdown.months[3].remaining == 9


def test_war_values_include_bystanders():
    s = war_scenario(scale=(0, 100))
    wv = war_values(s, 0)
    assert wv["RU"] == (A(76.0), A(0.096))
    assert wv["UA"] == (A(76.0), A(0.144))


def test_needs_conflict():
    s = Scenario(id="x", name="x", issues=[{"id": "a", "name": "a"}],
                 actors=[{"id": "A", "name": "A", "capability": 1}],
                 stances=[{"actor": "A", "issue": "a", "position": 1, "salience": 1}])
    with pytest.raises(ModelError, match="conflict"):
        attrition_path(s)
    with pytest.raises(Exception):  # noqa: B017 - frozen dataclass: any mutation error will do
        AttritionParams(learning=2)


def test_powell_53():
    r = commitment_test(0.5, 0.45, delta=0.9, war_cost=1)
    assert (r.war_value, r.peace_value, r.prefers_war) == (A(4.00), A(4.15), False)
    r = commitment_test(0.5, 0.30, delta=0.9, war_cost=1)
    assert (r.war_value, r.peace_value, r.prefers_war) == (A(4.00), A(2.80), True)


def test_deal_commitment_from_scenario_meta():
    # NATO membership (0..1) would cut RU's future share by 0.4 -> RU prefers war now
    s = war_scenario(extra_issues=[{"id": "nato", "name": "NATO", "scale_min": 0,
                                    "scale_max": 1, "status_quo": 0}],
                     extra_stances=[{"actor": "UA", "issue": "nato", "position": 1,
                                     "salience": 50}],
                     meta={"power_shift": {"nato": -0.4},
                           "commitment": {"discount": 0.9, "war_cost": {"RU": 1, "UA": 1}}})
    res = deal_commitment(s, {"share": 0.7, "nato": 1.0})
    assert res["delta_p_high"] == A(-0.4)
    assert res["prefers_war"] == ["RU"]
    assert deal_commitment(s, {"share": 0.7, "nato": 0.0})["prefers_war"] == []
    assert deal_commitment(war_scenario(), {"share": 0.7}) is None
