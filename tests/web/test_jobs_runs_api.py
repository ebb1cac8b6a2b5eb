"""Jobs (forecast, Monte Carlo, cancel, limits, restart), stored runs, exports, figures,
comparison and proposal evaluation."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.web.conftest import assert_clear_4xx, make_client, run_job, wait_job

pytestmark = pytest.mark.web


def test_forecast_job_goes_to_the_run_store(client):
    j = run_job(client, scenario="ukraine-2025", models=["compromise", "weighted_median"],
                note="first")
    assert j["status"] == "done" and j["progress"] == 1.0 and j["run_id"]
    run = client.get(f"/api/runs/{j['run_id']}").json()
    assert run["models"] == ["compromise", "weighted_median"] and run["note"] == "first"
    f = run["forecasts"][0]
    assert set(f["outcome"]) == {i["id"] for i in run["issues"]}
    assert all(0 <= v <= 100 for v in f["outcome"].values())
    # the same store the CLI reads
    from detente.store import RunStore

    with RunStore(client.app.state.detente.jobs.store_path) as st:
        assert st.get(j["run_id"]).summary.kind == "forecast"
    listed = client.get("/api/runs").json()
    assert listed[0]["id"] == j["run_id"]
    assert client.get("/api/runs", params={"scenario": "ukraine-2025"}).json()
    assert client.get("/api/runs", params={"scenario": "emission-bdm1994"}).json() == []
    assert_clear_4xx(client.get("/api/runs", params={"scenario": "../x"}), 400)


def test_round_based_positions_and_exports(client):
    j = run_job(client, scenario="emission-bdm1994", models=["expected_utility"],
                params={"expected_utility": {"preset": "scholz"}})
    assert j["status"] == "done", j
    rid = j["run_id"]
    run = client.get(f"/api/runs/{rid}").json()
    grid = run["forecasts"][0]["positions"]["delay"]
    assert len(grid) > 1 and len(grid[0]) == len(run["actors"])
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/runs/{rid}/forecasts.csv").text)))
    assert rows[0]["model"] == "expected_utility" and float(rows[0]["outcome"]) > 0
    pos = client.get(f"/api/runs/{rid}/positions.csv").text.splitlines()
    assert pos[0] == "model,round,actor,issue,position" and len(pos) > 10
    assert "no Monte Carlo" in assert_clear_4xx(client.get(f"/api/runs/{rid}/draws.csv"), 404)


def test_montecarlo_job_and_draws(client):
    j = run_job(client, scenario="emission-bdm1994", kind="montecarlo",
                models=["compromise", "weighted_median"], draws=60, seed=3)
    assert j["status"] == "done", j
    run = client.get(f"/api/runs/{j['run_id']}").json()
    mc = run["montecarlo"]
    assert mc["n_draws"] == 60 and mc["seed"] == 3
    h = mc["histograms"]["compromise"]["delay"]
    assert sum(h["counts"]) == 60 and len(h["edges"]) == len(h["counts"]) + 1
    text = client.get(f"/api/runs/{j['run_id']}/draws.csv").text
    assert len(text.splitlines()) == 1 + 60 * 2


def test_cancel_running_montecarlo(client):
    r = client.post("/api/jobs", json={"scenario": "ukraine-2025", "kind": "montecarlo",
                                       "models": ["expected_utility"], "draws": 20000})
    assert r.status_code == 202
    jid = r.json()["id"]
    t0 = time.monotonic()
    while client.get(f"/api/jobs/{jid}").json()["status"] != "running":
        assert time.monotonic() - t0 < 20
        time.sleep(0.02)
    c = client.post(f"/api/jobs/{jid}/cancel")
    assert c.status_code == 200
    j = wait_job(client, jid)
    assert j["status"] == "cancelled" and j["run_id"] is None, j
    assert "already finished" in assert_clear_4xx(client.post(f"/api/jobs/{jid}/cancel"), 409)
    # the job list keeps it, and the page shows it
    assert any(x["id"] == jid for x in client.get("/api/jobs").json())
    assert client.get(f"/jobs/{jid}").status_code == 200


def test_job_bad_requests(client):
    post = lambda **b: client.post("/api/jobs", json={"scenario": "ukraine-2025", **b})  # noqa: E731
    assert "unknown model" in assert_clear_4xx(post(models=["oracle"]), 400)
    assert "listed twice" in assert_clear_4xx(post(models=["mean", "mean"]), 400)
    assert "not being run" in assert_clear_4xx(post(models=["mean"],
                                                    params={"compromise": {"x": 1}}), 400)
    assert "unknown parameter" in assert_clear_4xx(
        post(models=["expected_utility"], params={"expected_utility": {"nope": 1}}), 400)
    assert "preset" in assert_clear_4xx(
        post(models=["expected_utility"], params={"expected_utility": {"preset": "x"}}), 400)
    assert "draws" in assert_clear_4xx(post(kind="montecarlo", draws=10**7), 413)
    assert_clear_4xx(post(kind="montecarlo", draws=0), 422)
    assert_clear_4xx(post(seed=-1), 422)
    assert_clear_4xx(post(kind="sorcery"), 422)
    assert_clear_4xx(post(surprise=True), 422)
    assert "unknown scenario" in assert_clear_4xx(
        client.post("/api/jobs", json={"scenario": "ghost"}), 404)
    assert_clear_4xx(client.post("/api/jobs", json={"scenario": "../../etc"}), 400)
    assert_clear_4xx(client.post("/api/jobs", content=b"[", headers={
        "content-type": "application/json"}), 422)


@pytest.mark.parametrize("jid", ["0" * 32, "nothex!", "..%2F..", "a" * 64])
def test_unknown_or_malformed_job_ids(client, jid):
    for r in (client.get(f"/api/jobs/{jid}"), client.post(f"/api/jobs/{jid}/cancel"),
              client.get(f"/jobs/{jid}")):
        assert_clear_4xx(r, 400, 404, 422)


def test_job_limit(tmp_path):
    with make_client(tmp_path, max_active_jobs=1) as c:
        r1 = c.post("/api/jobs", json={"scenario": "ukraine-2025", "kind": "montecarlo",
                                       "models": ["expected_utility"], "draws": 20000})
        assert r1.status_code == 202
        m = assert_clear_4xx(c.post("/api/jobs", json={"scenario": "ukraine-2025"}), 429)
        assert "limit 1" in m
        c.post(f"/api/jobs/{r1.json()['id']}/cancel")
        wait_job(c, r1.json()["id"])
        assert c.post("/api/jobs", json={"scenario": "ukraine-2025",
                                         "models": ["mean"]}).status_code == 202


def test_jobs_survive_restart(tmp_path):
    with make_client(tmp_path) as c:
        j = run_job(c, scenario="emission-bdm1994", models=["mean"])
    # a job file left 'running' by a killed server
    import json

    stale = dict(j, id="ab" * 16, status="running", run_id=None)
    (tmp_path / "jobs" / f"{stale['id']}.json").write_text(json.dumps(stale))
    with make_client(tmp_path) as c:
        assert c.get(f"/api/jobs/{j['id']}").json()["run_id"] == j["run_id"]
        s = c.get(f"/api/jobs/{stale['id']}").json()
        assert s["status"] == "interrupted" and s["final"]
        assert c.get(f"/api/runs/{j['run_id']}").status_code == 200


@pytest.mark.parametrize("rid", ["999999", "0", "-1", "abc", "1.5", "99999999999999999999999"])
def test_unknown_or_malformed_run_ids(client, rid):
    for url in (f"/api/runs/{rid}", f"/api/runs/{rid}/forecasts.csv",
                f"/api/runs/{rid}/positions.csv", f"/api/runs/{rid}/draws.csv",
                f"/api/runs/{rid}/figures", f"/api/runs/{rid}/figures/model-comparison.png",
                f"/runs/{rid}", f"/api/compare?a={rid}&b=1", f"/compare?a={rid}&b={rid}"):
        assert_clear_4xx(client.get(url), 404, 422)


def test_figures_and_compare(client):
    pytest.importorskip("matplotlib")
    a = run_job(client, scenario="ukraine-2025", models=["compromise", "weighted_median"])
    b = run_job(client, scenario="ukraine-2025-alt", models=["compromise", "weighted_median"])
    figs = client.get(f"/api/runs/{a['run_id']}/figures").json()
    keys = [f["key"] for f in figs]
    assert "model-comparison" in keys and any(k.startswith("power") for k in keys)
    r = client.get(f"/api/runs/{a['run_id']}/figures/model-comparison.png")
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "has no figure" in assert_clear_4xx(
        client.get(f"/api/runs/{a['run_id']}/figures/nope.png"), 404)
    assert_clear_4xx(client.get(f"/api/runs/{a['run_id']}/figures/..%2F..%2Fx.png"), 400, 404)
    d = client.get("/api/compare", params={"a": a["run_id"], "b": b["run_id"]}).json()
    assert not d["same_scenario"] and d["inputs"]
    assert any(f["delta"] for f in d["forecasts"])
    assert_clear_4xx(client.get("/api/compare", params={"a": a["run_id"]}), 422)
    page = client.get("/compare", params={"a": a["run_id"], "b": b["run_id"]})
    assert page.status_code == 200 and "compare-table" in page.text


def test_proposals(client):
    rows = client.get("/api/proposals").json()
    assert rows and rows[0]["id"] == "us-draft-2025"
    p = client.get("/api/proposals/us-draft-2025").json()
    assert p["terms"]["donbas"] == 0
    assert_clear_4xx(client.get("/api/proposals/nope"), 404)
    assert_clear_4xx(client.get("/api/proposals/..%2F..%2Fetc"), 400, 404)
    r = client.post("/api/proposals/evaluate", json={"scenario": "ukraine-2025",
                                                     "terms": p["terms"], "guarantee": 0.6})
    assert r.status_code == 200, r.text
    d = r.json()
    assert not d["passes"] and {v["actor"] for v in d["vetoes"]} >= {"ru", "ua"}
    assert all("name" in a for a in d["actors"])
    ok = client.post("/api/proposals/evaluate", json={"scenario": "emission-bdm1994",
                                                      "terms": {"delay": 6}}).json()
    assert ok["passes"]
    post = lambda **b: client.post("/api/proposals/evaluate", json=b)  # noqa: E731
    assert "unknown issue" in assert_clear_4xx(post(scenario="ukraine-2025",
                                                    terms={"mars": 1}), 400)
    assert "outside the scale" in assert_clear_4xx(post(scenario="ukraine-2025",
                                                        terms={"donbas": 500}), 400)
    assert "empty" in assert_clear_4xx(post(scenario="emission-bdm1994", terms={}), 400)
    assert_clear_4xx(post(scenario="ghost", terms={"x": 1}), 404)
    assert_clear_4xx(post(scenario="ukraine-2025", terms={"donbas": 1}, guarantee=2), 422)
    assert_clear_4xx(post(scenario="ukraine-2025", terms={"donbas": "lots"}), 422)
    assert_clear_4xx(post(terms={"donbas": 1}), 422)


@pytest.mark.slow
def test_process_executor_forecast_montecarlo_and_cancel(tmp_path):
    """What `detente serve` uses by default: forecasts and draws on low-priority workers."""
    with make_client(tmp_path, executor="process", workers=2) as c:
        j = run_job(c, scenario="ukraine-2025", models=["compromise", "expected_utility"])
        assert j["status"] == "done", j
        m = run_job(c, scenario="emission-bdm1994", kind="montecarlo",
                    models=["compromise"], draws=100)
        assert m["status"] == "done", m
        serial = run_job(c, scenario="emission-bdm1994", kind="montecarlo",
                         models=["compromise"], draws=100)
        a = c.get(f"/api/runs/{m['run_id']}").json()["montecarlo"]["summary"]
        b = c.get(f"/api/runs/{serial['run_id']}").json()["montecarlo"]["summary"]
        assert a == b  # same seed, same ensemble
        r = c.post("/api/jobs", json={"scenario": "ukraine-2025", "kind": "montecarlo",
                                      "models": ["expected_utility"], "draws": 20000})
        jid = r.json()["id"]
        t0 = time.monotonic()
        while c.get(f"/api/jobs/{jid}").json()["done"] < 3:
            assert time.monotonic() - t0 < 60
            time.sleep(0.05)
        c.post(f"/api/jobs/{jid}/cancel")
        t0 = time.monotonic()
        assert wait_job(c, jid)["status"] == "cancelled"
        assert time.monotonic() - t0 < 20


@pytest.mark.slow
@pytest.mark.distributed
def test_dask_executor(tmp_path):
    pytest.importorskip("distributed")
    with make_client(tmp_path, executor="dask", workers=1) as c:
        j = run_job(c, scenario="emission-bdm1994", models=["compromise", "expected_utility"])
        assert j["status"] == "done", j
        m = run_job(c, scenario="emission-bdm1994", kind="montecarlo", models=["compromise"],
                    draws=50)
        assert m["status"] == "done", m
        assert c.get(f"/api/runs/{m['run_id']}").json()["montecarlo"]["executor"] == "dask"
