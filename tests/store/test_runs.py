"""Run store: round trip, listing, resolving, deleting, diffs, and crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from detente.models.baselines import CompromiseModel, WeightedMedianModel
from detente.scenario.schema import Scenario
from detente.store import RunStore, StoreError, default_store_path, diff_runs


def _scenario(salience_b: float = 60.0, sid: str = "mini") -> Scenario:
    return Scenario.model_validate({
        "id": sid, "name": "Mini talks",
        "issues": [{"id": "t", "name": "Territory", "anchors": [{"value": 0, "label": "none"},
                                                                 {"value": 100, "label": "all"}]},
                   {"id": "g", "name": "Guarantees"}],
        "actors": [{"id": "a", "name": "A", "capability": 50},
                   {"id": "b", "name": "B", "capability": 30},
                   {"id": "c", "name": "C", "capability": 20}],
        "stances": [{"actor": "a", "issue": "t", "position": 10, "salience": 80},
                    {"actor": "b", "issue": "t", "position": 90, "salience": salience_b},
                    {"actor": "c", "issue": "t", "position": 50, "salience": 40},
                    {"actor": "a", "issue": "g", "position": 20, "salience": 50},
                    {"actor": "b", "issue": "g", "position": 70, "salience": 50}],
    })


def _forecasts(sc: Scenario):
    return [CompromiseModel().forecast(sc), WeightedMedianModel().forecast(sc)]


def test_round_trip(tmp_path: Path) -> None:
    sc = _scenario()
    fs = _forecasts(sc)
    with RunStore(tmp_path / "runs.sqlite") as st:
        rid = st.save_forecasts(sc, fs, seed=3, command="detente run mini.yaml")
        run = st.get(rid)
        assert run.scenario() == sc
        assert run.summary.seed == 3 and run.summary.models == ["compromise", "weighted_median"]
        assert [(r["model"], r["issue"]) for r in run.forecasts] == [
            ("compromise", "t"), ("compromise", "g"), ("weighted_median", "t"),
            ("weighted_median", "g")]
        back = run.to_forecasts()
        for a, b in zip(fs, back, strict=True):
            assert a.model == b.model
            np.testing.assert_allclose(a.outcome, b.outcome)
            np.testing.assert_allclose(a.positions, b.positions)
            assert a.provenance.scenario_hash == b.provenance.scenario_hash
        assert run.provenance["scenario_hash"] == sc.content_hash()
        assert st.integrity_ok()


def test_wal_mode_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DETENTE_STORE", str(tmp_path / "x" / "env.sqlite"))
    assert default_store_path() == tmp_path / "x" / "env.sqlite"
    with RunStore() as st:
        assert st.path == tmp_path / "x" / "env.sqlite"
        mode = st._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    monkeypatch.delenv("DETENTE_STORE")
    assert default_store_path().name == "runs.sqlite"


def test_list_resolve_delete(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite") as st:
        ids = [st.save_forecasts(_scenario(sid=f"s{k}"), _forecasts(_scenario()))
               for k in range(3)]
        assert [r.id for r in st.list_runs()] == ids[::-1]
        assert [r.id for r in st.list_runs(limit=1)] == [ids[-1]]
        assert [r.id for r in st.list_runs(scenario="s1")] == [ids[1]]
        assert st.resolve("latest") == ids[-1]
        assert st.resolve("-2") == ids[1]
        assert st.resolve(f"run:{ids[0]}") == ids[0]
        with pytest.raises(StoreError, match="no run 999"):
            st.resolve("999")
        with pytest.raises(StoreError, match="expected a run id"):
            st.resolve("banana")
        assert st.delete([ids[0]]) == 1
        assert st.count() == 2
        # the deleted run's rows and its scenario (used by no other run) are gone
        assert st._conn.execute("SELECT COUNT(*) FROM positions WHERE run_id=?",
                                (ids[0],)).fetchone()[0] == 0
        assert st._conn.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0] == 2


def test_diff_reports_stance_params_and_forecasts(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite") as st:
        a = st.save_forecasts(_scenario(), _forecasts(_scenario()), seed=0)
        sc2 = _scenario(salience_b=90)
        b = st.save_forecasts(sc2, [CompromiseModel().forecast(sc2)], seed=1)
        d = diff_runs(st.get(a), st.get(b))
    assert not d.same_scenario
    assert [c.line() for c in d.inputs] == ["stance b / t: salience: 60 -> 90"]
    assert {c.what for c in d.params} == {"seed", "model weighted_median"}
    changed = {(f.model, f.issue): f for f in d.changed_forecasts()}
    assert changed[("compromise", "t")].delta > 0  # B cares more, pulls territory up
    assert ("compromise", "g") not in changed
    assert changed[("weighted_median", "t")].new is None


def test_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable run store"):
        RunStore(bad)


_CHILD = textwrap.dedent("""
    import sys, time
    from detente.models.baselines import CompromiseModel
    from detente.store import RunStore, record_from_forecasts
    sys.path.insert(0, {tests!r})
    from store.test_runs import _scenario

    class SlowRows(list):
        # yields half the rows, announces it, then stalls inside the open transaction
        def __iter__(self):
            for k, row in enumerate(list.__iter__(self)):
                if k == len(self) // 2:
                    print("writing", flush=True)
                    time.sleep(60)
                yield row

    sc = _scenario(sid="killed")
    rec = record_from_forecasts(sc, [CompromiseModel().forecast(sc)])
    rows = [dict(r, round=k) for k, r in enumerate(list(rec.models[0].positions) * 200)]
    rec.models[0].positions = SlowRows(rows)
    RunStore({path!r}).save(rec)
""")


def test_sigkill_mid_write_leaves_earlier_runs_intact(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as st:
        earlier = [st.save_forecasts(_scenario(sid=f"ok{k}"), _forecasts(_scenario()))
                   for k in range(3)]
    tests_dir = str(Path(__file__).resolve().parents[1])
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(tests=tests_dir,
                                                                  path=str(path))],
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": tests_dir})
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
        # the child holds the write lock with a half-written run
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    with RunStore(path) as st:
        assert st.integrity_ok()
        assert [r.id for r in st.list_runs()] == earlier[::-1]
        for rid in earlier:
            run = st.get(rid)
            assert len(run.to_forecasts()) == 2
        assert st._conn.execute("SELECT COUNT(*) FROM runs WHERE scenario_id='killed'"
                                ).fetchone()[0] == 0
        # and the store still takes new runs
        st.save_forecasts(_scenario(sid="after"), _forecasts(_scenario()))
        assert st.count() == 4
    # a plain sqlite3 reader agrees
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
