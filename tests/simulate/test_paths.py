"""Monte Carlo round paths: per-round quantiles of round-based models' forecasts (fans)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from detente.errors import NotConvergedWarning
from detente.models.registry import get_model
from detente.scenario.arrays import scenario_arrays
from detente.scenario.load import load_scenario
from detente.simulate.batch import has_round_path, round_path
from detente.simulate.montecarlo import PATH_BINS, QUANTILES, montecarlo

from ._fixtures import toy

ZERO = [{"target": "position", "distribution": "normal", "params": {"sd": 0}},
        {"target": "salience", "distribution": "normal", "params": {"sd": 0}},
        {"target": "capability", "distribution": "lognormal", "params": {"sigma": 0}}]


@pytest.fixture(scope="module")
def emission():
    return load_scenario("emission-bdm1994")


@pytest.fixture(scope="module")
def eu50(emission):
    return montecarlo(emission, ["compromise", "expected_utility"], n=50, seed=3,
                      executor="serial", paths=True)


def _forecast(name, sc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        return get_model(name).forecast(sc, rng=0)


def test_paths_only_for_round_based_models(eu50, emission):
    assert set(eu50.paths) == {"expected_utility"}
    p = eu50.paths["expected_utility"]
    assert p.levels == QUANTILES and p.n == 50
    assert p.values.shape == (len(QUANTILES), p.rounds + 1, 1)
    assert np.all(np.diff(p.values, axis=0) >= -1e-12)  # quantiles are ordered
    lo, hi = emission.issues[0].scale_min, emission.issues[0].scale_max
    assert np.all((p.values >= lo) & (p.values <= hi))
    # closed-form models only: no paths, and a note says why
    r = montecarlo(emission, ["compromise"], n=20, seed=3, executor="serial", paths=True)
    assert r.paths == {} and any("round-based" in x for x in r.notes)
    # off by default
    assert montecarlo(emission, ["expected_utility"], n=5, executor="serial").paths == {}


def test_point_path_is_the_models_own_round_forecast(eu50, emission):
    f = _forecast("expected_utility", emission)
    det = f.details[emission.issue_ids[0]]
    series = det[det["forecast"]["kind"]]
    p = eu50.paths["expected_utility"]
    got = p.point[:, 0]
    np.testing.assert_allclose(got[:len(series)], series, rtol=0, atol=1e-12)
    assert np.all(got[len(series):] == series[-1])


def test_round_zero_quantiles_match_the_draws(emission):
    """Round 0 is the c·s-weighted median of each draw's perturbed initial positions, i.e.
    the weighted-median baseline on the same draws: the quantiles read from the histogram
    agree with the exact (inverse-CDF) quantiles of those draws to within one bin."""
    sc = emission
    r = montecarlo(sc, ["weighted_median", "expected_utility"], n=400, seed=9,
                   executor="serial", paths=True)
    p = r.paths["expected_utility"]
    exact = np.quantile(r.outcome[0, :, 0], QUANTILES, method="inverted_cdf")
    width = sc.issues[0].scale_max - sc.issues[0].scale_min
    np.testing.assert_allclose(p.values[:, 0, 0], exact, rtol=0, atol=width / PATH_BINS)


def test_zero_width_perturbations_collapse_the_fan():
    sc = toy()
    r = montecarlo(sc, ["expected_utility", "spatial"], n=12, seed=1, uncertainty=ZERO,
                   executor="serial", paths=True)
    for name, p in r.paths.items():
        width = np.array([i.scale_max - i.scale_min for i in sc.issues])
        for li in range(len(QUANTILES)):
            assert np.all(np.abs(p.values[li] - p.point) <= width / PATH_BINS + 1e-12), name


def test_batched_and_loop_paths_agree(emission):
    a = montecarlo(emission, ["expected_utility"], n=40, seed=2, executor="serial",
                   paths=True)
    b = montecarlo(emission, ["expected_utility"], n=40, seed=2, executor="serial",
                   paths=True, force_loop=True)
    assert np.array_equal(a.paths["expected_utility"].values,
                          b.paths["expected_utility"].values)


def test_paths_do_not_depend_on_chunking(emission):
    a = montecarlo(emission, ["expected_utility"], n=60, seed=4, executor="serial",
                   paths=True, chunk_size=7)
    b = montecarlo(emission, ["expected_utility"], n=60, seed=4, executor="serial",
                   paths=True, chunk_size=60)
    assert np.array_equal(a.paths["expected_utility"].values,
                          b.paths["expected_utility"].values)


@pytest.mark.parametrize("name", ["expected_utility", "spatial", "exchange"])
def test_round_path_ends_at_the_forecast(name):
    sc = load_scenario("ukraine-2025")
    f = _forecast(name, sc)
    assert has_round_path(get_model(name))
    path = round_path(get_model(name), f, scenario_arrays(sc))
    assert path.shape[1] == len(sc.issues)
    if name != "expected_utility":  # EU's forecast is the cycle mean where it cycles
        np.testing.assert_allclose(path[-1], f.outcome, atol=1e-9)
    else:
        ok = np.array([f.details[i]["cycle"] is None for i in sc.issue_ids])
        np.testing.assert_allclose(path[-1][ok], f.outcome[ok], atol=1e-12)
    assert not has_round_path(get_model("compromise"))


def test_spatial_and_exchange_paths_and_cap():
    sc = load_scenario("ukraine-2025")
    r = montecarlo(sc, ["spatial", "exchange"], n=6, seed=1, executor="serial", paths=True,
                   path_rounds=3)
    assert set(r.paths) == {"spatial", "exchange"}
    for p in r.paths.values():
        assert p.n == 6 and p.rounds == 3 and p.truncated
    assert any("cut at round 3" in x for x in r.notes)


def test_to_dict_carries_the_fans(eu50):
    d = eu50.to_dict()["paths"]["expected_utility"]
    fan = d["issues"][eu50.issue_ids[0]]
    assert set(fan["quantiles"]) == {"0.05", "0.25", "0.5", "0.75", "0.95"}
    assert len(fan["x"]) == len(fan["point"]) == d["rounds"] + 1
