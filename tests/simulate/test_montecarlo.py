"""Monte Carlo: reproducibility, the batched fast paths, summaries, interruption."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from detente.errors import DetenteError, NotConvergedWarning
from detente.models.registry import get_model
from detente.scenario.load import load_scenario
from detente.simulate.batch import batch_adapter, needs_scenario
from detente.simulate.montecarlo import default_chunk_size, montecarlo

from ._fixtures import toy

ZERO = [{"target": "position", "distribution": "normal", "params": {"sd": 0}},
        {"target": "salience", "distribution": "normal", "params": {"sd": 0}},
        {"target": "capability", "distribution": "lognormal", "params": {"sigma": 0}}]
FAST = ["compromise", "weighted_median", "mean", "status_quo", "expected_utility"]


@pytest.fixture(scope="module")
def emission():
    return load_scenario("emission-bdm1994")


@pytest.mark.parametrize("name", FAST + ["nash", "spatial"])
def test_zero_width_perturbations_give_the_point_forecast(name):
    sc = toy()
    model = get_model(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        point = model.forecast(sc, rng=0).outcome
    r = montecarlo(sc, [name], n=30, seed=5, uncertainty=ZERO, executor="serial")
    assert r.outcome.shape == (1, 30, 2)
    np.testing.assert_allclose(r.outcome[0], np.broadcast_to(point, (30, 2)), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(r.point[0], point, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", FAST)
def test_batched_path_equals_the_per_draw_loop(name, emission):
    assert batch_adapter(get_model(name)) is not None
    for sc in (toy(), emission):
        if name == "status_quo" and sc is emission:
            continue  # no status quo in that case
        kw = dict(n=120, seed=11, executor="serial", chunk_size=50)
        fast = montecarlo(sc, [name], **kw)
        slow = montecarlo(sc, [name], force_loop=True, **kw)
        np.testing.assert_allclose(fast.outcome, slow.outcome, rtol=1e-12, atol=1e-12)
        assert np.array_equal(fast.converged, slow.converged)


def test_results_do_not_depend_on_chunking(emission):
    models = ["compromise", "weighted_median", "expected_utility"]
    a = montecarlo(emission, models, n=200, seed=3, executor="serial", chunk_size=1)
    b = montecarlo(emission, models, n=200, seed=3, executor="serial", chunk_size=64)
    c = montecarlo(emission, models, n=200, seed=3, executor="serial")
    assert np.array_equal(a.outcome, b.outcome) and np.array_equal(b.outcome, c.outcome)
    assert np.array_equal(a.converged, c.converged)


def test_seed_changes_draws_and_prefix_is_stable(emission):
    a = montecarlo(emission, ["compromise"], n=100, seed=1, executor="serial")
    b = montecarlo(emission, ["compromise"], n=100, seed=2, executor="serial")
    c = montecarlo(emission, ["compromise"], n=40, seed=1, executor="serial")
    assert not np.array_equal(a.outcome, b.outcome)
    # draw b's stream is spawn(seed, n)[b]: the same for any n
    assert np.array_equal(a.outcome[:, :40], c.outcome)


def test_summary_quantiles_ranges_and_tidy(emission):
    r = montecarlo(emission, ["compromise", "expected_utility"], n=300, seed=0,
                   executor="serial")
    rows = r.summary()
    assert [x["model"] for x in rows] == ["compromise", "expected_utility"]
    row = rows[0]
    v = r.values("compromise", "delay")
    assert row["q50"] == pytest.approx(np.median(v))
    assert row["q05"] <= row["q25"] <= row["q50"] <= row["q75"] <= row["q95"]
    assert row["mean"] == pytest.approx(v.mean()) and row["sd"] == pytest.approx(v.std(ddof=1))
    assert r.prob_in_range("compromise", "delay", 4, 10) == 1.0
    p = r.prob_in_range("compromise", "delay", low=7.39)
    assert 0 < p < 1 and p == pytest.approx(np.mean(v >= 7.39))
    assert 0 <= r.convergence_rate() <= 1
    assert r.convergence_rate("compromise") == 1.0
    tidy = r.tidy()
    assert len(tidy) == 2 * 300 and set(tidy[0]) == {"draw", "model", "issue", "outcome",
                                                      "converged"}
    text = r.to_csv()
    assert text.splitlines()[0] == "draw,model,issue,outcome,converged"
    assert len(text.splitlines()) == 601
    d = r.to_dict()
    assert d["n_draws"] == 300 and not d["partial"] and "default prior" in d["notes"][0]


def test_default_prior_spread_is_sensible(emission):
    r = montecarlo(emission, ["compromise"], n=500, seed=0, executor="serial")
    row = r.summary()[0]
    assert abs(row["mean"] - row["point"]) < 0.3
    assert 0.05 < row["sd"] < 1.0  # 5% of a 6-point scale on positions, plus weights


def test_ctrl_c_returns_the_draws_done_so_far(emission):
    calls = []

    def progress(done, total):
        calls.append(done)
        if done >= 100:
            raise KeyboardInterrupt

    r = montecarlo(emission, ["compromise"], n=1000, seed=0, executor="serial",
                   chunk_size=50, progress=progress)
    assert r.partial and r.n_draws == 100
    full = montecarlo(emission, ["compromise"], n=1000, seed=0, executor="serial",
                      chunk_size=50)
    assert np.array_equal(r.outcome, full.outcome[:, :100])
    assert "interrupted" in r.notes[-1]


def test_model_parameter_uncertainty(emission):
    unc = [{"target": "param:weighted_median.quantile", "distribution": "discrete",
            "params": {"values": [0.2, 0.8]}}]
    r = montecarlo(emission, ["weighted_median"], n=200, seed=0, uncertainty=unc,
                   executor="serial")
    lo = get_model("weighted_median", quantile=0.2).forecast(emission).outcome[0]
    hi = get_model("weighted_median", quantile=0.8).forecast(emission).outcome[0]
    assert set(np.unique(r.outcome)) == {lo, hi}


def test_scenario_path_for_models_that_read_dynamics():
    sc = load_scenario("ukraine-2025")
    nash = get_model("nash")
    assert needs_scenario(nash) and not needs_scenario(get_model("compromise"))
    unc = [{"target": "monthly_cost", "actor": "*", "distribution": "uniform",
            "params": {"low": 0.0, "high": 0.05}}]
    r = montecarlo(sc, ["nash", "compromise"], n=12, seed=0, uncertainty=unc,
                   executor="serial")
    k = sc.issue_ids.index(sc.conflict.issue)
    assert np.ptp(r.outcome[0, :, k]) > 0  # war costs move nash's disagreement point
    assert np.all(np.ptp(r.outcome[1], axis=0) == 0)  # the compromise model ignores dynamics


def test_agreement_probability_uses_ratification():
    sc = load_scenario("ukraine-2025")
    r = montecarlo(sc, ["compromise"], n=8, seed=0, executor="serial", agreement=True)
    p = r.agreement_probability()
    assert set(p) == set(sc.issue_ids)
    assert all(math.isnan(v) or 0 <= v <= 1 for v in p.values())
    assert montecarlo(sc, ["compromise"], n=8, executor="serial").agreement_probability() \
        is None


def test_errors():
    with pytest.raises(DetenteError, match="-n"):
        montecarlo(toy(), ["compromise"], n=-1, executor="serial")
    with pytest.raises(DetenteError, match="unknown model"):
        montecarlo(toy(), ["nope"], n=5, executor="serial")
    with pytest.raises(DetenteError, match="--executor"):
        montecarlo(toy(), ["compromise"], n=5, executor="threads")


def test_chunk_size_depends_on_n_only():
    assert default_chunk_size(10_000) == 625
    assert default_chunk_size(100) == 25
    assert default_chunk_size(10**7) == 1000
