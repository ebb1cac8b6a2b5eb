"""What-if interventions against the baseline, with common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from detente.models.registry import get_model
from detente.scenario.load import load_scenario
from detente.simulate.whatif import WhatIfError, parse_interventions, whatif

from ._fixtures import toy

ZERO = [{"target": "position", "distribution": "normal", "params": {"sd": 0}}]


def _compromise(positions, weights):
    return float(np.dot(positions, weights) / np.sum(weights))


def test_shift_drop_salience_capability_change_compromise_as_computed():
    sc = toy()
    ivs = [
        {"name": "y-moves", "shift": {"actor": "y", "issue": "a", "delta": 20}},
        {"name": "z-exits", "drop": "z"},
        {"name": "x-cares-less", "salience": {"actor": "x", "issue": "a", "value": 40}},
        {"name": "z-doubles", "capability": {"actor": "z", "factor": 2}},
    ]
    r = whatif(sc, ivs, ["compromise"])
    rows = {(x["intervention"], x["issue"]): x for x in r.rows()}
    w = np.array([3 * 0.8, 2 * 0.5, 1 * 1.0])
    base = _compromise([10, 60, 95], w)
    assert rows["y-moves", "a"]["baseline"] == pytest.approx(base)
    assert rows["y-moves", "a"]["value"] == pytest.approx(_compromise([10, 80, 95], w))
    assert rows["z-exits", "a"]["value"] == pytest.approx(_compromise([10, 60], w[:2]))
    assert rows["z-exits", "b"]["change"] == pytest.approx(0)  # z had no stance on b
    assert rows["x-cares-less", "a"]["value"] == pytest.approx(
        _compromise([10, 60, 95], [3 * 0.4, 1.0, 1.0]))
    assert rows["z-doubles", "a"]["value"] == pytest.approx(
        _compromise([10, 60, 95], [2.4, 1.0, 2.0]))


def test_shift_is_clipped_to_the_scale():
    r = whatif(toy(), [{"name": "far", "shift": {"actor": "x", "issue": "b", "delta": 100}}],
               ["weighted_median", "compromise"])
    assert r.point[1, 1, 1] <= 10


def test_monte_carlo_change_uses_common_random_numbers():
    sc = toy()
    iv = [{"name": "y-moves", "shift": {"actor": "y", "issue": "a", "delta": 20}}]
    r = whatif(sc, iv, ["compromise"], n=200, seed=3, executor="serial")
    assert r.draws.shape == (2, 1, 200, 2)
    d = r.draws[1, 0, :, 1] - r.draws[0, 0, :, 1]
    assert np.all(d == 0)  # issue b untouched: identical draws, change exactly zero
    row = next(x for x in r.rows() if x["issue"] == "a")
    assert row["change_q05"] > 0 and row["p_up"] == 1.0
    # the baseline draws equal a plain Monte Carlo with the same seed
    from detente.simulate.montecarlo import montecarlo

    mc = montecarlo(sc, ["compromise"], n=200, seed=3, executor="serial")
    assert np.array_equal(mc.outcome[0], r.draws[0, 0])


def test_cost_shock_moves_nash_with_war_disagreement():
    sc = load_scenario("ukraine-2025")
    who = sc.dynamics[0].actor
    r = whatif(sc, [{"name": "cost", "cost": {"actor": who, "factor": 5}}],
               ["nash", "compromise"])
    k = sc.issue_ids.index(sc.conflict.issue)
    assert r.point[1, 1, k] == r.point[0, 1, k]  # compromise ignores costs
    assert r.point[1, 0, k] != pytest.approx(r.point[0, 0, k])


def test_set_and_guarantee_become_model_parameters():
    sc = toy()
    r = whatif(sc, [{"name": "q", "set": {"weighted_median.quantile": 0.9}},
                    {"name": "g", "guarantee": 0.8}], ["weighted_median"])
    want = get_model("weighted_median", quantile=0.9).forecast(sc).outcome
    np.testing.assert_allclose(r.point[1, 0], want)
    assert any("guarantee" in n for n in r.notes)


@pytest.mark.parametrize("iv, words", [
    ({"name": "a", "shift": {"actor": "nobody", "issue": "a", "delta": 1}}, "unknown actor"),
    ({"name": "a", "shift": {"actor": "x", "issue": "zz", "delta": 1}}, "unknown issue"),
    ({"name": "a", "shift": {"actor": "x", "issue": "a"}}, "exactly one"),
    ({"name": "a", "cost": {"actor": "x", "factor": 2}}, "dynamics"),
    ({"name": "a", "drop": ["x", "y", "z"]}, "every actor"),
    ({"name": "a", "set": {"compromise.nope": 1}}, "no parameter"),
])
def test_bad_interventions(iv, words):
    with pytest.raises(WhatIfError, match=words):
        whatif(toy(), [iv], ["compromise"])


def test_parse_errors_name_the_entry():
    with pytest.raises(WhatIfError, match=r"whatif\[0\]\.shif"):
        parse_interventions([{"name": "a", "shif": {}}])
    with pytest.raises(WhatIfError, match="unique"):
        parse_interventions([{"name": "a"}, {"name": "a"}])
