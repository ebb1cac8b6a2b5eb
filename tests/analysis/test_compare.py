"""Competing views: differences between variants and their Shapley attribution."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from detente.analysis.compare import CompareError, compare
from detente.errors import NotConvergedWarning
from detente.scenario.load import load_scenario
from detente.scenario.schema import Scenario


def _sc(sid: str, pos_y: float = 60, sal_x: float = 80, extra_actor: bool = False,
        cap_z: float = 1) -> Scenario:
    actors = [{"id": "x", "name": "X", "capability": 3}, {"id": "y", "name": "Y", "capability": 2},
              {"id": "z", "name": "Z", "capability": cap_z}]
    stances = [{"actor": "x", "issue": "a", "position": 10, "salience": sal_x},
               {"actor": "y", "issue": "a", "position": pos_y, "salience": 50},
               {"actor": "z", "issue": "a", "position": 95, "salience": 100}]
    if extra_actor:
        actors.append({"id": "w", "name": "W", "capability": 4})
        stances.append({"actor": "w", "issue": "a", "position": 0, "salience": 100})
    return Scenario(id=sid, name=sid, actors=actors, stances=stances,
                    issues=[{"id": "a", "name": "A", "scale_min": 0, "scale_max": 100}])


def _cm(pos, w):
    return float(np.dot(pos, w) / np.sum(w))


def test_one_group_gets_the_whole_difference():
    a, b = _sc("a"), _sc("b", pos_y=90)
    r = compare([a, b], ["compromise"])
    diff = r.differences()[0]
    w = [2.4, 1.0, 1.0]
    assert diff["diff"] == pytest.approx(_cm([10, 90, 95], w) - _cm([10, 60, 95], w))
    causes = r.causes("b", "compromise", "a")
    assert [c["group"] for c in causes] == ["positions"]
    assert causes[0]["contribution"] == pytest.approx(diff["diff"])
    assert causes[0]["alone"] == pytest.approx(diff["diff"])


@pytest.mark.parametrize("model", ["compromise", "weighted_median", "mean", "expected_utility",
                                   "nash"])
@pytest.mark.parametrize("by", ["kind", "actor"])
def test_contributions_add_up_to_the_difference(model, by):
    a = _sc("a")
    b = _sc("b", pos_y=70, sal_x=30, extra_actor=True, cap_z=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        r = compare([a, b], [model], by=by)
    d = r.differences()[0]["diff"]
    causes = r.causes("b", model, "a")
    assert sum(c["contribution"] for c in causes) == pytest.approx(d, abs=1e-9)
    names = {c["group"] for c in causes}
    if by == "kind":
        assert {"positions", "saliences", "capabilities", "actors"} <= names
    else:
        assert names == {"actor:x", "actor:y", "actor:z", "actor:w"}


def test_interaction_shows_as_alone_differing_from_shapley():
    # the median jumps only when two changes happen together
    a = _sc("a")
    b = _sc("b", sal_x=10, cap_z=6)
    r = compare([a, b], ["weighted_median"])
    causes = {c["group"]: c for c in r.causes("b", "weighted_median", "a")}
    total = r.differences()[0]["diff"]
    assert sum(c["contribution"] for c in causes.values()) == pytest.approx(total)
    assert any(abs(c["alone"] - c["contribution"]) > 1e-9 for c in causes.values()) or \
        total == 0


def test_sampled_orders_when_many_groups():
    a = _sc("a")
    b = _sc("b", pos_y=70, sal_x=30, extra_actor=True, cap_z=2)
    r = compare([a, b], ["compromise"], by="actor", exact_limit=2, permutations=50)
    att = r.attribution[("b", "compromise")]
    assert "random orders" in att["method"]
    d = r.differences()[0]["diff"]
    assert att["shapley"].sum() == pytest.approx(d, abs=1e-9)  # efficiency holds per order


def test_bundled_competing_views():
    a, b = load_scenario("ukraine-2025"), load_scenario("ukraine-2025-alt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        r = compare([a, b], ["compromise", "nash"])
    rows = r.differences()
    assert rows[0]["share_of_scale"] >= rows[-1]["share_of_scale"]
    for row in rows:
        causes = r.causes(row["variant"], row["model"], row["issue"])
        assert sum(c["contribution"] for c in causes) == pytest.approx(row["diff"], abs=1e-6)
    d = r.to_dict()
    assert d["reference"] == "ukraine-2025" and d["causes"]


def test_variants_must_share_issues_and_scales():
    a = _sc("a")
    b = Scenario(id="b", name="b", actors=[{"id": "x", "name": "X", "capability": 1}],
                 stances=[{"actor": "x", "issue": "q", "position": 1, "salience": 1}],
                 issues=[{"id": "q", "name": "Q"}])
    with pytest.raises(CompareError, match="issue ids"):
        compare([a, b])
    c = Scenario(id="c", name="c", actors=[{"id": "x", "name": "X", "capability": 1}],
                 stances=[{"actor": "x", "issue": "a", "position": 1, "salience": 1}],
                 issues=[{"id": "a", "name": "A", "scale_max": 10}])
    with pytest.raises(CompareError, match="scale"):
        compare([a, c])
    with pytest.raises(CompareError, match="two"):
        compare([a])
