"""Capability tables: the fit recovers known factors, respects its penalty and its rows,
and the panel reads a member's final positions."""

from __future__ import annotations

import numpy as np
import pytest

from detente.analysis.backtest import load_backtest_cases
from detente.analysis.fitting import (
    ActorPanel,
    fit_capability_multipliers,
    fit_log_multipliers,
    member_panel,
)
from tests.conftest import SHARED_DATA

DEU = SHARED_DATA / "deu" / "deu_dev.csv"
ACTORS = ("a", "b", "c", "d", "e", "f")
TRUE = np.array([1.0, -1.0, 0.5, 0.0, 0.0, -0.5])


def _synthetic(n: int = 400, seed: int = 0) -> ActorPanel:
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 100, (n, len(ACTORS)))
    weight = rng.uniform(0.1, 1.0, (n, len(ACTORS))) * (rng.random((n, len(ACTORS))) < 0.8)
    weight[:, 0] = np.maximum(weight[:, 0], 0.1)  # every case has someone
    panel = ActorPanel(ACTORS, pos, weight, np.zeros(n))
    return ActorPanel(ACTORS, pos, weight, panel.predict(TRUE))


def test_recovers_known_factors_up_to_a_common_scale():
    panel = _synthetic()
    theta = fit_log_multipliers(panel, 1e-6)
    np.testing.assert_allclose(theta - theta.mean(), TRUE - TRUE.mean(), atol=0.02)
    assert np.mean(np.abs(panel.predict(theta) - panel.outcome)) < 0.2


def test_a_strong_penalty_keeps_the_data_weights():
    theta = fit_log_multipliers(_synthetic(), 1e4)
    assert np.abs(theta).max() < 1e-3


def test_actors_absent_from_the_fitted_rows_keep_factor_one():
    panel = _synthetic()
    rows = np.where(panel.weight[:, 5] == 0)[0]
    table = fit_capability_multipliers(panel, rows=rows)
    assert table["f"] == 1.0
    assert set(table) == set(ACTORS)
    assert table["a"] > 1.0 > table["b"]


def test_member_panel_holds_final_positions_and_weights():
    cases = load_backtest_cases(DEU, "deu")[0][:30]
    start = member_panel(cases, "compromise")
    moved = member_panel(cases, "exchange")
    np.testing.assert_array_equal(start.weight, moved.weight)
    np.testing.assert_array_equal(start.outcome, [c.outcome for c in cases])
    assert (start.weight > 0).sum(axis=1).min() >= 3
    assert not np.allclose(start.position, moved.position)
    flat = start.predict(np.zeros(len(start.actor_ids)))
    for i, c in enumerate(cases[:5]):
        st = [s for s in c.scenario.stances if s.issue == c.issue_id]
        caps = {a.id: a.capability for a in c.scenario.actors}
        w = np.array([(s.capability or caps[s.actor]) * s.salience for s in st])
        x = np.array([s.position for s in st])
        assert flat[i] == pytest.approx((w * x).sum() / w.sum())
