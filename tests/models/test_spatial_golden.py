"""Acceptance: with the ktab preset and KTAB's defaults, every position of every turn matches
KTAB's smpc (golden files in shared/data/ktab/golden) within 0.01, with the same turn count."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from detente.models.spatial import SpatialModel
from detente.scenario.importers.ktab import read_ktab_csv, read_ktab_xml
from tests.conftest import SHARED_DATA

KTAB = SHARED_DATA / "ktab"


def _golden(name: str) -> np.ndarray:
    rows = list(csv.DictReader(open(KTAB / "golden" / f"{name}.positions.csv")))
    t_n = max(int(r["turn"]) for r in rows) + 1
    a_n = max(int(r["actor_index"]) for r in rows) + 1
    d_n = max(int(r["dim_index"]) for r in rows) + 1
    g = np.full((t_n, a_n, d_n), np.nan)
    for r in rows:
        g[int(r["turn"]), int(r["actor_index"]), int(r["dim_index"])] = float(r["position"])
    assert not np.isnan(g).any()
    return g


@pytest.mark.parametrize("name", ["dummyData_3Dim", "rand_a10_d3"])
def test_ktab_preset_matches_golden(name: str) -> None:
    sc = read_ktab_csv(KTAB / "inputs" / f"{name}.csv")
    fc = SpatialModel(preset="ktab").forecast(sc)
    g = _golden(name)
    assert fc.positions.shape == g.shape, "same number of turns as KTAB"
    assert np.max(np.abs(fc.positions - g)) <= 0.01
    assert bool(fc.converged.all())


@pytest.mark.parametrize("name", ["dummyData_3Dim", "rand_a10_d3"])
def test_default_params_match_golden_too(name: str) -> None:
    # the defects fixed in the default do not touch KTAB's default parameters
    sc = read_ktab_csv(KTAB / "inputs" / f"{name}.csv")
    fc = SpatialModel().forecast(sc)
    assert np.max(np.abs(fc.positions - _golden(name))) <= 0.01


def test_xml_and_csv_give_the_same_run() -> None:
    a = SpatialModel(preset="ktab").forecast(read_ktab_csv(KTAB / "inputs" / "dummyData_3Dim.csv"))
    b = SpatialModel(preset="ktab").forecast(read_ktab_xml(KTAB / "inputs" / "dummyData_3Dim.xml"))
    assert np.array_equal(a.positions, b.positions)


def test_bundled_example_is_the_ktab_file() -> None:
    from importlib import resources

    bundled = Path(str(resources.files("detente") / "data" / "ktab" / "dummyData_3Dim.csv"))
    assert bundled.read_bytes() == (KTAB / "inputs" / "dummyData_3Dim.csv").read_bytes()
    assert (bundled.parent / "LICENSE.KTAB.txt").is_file()
