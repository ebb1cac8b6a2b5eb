"""The [actor, issue] arrays: scaling, missing stances, and factions speaking for parents."""

from __future__ import annotations

import numpy as np

from detente.scenario.arrays import scenario_arrays
from detente.scenario.load import load_scenario
from detente.scenario.schema import Actor, Issue, Scenario, Stance


def _scenario(parent_stance_on_b: bool = True) -> Scenario:
    stances = [
        Stance(actor="us", issue="a", position=40, salience=50),
        Stance(actor="us-left", issue="a", position=20, salience=60),
        Stance(actor="us-right", issue="a", position=70, salience=80, capability=5),
        Stance(actor="ru", issue="a", position=5, salience=90),
        Stance(actor="ru", issue="b", position=10, salience=30),
    ]
    if parent_stance_on_b:
        stances.append(Stance(actor="us", issue="b", position=6, salience=40))
    return Scenario(
        id="t", name="t",
        issues=[Issue(id="a", name="A"),
                Issue(id="b", name="B", scale_min=-10, scale_max=10, status_quo=0)],
        actors=[Actor(id="us", name="US", capability=100),
                Actor(id="us-left", name="L", kind="faction", parent="us", capability=40),
                Actor(id="us-right", name="R", kind="faction", parent="us", capability=50),
                Actor(id="ru", name="RU", capability=80)],
        stances=stances)


def test_salience_scaled_and_missing_stances_marked() -> None:
    arr = scenario_arrays(_scenario(parent_stance_on_b=False))
    assert arr.salience[arr.actor_index("ru"), 0] == 0.9
    assert not arr.present[arr.actor_index("us-left"), 1]
    assert np.isnan(arr.position[arr.actor_index("us-left"), 1])
    assert arr.capability[arr.actor_index("us-right"), 0] == 5  # stance override
    assert arr.status_quo[1] == 0 and np.isnan(arr.status_quo[0])


def test_factions_speak_for_their_parent_where_both_hold_stances() -> None:
    arr = scenario_arrays(_scenario())
    us = arr.actor_index("us")
    # issue a: factions hold stances, so the parent's is delegated
    assert arr.delegated[us, 0] and not arr.present[us, 0] and arr.capability[us, 0] == 0
    # issue b: no faction has a stance, so the parent acts itself
    assert arr.present[us, 1] and not arr.delegated[us, 1]


def test_bundled_ukraine_counts_no_clout_twice() -> None:
    s = load_scenario("ukraine-2025")
    arr = scenario_arrays(s)
    parents = {a.parent for a in s.actors if a.parent}
    for p in parents:
        kids = [arr.actor_index(a.id) for a in s.actors if a.parent == p]
        both = arr.present[kids].any(axis=0) & arr.present[arr.actor_index(p)]
        assert not both.any()
