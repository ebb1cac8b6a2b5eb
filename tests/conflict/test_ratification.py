"""§6.3's two-level table and the win-set machinery."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detente.conflict.ratification import (
    approval_intervals,
    intersect,
    needed_principals,
    two_level_game,
)
from detente.scenario.schema import Scenario

A = pytest.approx


def _two_level(*, later=False, audience=0.0, leader=False) -> Scenario:
    """§6.3: territory 0-100 (0 = Russia's claim), UA ratifiers + referendum veto, Kremlin veto."""
    dz = -5 if later else 0
    dk = 0.05 if later else 0.0
    ua = [
        {"id": "gov", "ideal": {"t": 70}, "weight": 0.45, "reversion": {"t": 25 + dz},
         "cost": 0.08 + dk},
        {"id": "hard", "ideal": {"t": 100}, "weight": 0.25, "reversion": {"t": 40 + dz},
         "cost": 0.02 + dk},
        {"id": "prag", "ideal": {"t": 50}, "weight": 0.30, "reversion": {"t": 20 + dz},
         "cost": 0.10 + dk},
        {"id": "referendum", "ideal": {"t": 80}, "veto": True, "reversion": {"t": 30 + dz},
         "cost": 0.05 + dk},
    ]
    if leader:
        # §6.3 does not state the UA leader's own no-deal view; this one (ideal 95, salience
        # .5, believes the line at 20, cost .064) never binds without a commitment
        ua.append({"id": "UA", "ideal": {"t": 95}, "salience": {"t": 50},
                   "reversion": {"t": 20}, "cost": 0.064})
    ru = [{"id": "RU", "ideal": {"t": 5}, "veto": True,
           "reversion": {"t": 15 if later else 10}, "cost": 0.15 if later else 0.05}]
    ua_block = {"principal": "UA", "rule": "quota", "quota": 0.5, "ratifiers": ua}
    if audience:
        ua_block.update(audience_cost=audience, commitments={"t": 30})
    return Scenario(
        id="twolevel", name="two-level example",
        issues=[{"id": "t", "name": "territory", "scale_min": 0, "scale_max": 100}],
        actors=[{"id": "UA", "name": "Ukraine", "capability": 45},
                {"id": "RU", "name": "Russia", "capability": 100}],
        stances=[{"actor": "UA", "issue": "t", "position": 95, "salience": 100},
                 {"actor": "RU", "issue": "t", "position": 5, "salience": 90}],
        ratification=[ua_block, {"principal": "RU", "rule": "veto_players", "ratifiers": ru}],
    )


def _r(ivs):
    return [(round(a, 1), round(b, 1)) for a, b in ivs]


def test_table_63_baseline_is_empty():
    g = two_level_game(_two_level())
    assert _r(g.win_set("UA", "t")) == [(25.0, 100.0)]
    assert _r(g.win_set("RU", "t")) == [(0.0, 15.6)]
    assert g.agreement_set("t") == ()
    why = g.binding("t")
    assert why["clash"]["needs_at_least"][0] == "UA"
    assert why["clash"]["allows_at_most"][0] == "RU"
    assert why["clash"]["gap"] == A(25 - 15.5556, abs=1e-3)


def test_table_63_a_year_later():
    g = two_level_game(_two_level(later=True))
    assert _r(g.win_set("UA", "t")) == [(15.0, 100.0)]
    assert _r(g.win_set("RU", "t")) == [(0.0, 31.7)]
    assert _r(g.agreement_set("t")) == [(15.0, 31.7)]


@pytest.mark.parametrize(("a", "low"), [(0.0, 15.0), (0.1, 27.2), (0.3, 30.0)])
def test_table_63_audience_costs(a, low):
    g = two_level_game(_two_level(later=True, audience=a, leader=True))
    assert _r(g.win_set("UA", "t")) == [(low, 100.0)]
    assert _r(g.agreement_set("t")) == [(low, 31.7)]


def test_package_check_agrees_with_exact_1d_sets():
    g = two_level_game(_two_level(later=True, audience=0.1, leader=True))
    xs = np.linspace(0, 100, 2001)[:, None]
    ok = g.ratified(xs).all(axis=1)
    exact = g.agreement_set("t")
    inside = np.array([any(a - 1e-9 <= x <= b + 1e-9 for a, b in exact) for x in xs[:, 0]])
    assert (ok == inside).all()


def test_pressure_projects_onto_the_agreement_set():
    g = two_level_game(_two_level(later=True))
    p = g.pressure({"t": 49.29})
    assert p["issues"]["t"]["projected"] == A(31.6667, abs=1e-3)
    assert p["issues"]["t"]["distance"] == A(49.29 - 31.6667, abs=1e-3)
    assert p["projected_package_ratified"]
    empty = two_level_game(_two_level()).pressure({"t": 20})
    assert math.isnan(empty["issues"]["t"]["distance"])


def test_approval_intervals_step_and_linear():
    # ideal 80, budget .55 -> [25, 100]; a step penalty .1 below 30 -> [30, 100] (35 < 30? no)
    assert approval_intervals(80, 1, 0.55, 0, 100, 100) == ((25.0, 100.0),)
    assert approval_intervals(80, 1, 0.55, 0, 100, 100, line=30, direction=1,
                              penalty=0.1) == ((30.0, 100.0),)
    lin = approval_intervals(80, 1, 0.55, 0, 100, 100, line=30, direction=1, penalty=1.0,
                             form="linear")
    assert lin[0][0] == A(27.5)
    assert intersect(((0, 5), (7, 9)), ((4, 8),)) == ((4, 5), (7, 8))


def test_factions_are_default_ratifiers():
    s = Scenario(
        id="f", name="f",
        issues=[{"id": "t", "name": "t", "status_quo": 50}],
        actors=[{"id": "P", "name": "P", "capability": 10},
                {"id": "P-a", "name": "a", "kind": "faction", "parent": "P", "capability": 6},
                {"id": "P-b", "name": "b", "kind": "faction", "parent": "P", "capability": 3}],
        stances=[{"actor": "P", "issue": "t", "position": 80, "salience": 50},
                 {"actor": "P-a", "issue": "t", "position": 90, "salience": 100},
                 {"actor": "P-b", "issue": "t", "position": 20, "salience": 100}],
    )
    assert needed_principals(s) == ("P",)
    g = two_level_game(s)
    game = g.game("P")
    assert [r.id for r in game.ratifiers] == ["P", "P-a", "P-b"]
    assert game.ratifiers[0].leader and game.ratifiers[0].veto
    # P-a (weight 6 of 9) must approve: x in [50, 100]; the leader too: [50, 100]
    assert g.win_set("P", "t") == ((50.0, 100.0),)
