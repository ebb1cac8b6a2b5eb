"""One frozen NumPy view ``[actor, issue]`` of a validated scenario, built once.

Models read only these arrays. Missing stances are NaN positions with zero salience and
``present == False``; saliences are on 0-1 (the scenario stores 0-100).

Factions speak for their parent: where a parent actor and at least one of its factions both
hold a stance on an issue, the parent's stance is its official line (read by ratification
and deal evaluation from the scenario) and is left out of these arrays (``delegated``), so
that the parent's clout, which its factions share, is not counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from detente.scenario.schema import Scenario

__all__ = ["ScenarioArrays", "scenario_arrays"]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ScenarioArrays:
    """Dense arrays of a scenario (n actors x m issues)."""

    actor_ids: tuple[str, ...]
    issue_ids: tuple[str, ...]
    position: np.ndarray  # [n, m] float, NaN where the actor has no stance
    salience: np.ndarray  # [n, m] in [0, 1], 0 where no stance
    capability: np.ndarray  # [n, m] issue-specific clout (stance override or actor's)
    present: np.ndarray  # [n, m] bool
    delegated: np.ndarray  # [n, m] bool: parent stance represented by its factions
    scale_min: np.ndarray  # [m]
    scale_max: np.ndarray  # [m]
    status_quo: np.ndarray  # [m], NaN where none is given

    @property
    def n_actors(self) -> int:
        return len(self.actor_ids)

    @property
    def n_issues(self) -> int:
        return len(self.issue_ids)

    @property
    def width(self) -> np.ndarray:
        return self.scale_max - self.scale_min

    def issue_index(self, issue_id: str) -> int:
        return self.issue_ids.index(issue_id)

    def actor_index(self, actor_id: str) -> int:
        return self.actor_ids.index(actor_id)

    def with_capability_multipliers(self, multipliers: Mapping[str, float]) -> ScenarioArrays:
        """A copy whose actors' capabilities are multiplied by ``multipliers[actor_id]``
        (actors not named keep theirs). Used by fitted capability weights."""
        m = np.array([float(multipliers.get(a, 1.0)) for a in self.actor_ids])
        if not np.all(np.isfinite(m) & (m >= 0)):
            raise ValueError("capability multipliers must be finite and >= 0")
        return replace(self, capability=_frozen(self.capability * m[:, None]))

    def issue_slice(self, k: int) -> ScenarioArrays:
        """The arrays of issue ``k`` alone (same actors)."""
        sl = slice(k, k + 1)
        return replace(self, issue_ids=self.issue_ids[sl], position=self.position[:, sl],
                       salience=self.salience[:, sl], capability=self.capability[:, sl],
                       present=self.present[:, sl], delegated=self.delegated[:, sl],
                       scale_min=self.scale_min[sl], scale_max=self.scale_max[sl],
                       status_quo=self.status_quo[sl])


def _build(scenario: Scenario) -> ScenarioArrays:
    actor_ids = scenario.actor_ids
    issue_ids = scenario.issue_ids
    ai = {a: k for k, a in enumerate(actor_ids)}
    ii = {i: k for k, i in enumerate(issue_ids)}
    n, m = len(actor_ids), len(issue_ids)
    pos = np.full((n, m), np.nan)
    sal = np.zeros((n, m))
    cap = np.zeros((n, m))
    present = np.zeros((n, m), dtype=bool)
    base_cap = np.array([a.capability for a in scenario.actors], dtype=float)
    for s in scenario.stances:
        r, c = ai[s.actor], ii[s.issue]
        pos[r, c] = s.position
        sal[r, c] = s.salience / 100.0
        cap[r, c] = base_cap[r] if s.capability is None else s.capability
        present[r, c] = True
    delegated = np.zeros((n, m), dtype=bool)
    for a in scenario.actors:
        if a.parent is not None and a.parent in ai:
            p, r = ai[a.parent], ai[a.id]
            delegated[p] |= present[r] & present[p]
    pos[delegated] = np.nan
    sal[delegated] = 0.0
    cap[delegated] = 0.0
    present &= ~delegated
    lo = np.array([i.scale_min for i in scenario.issues], dtype=float)
    hi = np.array([i.scale_max for i in scenario.issues], dtype=float)
    sq = np.array([np.nan if i.status_quo is None else i.status_quo for i in scenario.issues])
    return ScenarioArrays(
        actor_ids=actor_ids,
        issue_ids=issue_ids,
        position=_frozen(pos),
        salience=_frozen(sal),
        capability=_frozen(cap),
        present=_frozen(present),
        delegated=_frozen(delegated),
        scale_min=_frozen(lo),
        scale_max=_frozen(hi),
        status_quo=_frozen(sq.astype(float)),
    )


@lru_cache(maxsize=256)
def _cached(scenario: Scenario) -> ScenarioArrays:
    return _build(scenario)


def scenario_arrays(scenario: Scenario) -> ScenarioArrays:
    """The arrays of ``scenario`` (cached: scenarios are frozen, so this is safe)."""
    try:
        return _cached(scenario)
    except TypeError:  # unhashable (meta holds a dict); build without caching
        return _build(scenario)
