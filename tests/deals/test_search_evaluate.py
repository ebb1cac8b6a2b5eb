"""Deal evaluation and search on small scenarios with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from detente.deals.evaluate import evaluate
from detente.deals.proposal import proposal_from_terms
from detente.deals.search import DealSearch, search_deals
from detente.errors import InputFileError
from detente.models.nash import nash_solution
from detente.scenario.schema import Scenario
from tests.conflict.test_ratification import _two_level

A = pytest.approx


def test_search_1d_matches_the_exact_agreement_set_and_nash():
    s = _two_level(later=True)
    res = search_deals(s, n_samples=2000)
    assert res.feasible
    best = res.by_nash[0]["package"]["t"]
    assert 15 - 1e-6 <= best <= 31.6667 + 1e-6
    # exact: maximise the leaders' Nash product on [15, 31.67] (UA leader derived from its
    # stance 95, no status quo -> reversion = its worst point 0; RU = the Kremlin)
    ds = DealSearch(s)
    xs = np.linspace(15, 31.6667, 20001)[:, None]
    exact = xs[np.argmax(ds.nash(xs)), 0]
    assert best == A(exact, abs=0.02)
    rob = res.by_robustness[0]
    assert rob["robustness"] >= res.by_nash[0]["robustness"]


def test_search_reports_binding_constraint_when_empty():
    res = search_deals(_two_level(), n_samples=2000)
    assert not res.feasible
    assert "UA needs at least 25.0 but RU allows at most 15.6" in res.binding["summary"]


def test_search_2d_against_dense_grid():
    s = Scenario(
        id="two", name="two issues",
        issues=[{"id": "a", "name": "a", "status_quo": 50}, {"id": "b", "name": "b",
                                                             "status_quo": 50}],
        actors=[{"id": "P", "name": "P", "capability": 2}, {"id": "Q", "name": "Q",
                                                            "capability": 1}],
        stances=[{"actor": "P", "issue": "a", "position": 90, "salience": 80},
                 {"actor": "P", "issue": "b", "position": 30, "salience": 20},
                 {"actor": "Q", "issue": "a", "position": 40, "salience": 20},
                 {"actor": "Q", "issue": "b", "position": 95, "salience": 90}],
        ratification=[{"principal": "P", "rule": "veto_players"},
                      {"principal": "Q", "rule": "veto_players"}],
    )
    ds = DealSearch(s)
    res = ds.run(n_samples=3000)
    assert res.feasible
    g = np.linspace(0, 100, 401)
    G = np.array(np.meshgrid(g, g, indexing="ij")).reshape(2, -1).T
    ok = ds.margins(G) >= 0
    grid_best = np.max(ds.nash(G[ok]))
    assert res.by_nash[0]["nash"] >= grid_best - 1e-3


def test_evaluate_vetoes_and_flip():
    s = _two_level(later=True)
    e = evaluate(s, proposal_from_terms({"t": 40}))
    assert not e.passes
    assert [v["actor"] for v in e.vetoes] == ["RU"]
    flip = e.vetoes[0]["flip"]
    assert flip["changes"]["t"] == A(31.6667, abs=1e-3)
    assert flip["distance"] == A(0.0833, abs=1e-3)
    ok = evaluate(s, proposal_from_terms({"t": 20}))
    assert ok.passes and "every needed principal" in ok.verdict


def test_red_lines_veto_and_bad_terms():
    s = _two_level(later=True)
    data = s.model_dump()
    data["stances"][1]["red_line"] = 18  # RU: nothing above 18
    s2 = Scenario(**data)
    e = evaluate(s2, proposal_from_terms({"t": 25}))
    ru = next(v for v in e.vetoes if v["actor"] == "RU")
    assert any("red line" in r for r in ru["reasons"])
    assert ru["flip"]["changes"]["t"] == A(18)
    with pytest.raises(InputFileError, match="unknown issue"):
        evaluate(s, proposal_from_terms({"nope": 1}))
    with pytest.raises(InputFileError, match="outside the scale"):
        evaluate(s, proposal_from_terms({"t": 120}))


def test_nash_solution_agrees_with_search_objective_in_1d():
    sol = nash_solution(np.array([5.0, 95.0]), np.array([0.9, 1.0]), np.array([1.0, 1.0]),
                        np.array([-0.2, -1.0]), lo=0, hi=100)
    assert 0 <= sol["outcome"] <= 100
