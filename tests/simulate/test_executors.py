"""The same seed gives bit-identical ensembles on the serial, process and Dask executors."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from detente.scenario.load import load_scenario
from detente.simulate.executors import ExecutorError, open_executor
from detente.simulate.montecarlo import montecarlo
from detente.simulate.whatif import whatif

MODELS = ["compromise", "weighted_median", "expected_utility", "nash"]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("ukraine-2025")


@pytest.fixture(scope="module")
def serial(scenario):
    return montecarlo(scenario, MODELS, n=120, seed=42, executor="serial", paths=True)


def _same(a, b):
    assert a.models == b.models
    assert np.array_equal(a.draws, b.draws)
    assert np.array_equal(a.outcome, b.outcome, equal_nan=True)
    assert np.array_equal(a.converged, b.converged)
    assert not b.partial
    # per-round fans (expected_utility is the round-based model here)
    assert set(a.paths) == set(b.paths) == {"expected_utility"}
    for name, pa in a.paths.items():
        pb = b.paths[name]
        assert pa.n == pb.n == a.n_draws
        assert np.array_equal(pa.values, pb.values, equal_nan=True)
        assert np.array_equal(pa.point, pb.point)


@pytest.mark.slow
def test_process_pool_matches_serial(scenario, serial):
    for workers in (1, 2):
        r = montecarlo(scenario, MODELS, n=120, seed=42, executor="process", workers=workers,
                       paths=True)
        _same(serial, r)


@pytest.mark.distributed
@pytest.mark.slow
def test_dask_local_cluster_matches_serial(scenario, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        r = montecarlo(scenario, MODELS, n=120, seed=42, executor="dask",
                       address=cluster.scheduler_address, paths=True)
        _same(serial, r)
        assert r.executor == "dask" and r.workers == 2
        # what-if through the same scheduler, common random numbers intact
        w = whatif(scenario, [{"name": "drop", "drop": scenario.actor_ids[-1]}],
                   ["compromise"], n=40, seed=1, executor="dask",
                   address=cluster.scheduler_address)
        w0 = whatif(scenario, [{"name": "drop", "drop": scenario.actor_ids[-1]}],
                    ["compromise"], n=40, seed=1, executor="serial")
        assert np.array_equal(w.draws, w0.draws)


@pytest.mark.distributed
def test_dask_without_address_starts_a_local_cluster(scenario, serial):
    r = montecarlo(scenario, MODELS[:2], n=120, seed=42, executor="dask", workers=2)
    assert np.array_equal(r.outcome, serial.outcome[:2])


def test_missing_dask_extra_names_it(monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("no distributed")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ExecutorError, match=r"detente\[distributed\]"):
        with open_executor("dask"):
            pass


@pytest.mark.distributed
@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    with pytest.raises(ExecutorError, match="cannot reach"):
        with open_executor("dask", address="tcp://127.0.0.1:9"):
            pass
