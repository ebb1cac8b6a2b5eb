"""Distributions over inputs: shapes, bounds, the inverse CDFs and the error messages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detente.scenario.schema import Uncertainty
from detente.simulate.perturb import (
    DEFAULT_PRIOR,
    UncertaintyError,
    batch_scenario,
    compile_plan,
    match_ids,
)

from ._fixtures import toy


def _sample(sc, unc, n=4000, seed=0):
    plan = compile_plan(sc, unc)
    rng = np.random.default_rng(seed)
    u = rng.random((n, plan.n_slots))
    return plan, plan.apply_slots(u)


def test_match_ids_wildcards_and_lists():
    ids = ("ru-kremlin", "ru-army", "ua-gov", "us")
    assert match_ids(None, ids) == [0, 1, 2, 3]
    assert match_ids("*", ids) == [0, 1, 2, 3]
    assert match_ids("ru-*", ids) == [0, 1]
    assert match_ids("us, ua-gov", ids) == [2, 3]
    assert match_ids("nobody", ids) == []


def test_default_prior_is_used_when_none_declared():
    plan = compile_plan(toy())
    assert [f.target for f in plan.factors] == ["position", "salience", "capability"]
    assert plan.n_slots == 3 * 5  # every present stance, three targets
    assert compile_plan(toy(), DEFAULT_PRIOR).n_slots == plan.n_slots


def test_bounds_respected_under_wide_perturbations():
    unc = [{"target": "position", "distribution": "normal", "params": {"sd": 500}},
           {"target": "salience", "distribution": "uniform", "params": {"delta": 300}},
           {"target": "capability", "distribution": "normal", "params": {"sd": 50}}]
    plan, b = _sample(toy(), unc)
    a = plan.arrays
    pos = b.position[:, a.present]
    lo = np.broadcast_to(a.scale_min, a.present.shape)[a.present]
    hi = np.broadcast_to(a.scale_max, a.present.shape)[a.present]
    assert np.all(pos >= lo) and np.all(pos <= hi)
    assert np.all((b.salience >= 0) & (b.salience <= 1))
    assert np.all(b.capability >= 0)
    # absent cells stay absent
    assert np.all(np.isnan(b.position[:, 2, 1])) and np.all(b.salience[:, 2, 1] == 0)


def test_truncated_normal_matches_scipy():
    unc = [{"target": "position", "actor": "x", "issue": "a", "distribution": "normal",
            "params": {"sd": 20}}]
    _, b = _sample(toy(), unc, n=20000)
    v = b.position[:, 0, 0]
    ref = stats.truncnorm((0 - 10) / 20, (100 - 10) / 20, loc=10, scale=20)
    assert abs(v.mean() - ref.mean()) < 0.3
    assert abs(v.std() - ref.std()) < 0.3
    assert v.min() >= 0


def test_uniform_triangular_discrete_lognormal():
    unc = [
        {"target": "position", "actor": "y", "issue": "a", "distribution": "uniform",
         "params": {"low": 40, "high": 80}},
        {"target": "position", "actor": "z", "issue": "a", "distribution": "triangular",
         "params": {"low": 70, "high": 100, "mode": 100}},
        {"target": "salience", "actor": "x", "issue": "a", "distribution": "discrete",
         "params": {"values": [20, 90], "weights": [1, 3]}},
        {"target": "capability", "actor": "y", "issue": "b", "distribution": "lognormal",
         "params": {"sigma": 0.5}},
    ]
    _, b = _sample(toy(), unc, n=20000)
    u = b.position[:, 1, 0]
    assert 40 <= u.min() and u.max() <= 80 and abs(u.mean() - 60) < 0.5
    t = b.position[:, 2, 0]
    assert abs(t.mean() - (70 + 100 + 100) / 3) < 0.3
    d = b.salience[:, 0, 0]
    assert set(np.unique(d)) == {0.2, 0.9}
    assert abs(np.mean(d == 0.9) - 0.75) < 0.02
    c = b.capability[:, 1, 1]
    assert abs(np.median(c) - 5.0) < 0.1
    assert abs(np.std(np.log(c)) - 0.5) < 0.02


def test_zero_width_returns_the_exact_inputs():
    unc = [{"target": "position", "distribution": "normal", "params": {"sd": 0}},
           {"target": "salience", "distribution": "uniform", "params": {"delta": 0}},
           {"target": "capability", "distribution": "lognormal", "params": {"sigma": 0}},
           {"target": "position", "distribution": "triangular", "params": {"delta": 0}}]
    plan, b = _sample(toy(), unc, n=50)
    a = plan.arrays
    for name in ("position", "salience", "capability"):
        got = getattr(b, name)
        want = np.broadcast_to(getattr(a, name), got.shape)
        assert np.array_equal(got, want, equal_nan=True), name


def test_common_draw_moves_cells_together():
    unc = [{"target": "position", "issue": "a", "distribution": "normal",
            "params": {"sd": 5, "common": True}}]
    plan, b = _sample(toy(), unc, n=100)
    assert plan.n_slots == 1
    # the same quantile for every cell: the draws rank identically on every actor
    ranks = np.argsort(np.argsort(b.position[:, :, 0], axis=0), axis=0)
    assert np.array_equal(ranks[:, 0], ranks[:, 1]) and np.array_equal(ranks[:, 1], ranks[:, 2])


def test_param_and_dynamics_targets():
    sc = toy(dynamics=[{"actor": "x", "monthly_cost": 0.01, "drift": 1.0}])
    unc = [{"target": "param:weighted_median.quantile", "distribution": "discrete",
            "params": {"values": [0.3, 0.7]}},
           {"target": "monthly_cost", "actor": "*", "distribution": "uniform",
            "params": {"low": 0.0, "high": 0.05}}]
    plan, b = _sample(sc, unc, n=200)
    q = b.params["weighted_median"]["quantile"]
    assert set(np.unique(q)) == {0.3, 0.7}
    cost = b.dynamics["monthly_cost"]["x"]
    assert cost.min() >= 0 and cost.max() <= 0.05
    s = batch_scenario(sc, b, 3)
    assert s.dynamics[0].monthly_cost == pytest.approx(cost[3])
    assert plan.needs_scenario


@pytest.mark.parametrize("entry, words", [
    ({"target": "position", "actor": "nobody", "distribution": "normal", "params": {"sd": 1}},
     "uncertainty[0].actor"),
    ({"target": "position", "distribution": "normal", "params": {}}, "needs 'sd'"),
    ({"target": "position", "distribution": "normal", "params": {"sd": 1, "sdd": 2}},
     "unknown key"),
    ({"target": "weight", "distribution": "normal", "params": {"sd": 1}}, "unknown target"),
    ({"target": "param:compromise.nope", "distribution": "uniform",
      "params": {"low": 0, "high": 1}}, "no parameter 'nope'"),
    ({"target": "monthly_cost", "distribution": "uniform", "params": {"delta": 1}},
     "dynamics"),
    ({"target": "position", "distribution": "weibull", "params": {}}, "distribution"),
])
def test_errors_name_the_entry_and_fix(entry, words):
    with pytest.raises(UncertaintyError, match="uncertainty\\[0\\]") as exc:
        compile_plan(toy(), [entry])
    assert words in str(exc.value)


def test_uncertainty_objects_from_the_scenario():
    unc = [Uncertainty(target="salience", actor="y", distribution="normal",
                       params={"sd": 10}, group="y-cares")]
    sc = toy([u.model_dump() for u in unc])
    plan = compile_plan(sc)
    assert plan.factors[0].group == "y-cares"
    assert plan.n_slots == 2
