"""Sobol and Morris indices: analytic cases, and a scenario where S1 is computable."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from detente.analysis.sensitivity import (
    SensitivityError,
    analyze_function,
    design_factors,
    sensitivity,
)
from detente.scenario.schema import Scenario
from detente.simulate.perturb import compile_plan

pytest.importorskip("SALib")


def test_linear_function_has_known_indices():
    a = np.array([1.0, 2.0, 3.0])
    res = analyze_function(lambda x: x @ a, 3, method="sobol", n=2048, seed=1)
    want = a**2 / np.sum(a**2)  # equal variances: S1_i = a_i^2 / sum a^2, ST = S1
    np.testing.assert_allclose(res["S1"], want, atol=0.03)
    np.testing.assert_allclose(res["ST"], want, atol=0.03)


def test_ishigami_matches_the_literature():
    def ishigami(u):
        x = -np.pi + 2 * np.pi * u
        return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])

    res = analyze_function(ishigami, 3, method="sobol", n=4096, seed=2)
    np.testing.assert_allclose(res["S1"], [0.3139, 0.4424, 0.0], atol=0.04)
    np.testing.assert_allclose(res["ST"], [0.5576, 0.4424, 0.2437], atol=0.04)


def test_morris_on_a_linear_function_recovers_the_slopes():
    a = np.array([1.0, -4.0, 0.0])
    res = analyze_function(lambda x: x @ a, 3, method="morris", n=20, seed=0)
    np.testing.assert_allclose(res["mu_star"], np.abs(a), atol=1e-9)
    np.testing.assert_allclose(res["sigma"], 0.0, atol=1e-9)


def _two_factor_case() -> Scenario:
    # a dominant centrist and two small actors: the compromise outcome is almost linear in
    # A's capability (uniform on [1, 3]) and B's salience (uniform on [20, 100] points)
    return Scenario(**{
        "id": "lin", "name": "linear case",
        "issues": [{"id": "i", "name": "I", "scale_min": 0, "scale_max": 100}],
        "actors": [{"id": "m", "name": "M", "capability": 100},
                   {"id": "a", "name": "A", "capability": 2},
                   {"id": "b", "name": "B", "capability": 2}],
        "stances": [{"actor": "m", "issue": "i", "position": 50, "salience": 100},
                    {"actor": "a", "issue": "i", "position": 100, "salience": 100},
                    {"actor": "b", "issue": "i", "position": 0, "salience": 60}],
        "uncertainty": [
            {"target": "capability", "actor": "a", "distribution": "uniform",
             "params": {"low": 1, "high": 3}},
            {"target": "salience", "actor": "b", "distribution": "uniform",
             "params": {"low": 20, "high": 100}},
        ],
    })


def _exact_s1() -> tuple[float, float]:
    """S1 of (c_A, s_B) by Gauss-Legendre quadrature of the compromise formula."""
    g, wts = np.polynomial.legendre.leggauss(80)
    u, wu = (g + 1) / 2, wts / 2
    c_a = 1 + 2 * u[:, None]  # [80, 1]
    w_b = 2 * (0.2 + 0.8 * u[None, :])  # capability 2 x salience 0.2-1.0
    y = (50 * 100 + 100 * c_a) / (100 + c_a + w_b)  # B sits at 0
    mean = wu @ y @ wu
    var = wu @ (y - mean) ** 2 @ wu
    e_given_a = y @ wu
    e_given_b = wu @ y
    return float(wu @ (e_given_a - mean) ** 2 / var), float(wu @ (e_given_b - mean) ** 2 / var)


def test_compromise_scenario_s1_matches_quadrature():
    s1_cap, s1_sal = _exact_s1()
    # the linearised formula agrees: slopes (100 - 50)/W and (0 - 50)/W, var 4/12 vs 1.6^2/12
    assert s1_cap == pytest.approx(4 / (4 + 2.56), abs=0.01)
    res = sensitivity(_two_factor_case(), ["compromise"], method="sobol", n=2048, seed=3,
                      by="entry")
    names = [f.name for f in res.factors]
    assert names == ["capability[0]", "salience[1]"]
    idx = res.indices["compromise"]["i"]
    np.testing.assert_allclose(idx["S1"], [s1_cap, s1_sal], atol=0.03)
    np.testing.assert_allclose(idx["ST"], idx["S1"], atol=0.03)  # additive: no interaction
    assert res.ranking("compromise", "i")[0][0] == "capability[0]"
    assert res.n_runs == 2048 * (2 + 2)


def test_morris_on_the_scenario_ranks_the_same_way():
    res = sensitivity(_two_factor_case(), ["compromise"], method="morris", n=20, seed=0,
                      by="entry")
    assert res.n_runs == 20 * 3
    mu = res.indices["compromise"]["i"]["mu_star"]
    assert mu[0] > mu[1] > 0
    rows = res.rows()
    assert {r["factor"] for r in rows} == {"capability[0]", "salience[1]"}


def test_factor_grouping():
    sc = _two_factor_case()
    unc = [{"target": "position", "distribution": "normal", "params": {"sd": 5}},
           {"target": "salience", "actor": "a,b", "distribution": "normal",
            "params": {"sd": 5}, "group": "small-actors"},
           {"target": "capability", "actor": "a,b", "distribution": "normal",
            "params": {"sd": 1}, "group": "small-actors"}]
    plan = compile_plan(sc, unc)
    f, cols = design_factors(plan, "actor")
    assert [x.name for x in f] == ["position:m", "position:a", "position:b", "small-actors"]
    assert f[3].cells == 4
    f, _ = design_factors(plan, "entry")
    assert [x.name for x in f] == ["position[0]", "small-actors"]


def test_constant_outputs_and_errors():
    sc = _two_factor_case()
    res = sensitivity(sc, ["mean"], method="sobol", n=64,
                      by="entry")
    assert np.all(res.indices["mean"]["i"]["ST"] == 0)  # the mean ignores weights
    with pytest.raises(SensitivityError, match="power of two"):
        sensitivity(sc, ["compromise"], method="sobol", n=100, by="entry")
    with pytest.raises(SensitivityError, match="--method"):
        sensitivity(sc, ["compromise"], method="fast", n=64, by="entry")
    one = [{"target": "position", "actor": "m", "distribution": "normal", "params": {"sd": 5}}]
    with pytest.raises(SensitivityError, match="at least two"):
        sensitivity(sc, ["compromise"], uncertainty=one, by="entry")


def test_missing_salib_names_the_extra(monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "SALib" or name.startswith("SALib."):
            raise ImportError("nope")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(SensitivityError, match=r"detente\[sensitivity\]"):
        analyze_function(lambda x: x.sum(axis=1), 2)


@pytest.mark.slow
def test_sensitivity_on_a_process_pool_equals_serial():
    sc = _two_factor_case()
    a = sensitivity(sc, ["compromise", "expected_utility"], method="morris", n=8, by="entry",
                    executor="serial")
    b = sensitivity(sc, ["compromise", "expected_utility"], method="morris", n=8, by="entry",
                    executor="process", workers=2, chunk_size=10)
    for m in a.models:
        for k in ("mu_star", "sigma"):
            assert np.array_equal(a.indices[m]["i"][k], b.indices[m]["i"][k])
