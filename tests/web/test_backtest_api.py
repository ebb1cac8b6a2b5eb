"""Backtests from the dashboard: upload a DEU file (or cases + actors), run the job, read the
scores (the same numbers as ``detente.analysis.backtest``), the CSV and the figure; every
bad upload is a 4xx with the reader's message."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.web.conftest import assert_clear_4xx, make_client, run_job, wait_job

pytestmark = pytest.mark.web

DEU = SHARED_DATA / "deu" / "deu_dev.csv"
CASES = SHARED_DATA / "cases"


@pytest.fixture
def deu_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The header and the first 40 rows of the DEU development set."""
    if not DEU.is_file():
        pytest.skip(f"shared DEU data not found at {DEU}")
    lines = DEU.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path_factory.mktemp("deu") / "deu_small.csv"
    path.write_text("".join(lines[:41]), encoding="utf-8")
    return path


def _post(client, content: bytes, name: str = "deu_small.csv", actors=None, **form):
    files = [("file", (name, content))]
    if actors is not None:
        files.append(("actors", actors))
    data = {k: v for k, v in form.items()}
    return client.post("/api/backtest", files=files, data=data)


def _tmp_empty(client) -> bool:
    return not list((client.app.state.detente.settings.data_dir / "tmp").iterdir())


def test_backtest_job_matches_the_library(client, deu_small):
    from detente.analysis.backtest import backtest, load_backtest_cases
    from detente.models.registry import get_model

    r = _post(client, deu_small.read_bytes(), models=["compromise", "exchange"], n_boot="300",
              seed="2")
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done" and job["kind"] == "backtest", job
    assert job["progress"] == 1.0 and "issues scored" in job["message"]
    assert _tmp_empty(client)

    cases, left_out = load_backtest_cases(deu_small, "deu", by="proposal")
    direct = backtest(cases, [get_model("compromise"), get_model("exchange")],
                      n_unscoreable=left_out, source="deu_small.csv", seed=2,
                      n_boot=300).to_dict()
    res = job["result"]
    assert res["n_scored_issues"] == len(cases) == 39 and res["n_unscoreable"] == left_out
    assert res["source"] == "deu_small.csv"
    got = {m["model"]: m for m in res["models"]}
    assert list(got) == ["compromise", "exchange"]
    assert got["compromise"]["n"] == len(cases)
    assert got["compromise"]["mae"] == direct["models"][0]["mae"]
    assert got["exchange"] == direct["models"][1]  # same forecasts, errors and bootstrap
    assert client.get(f"/api/backtest/{job['id']}").json() == res

    # the table as spreadsheet-safe CSV
    text = client.get(f"/api/backtest/{job['id']}/scores.csv")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [r["model"] for r in rows] == ["compromise", "exchange"]
    assert float(rows[0]["mae"]) == pytest.approx(got["compromise"]["mae"])
    assert float(rows[1]["diff_vs_compromise"]) == pytest.approx(
        got["exchange"]["diff_vs_compromise"]["mean"])

    # the report's figure
    pytest.importorskip("matplotlib")
    png = client.get(f"/api/backtest/{job['id']}/figure.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"

    # the page shows the job (its script renders the table)
    page = client.get(f"/backtest?job={job['id']}")
    assert page.status_code == 200 and 'id="backtest-job"' in page.text
    assert job["id"] in page.text and "backtest.js" in page.text
    assert client.get(f"/jobs/{job['id']}").status_code == 200
    assert f"/backtest?job={job['id']}" in client.get("/runs").text


def test_backtest_default_models_and_issue_level(client, deu_small):
    from detente.models.registry import available_models

    r = _post(client, deu_small.read_bytes(), by="issue", n_boot="100")
    assert r.status_code == 202, r.text
    assert r.json()["request"]["models"] == [] and r.json()["request"]["by"] == "issue"
    job = wait_job(client, r.json()["id"], timeout=120)
    assert job["status"] == "done", job
    assert [m["model"] for m in job["result"]["models"]] == available_models()


def test_backtest_cases_format(client):
    if not (CASES / "cases.csv").is_file():
        pytest.skip("shared cases data not found")
    r = _post(client, (CASES / "cases.csv").read_bytes(), name="cases.csv", format="cases",
              models=["compromise", "weighted_median"],
              actors=("case_actors.csv", (CASES / "case_actors.csv").read_bytes()))
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["n_scored_issues"] >= 2
    # cases without the actors file, or an actors file with a DEU upload: clear 400s
    m = assert_clear_4xx(_post(client, (CASES / "cases.csv").read_bytes(), name="cases.csv",
                               format="cases"), 400)
    assert "actors" in m
    m = assert_clear_4xx(_post(client, b"isnr\n", format="deu",
                               actors=("a.csv", b"case_id\n")), 400)
    assert "format 'cases'" in m


def test_backtest_bad_uploads(client, deu_small):
    good = deu_small.read_bytes()
    data_dir = str(client.app.state.detente.settings.data_dir)
    # not a CSV
    assert "unsupported file type" in assert_clear_4xx(_post(client, b"id: x\n", "s.yaml"), 415)
    assert "binary" in assert_clear_4xx(_post(client, b"\x00\x01\x02\xff" * 50, "b.csv"), 400)
    assert "empty" in assert_clear_4xx(_post(client, b"", "e.csv"), 400)
    m = assert_clear_4xx(_post(client, b"a,b\n1,2\n", "other.csv"), 400)
    assert "other.csv" in m and "DEU" in m
    # a malformed DEU row: the reader's message names file, line, field and fix
    lines = good.decode().splitlines()
    head = lines[0].split(",")
    row = lines[5].split(",")
    row[head.index("pcom")] = "lots"
    lines[5] = ",".join(row)
    m = assert_clear_4xx(_post(client, "\n".join(lines).encode()), 400)
    assert "deu_small.csv, line 6" in m and "pcom" in m and "Fix:" in m
    assert data_dir not in m
    short = lines[:3] + [",".join(lines[3].split(",")[:10])]
    assert "fields" in assert_clear_4xx(_post(client, "\n".join(short).encode()), 400)
    # a file without a scoreable issue
    out = head.index("out")
    rows = [r.split(",") for r in lines[1:4]]
    for r in rows:
        r[out] = ""
    m = assert_clear_4xx(_post(client, "\n".join([lines[0]] + [",".join(r) for r in rows])
                               .encode()), 400)
    assert "no scoreable issue" in m
    # models and settings
    assert "unknown model" in assert_clear_4xx(_post(client, good, models=["oracle"]), 400)
    assert "twice" in assert_clear_4xx(_post(client, good, models=["mean", "mean"]), 400)
    assert_clear_4xx(_post(client, good, format="ktab"), 422)
    assert_clear_4xx(_post(client, good, by="country"), 422)
    assert_clear_4xx(_post(client, good, n_boot="5"), 422)
    assert_clear_4xx(_post(client, good, seed="-1"), 422)
    assert_clear_4xx(client.post("/api/backtest", data={"format": "deu"}), 422)  # no file
    # oversize
    big = good + b"\n" * 3_000_000
    assert "MB" in assert_clear_4xx(_post(client, big), 413)
    assert _tmp_empty(client)
    assert client.get("/api/jobs").json() == []  # nothing was queued


def test_backtest_upload_limit_setting(tmp_path, deu_small):
    with make_client(tmp_path / "d", max_upload_bytes=1000) as c:
        assert "MB" in assert_clear_4xx(_post(c, deu_small.read_bytes()), 413)


def test_backtest_result_endpoints_refuse_other_jobs(client, deu_small):
    fc = run_job(client, scenario="emission-bdm1994", models=["mean"])
    for url in (f"/api/backtest/{fc['id']}", f"/api/backtest/{fc['id']}/scores.csv",
                f"/api/backtest/{fc['id']}/figure.png", f"/backtest?job={fc['id']}"):
        assert "not a backtest" in assert_clear_4xx(client.get(url), 404)
    for jid in ("0" * 32, "nothex!", "..%2F.."):
        for url in (f"/api/backtest/{jid}", f"/api/backtest/{jid}/scores.csv",
                    f"/api/backtest/{jid}/figure.png", f"/backtest?job={jid}"):
            assert_clear_4xx(client.get(url), 400, 404)


def test_backtest_cancel(client):
    if not DEU.is_file():
        pytest.skip("shared DEU data not found")
    r = _post(client, DEU.read_bytes(), name="deu_dev.csv",
              models=["exchange", "spatial", "ensemble", "expected_utility"])
    assert r.status_code == 202, r.text
    jid = r.json()["id"]
    t0 = time.monotonic()
    while client.get(f"/api/jobs/{jid}").json()["status"] == "queued":
        assert time.monotonic() - t0 < 20
        time.sleep(0.02)
    assert client.post(f"/api/jobs/{jid}/cancel").status_code == 200
    j = wait_job(client, jid)
    assert j["status"] == "cancelled" and j["result"] is None, j
    assert "no result yet" in assert_clear_4xx(client.get(f"/api/backtest/{jid}"), 409)


def test_backtest_job_limit(tmp_path, deu_small):
    with make_client(tmp_path / "d", max_active_jobs=1) as c:
        r = c.post("/api/jobs", json={"scenario": "ukraine-2025", "kind": "montecarlo",
                                      "models": ["expected_utility"], "draws": 20000})
        assert r.status_code == 202
        assert "limit 1" in assert_clear_4xx(_post(c, deu_small.read_bytes()), 429)
        c.post(f"/api/jobs/{r.json()['id']}/cancel")
        wait_job(c, r.json()["id"])


def test_backtest_page(client):
    page = client.get("/backtest")
    assert page.status_code == 200
    assert 'id="backtest-form"' in page.text and 'name="models"' in page.text
    assert 'href="/backtest"' in client.get("/").text  # in the navigation


@pytest.mark.slow
def test_backtest_on_worker_processes(tmp_path, deu_small):
    """With the process executor each model is scored in a worker: same numbers."""
    with make_client(tmp_path / "p", executor="process", workers=2) as c:
        r = _post(c, deu_small.read_bytes(), models=["compromise", "exchange", "nash"],
                  n_boot="200")
        assert r.status_code == 202, r.text
        proc = wait_job(c, r.json()["id"], timeout=120)
    with make_client(tmp_path / "s") as c:
        r = _post(c, deu_small.read_bytes(), models=["compromise", "exchange", "nash"],
                  n_boot="200")
        serial = wait_job(c, r.json()["id"])
    assert proc["status"] == serial["status"] == "done", (proc, serial)
    assert proc["result"] == serial["result"]


def test_models_fitted_on_the_upload_are_flagged_in_sample(client):
    """Uploading the very file the ensemble was fitted on: its MAE is marked in-sample,
    with its cross-validated MAE, as in the CLI and the report."""
    from detente.models.fitted import fitted_record

    if not DEU.is_file():
        pytest.skip(f"shared DEU data not found at {DEU}")
    r = _post(client, DEU.read_bytes(), name="deu_dev.csv", models=["compromise", "ensemble"],
              n_boot="100")
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    got = {m["model"]: m for m in job["result"]["models"]}
    cv = fitted_record("ensemble")["cross_validation"]["cv_mae_mean"]
    assert "note" not in got["compromise"]
    assert "in-sample" in got["ensemble"]["note"] and f"{cv:.2f}" in got["ensemble"]["note"]


def test_backtest_scores_interval_forecasts(client, deu_small):
    r = _post(client, deu_small.read_bytes(), models=["compromise"], n_boot="100",
              coverage="20")
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    cal = job["result"]["calibration"]["compromise"]
    assert [c["nominal"] for c in cal["montecarlo"]] == [0.9, 0.5]
    assert [c["nominal"] for c in cal["conformal"]] == [0.9, 0.5]
    assert job["progress"] == 1.0
    bad = _post(client, deu_small.read_bytes(), models=["compromise"], coverage="5000")
    assert_clear_4xx(bad)
