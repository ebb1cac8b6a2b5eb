"""SQLite export with KTAB's table and column names, tidy table, ktab-export command."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from detente.errors import DetenteError, ModelError
from detente.models.spatial import SpatialModel
from detente.models.spatial_db import SCHEMA, export_ktab_db, run_and_export, write_tidy
from detente.scenario.importers.ktab import read_ktab_csv
from tests.conftest import SHARED_DATA

DUMMY = SHARED_DATA / "ktab" / "inputs" / "dummyData_3Dim.csv"


def test_export_core_tables(tmp_path: Path) -> None:
    sc = read_ktab_csv(DUMMY)
    fc, sid = run_and_export(sc, tmp_path / "run.db", params={"preset": "ktab"},
                             tidy_path=tmp_path / "run.csv")
    con = sqlite3.connect(tmp_path / "run.db")
    t_n = fc.n_rounds
    counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in SCHEMA}
    assert counts["ScenarioDesc"] == 1 and counts["ActorDescription"] == 7
    assert counts["DimensionDescription"] == 3 and counts["Accommodation"] == 49
    assert counts["VectorPosition"] == (t_n + 1) * 7 * 3
    assert counts["SpatialSalience"] == (t_n + 1) * 21
    assert counts["PosProb"] == (t_n + 1) * 49
    row = con.execute("SELECT Scenario, ScenarioId, VotingRule, BigRAdjust FROM ScenarioDesc"
                      ).fetchone()
    assert row == ("DummyData_3Dim", sid, 2, 1)
    # positions on 0-100 equal the forecast's; ideals equal positions (identity accommodation)
    vp = con.execute("SELECT Turn_t, Act_i, Dim_k, Pos_Coord, Idl_Coord FROM VectorPosition"
                     ).fetchall()
    for t, i, k, p, q in vp:
        assert p == pytest.approx(fc.positions[t, i, k]) and q == pytest.approx(p)
    cols = [r[1] for r in con.execute("PRAGMA table_info(Bargn)")]
    assert cols == ["ScenarioId", "Turn_t", "BargnId", "Init_Act_i", "Recd_Act_j", "Value",
                    "Init_Prob", "Init_Seld", "Recd_Prob", "Recd_Seld"]
    # every actor's queue selected exactly one bargain per turn
    for t in range(t_n):
        sel = con.execute(
            "SELECT COUNT(*) FROM Bargn WHERE Turn_t=? AND (Init_Seld=1 OR Recd_Seld=1)",
            (t,)).fetchone()[0]
        assert sel >= 1
    # movers point at bargains that exist
    movers = con.execute("SELECT DISTINCT Mover_BargnId FROM VectorPosition WHERE "
                         "Mover_BargnId IS NOT NULL").fetchall()
    ids = {r[0] for r in con.execute("SELECT BargnId FROM Bargn")}
    assert movers and all(m[0] in ids for m in movers)
    bc = con.execute("SELECT Init_Coord, Recd_Coord FROM BargnCoords").fetchall()
    assert all(0 <= a <= 100 and 0 <= b <= 100 for a, b in bc)
    # per-estimator probabilities sum to one over unique positions at turn 0
    probs = con.execute("SELECT Est_h, Prob FROM PosProb WHERE Turn_t=0").fetchall()
    assert len({h for h, _ in probs}) == 7
    with open(tmp_path / "run.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == (t_n + 1) * 21 and rows[0]["actor"] == "sactor-00"
    # a second run appends
    _, sid2 = run_and_export(sc, tmp_path / "run.db", rng=1)
    assert sid2 != sid
    assert con.execute("SELECT COUNT(*) FROM ScenarioDesc").fetchone()[0] == 2


def test_export_refuses_duplicates_and_other_models(tmp_path: Path) -> None:
    sc = read_ktab_csv(DUMMY)
    fc = SpatialModel().forecast(sc)
    export_ktab_db(fc, sc, tmp_path / "a.db", scenario_id="X" * 32)
    with pytest.raises(DetenteError, match="already"):
        export_ktab_db(fc, sc, tmp_path / "a.db", scenario_id="X" * 32)
    from detente.models.registry import get_model

    other = get_model("mean").forecast(sc)
    with pytest.raises(ModelError):
        export_ktab_db(other, sc, tmp_path / "b.db")
    with pytest.raises(DetenteError, match="pyarrow") if not _has_pyarrow() else _noop():
        write_tidy(fc, tmp_path / "t.parquet")
    # without per-estimator probabilities PosProb holds everyone's own view (Est_h = -1)
    con = sqlite3.connect(tmp_path / "a.db")
    assert {r[0] for r in con.execute("SELECT DISTINCT Est_h FROM PosProb")} == {-1}
    assert np.isfinite(fc.outcome).all()


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


class _noop:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> bool:
        return False


def test_cli_ktab_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from detente.cli.app import app, main

    out = tmp_path / "cli.db"
    res = CliRunner().invoke(app, ["ktab-export", str(DUMMY), "-o", str(out), "--preset", "ktab",
                                   "--set", "max_turns=50"])
    assert res.exit_code == 0, res.output
    assert "10 turns" in res.output and out.exists() and out.with_suffix(".csv").exists()
    assert main(["ktab-export", str(tmp_path / "missing.csv"), "-o", str(out)]) == 2
