"""Every page renders; every endpoint in the OpenAPI schema is covered by a test and answers
bad input with a clear 4xx, never a 500."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import TOKEN, assert_clear_4xx, make_client, run_job

pytestmark = pytest.mark.web

# Every (method, path) of the OpenAPI schema and the tests that exercise it. A new endpoint
# fails test_every_endpoint_is_covered until it is added here with its tests.
RUNS = "test_jobs_runs_api::"
EDIT = "test_scenario_edit_api::"
BT = "test_backtest_api::"
COVERED: dict[tuple[str, str], str] = {
    ("get", "/api/health"): "test_scenarios_api::test_health_and_models",
    ("get", "/api/models"): "test_scenarios_api::test_health_and_models",
    ("get", "/api/scenarios"): "test_scenarios_api::test_list_and_get_bundled",
    ("post", "/api/scenarios/validate"): "test_scenarios_api::test_validate_*",
    ("post", "/api/scenarios/upload"): "test_scenarios_api::test_upload_*",
    ("get", "/api/scenarios/{sid}"): "test_scenarios_api::test_unknown_scenario_404",
    ("put", "/api/scenarios/{sid}"): "test_scenarios_api::test_put_saves_and_reports_cells",
    ("delete", "/api/scenarios/{sid}"): "test_scenarios_api::test_upload_yaml_then_read_*",
    ("get", "/api/scenarios/{sid}/yaml"): "test_scenarios_api::test_downloads",
    ("get", "/api/scenarios/{sid}/csv"): "test_scenarios_api::test_csv_export_is_spreadsheet_safe",
    ("post", "/api/scenarios/{sid}/issues"): EDIT + "test_add_issue_actor_and_stances_*",
    ("delete", "/api/scenarios/{sid}/issues/{iid}"): EDIT + "test_remove_issue_with_its_stances",
    ("post", "/api/scenarios/{sid}/actors"): EDIT + "test_add_errors_name_their_field",
    ("delete", "/api/scenarios/{sid}/actors/{aid}"): EDIT + "test_remove_actor_with_its_inputs",
    ("put", "/api/scenarios/{sid}/stances/{aid}/{iid}"): EDIT + "test_add_issue_actor_and_*",
    ("delete", "/api/scenarios/{sid}/stances/{aid}/{iid}"): EDIT + "test_remove_stance_*",
    ("post", "/api/backtest"): BT + "test_backtest_job_matches_the_library, test_backtest_bad_*",
    ("get", "/api/backtest/{jid}"): BT + "test_backtest_job_matches_the_library",
    ("get", "/api/backtest/{jid}/scores.csv"): BT + "test_backtest_job_matches_the_library",
    ("get", "/api/backtest/{jid}/figure.png"): BT + "test_backtest_job_matches_the_library",
    ("get", "/api/proposals"): "test_jobs_runs_api::test_proposals",
    ("get", "/api/proposals/{pid}"): "test_jobs_runs_api::test_proposals",
    ("post", "/api/proposals/evaluate"): "test_jobs_runs_api::test_proposals",
    ("post", "/api/jobs"): "test_jobs_runs_api::test_job_bad_requests",
    ("get", "/api/jobs"): "test_jobs_runs_api::test_cancel_running_montecarlo",
    ("get", "/api/jobs/{jid}"): "test_jobs_runs_api::test_unknown_or_malformed_job_ids",
    ("post", "/api/jobs/{jid}/cancel"): "test_jobs_runs_api::test_cancel_running_montecarlo",
    ("get", "/api/runs"): "test_jobs_runs_api::test_forecast_job_goes_to_the_run_store",
    ("get", "/api/runs/{rid}"): "test_jobs_runs_api::test_unknown_or_malformed_run_ids",
    ("get", "/api/runs/{rid}/forecasts.csv"): RUNS + "test_round_based_positions_and_exports",
    ("get", "/api/runs/{rid}/positions.csv"): RUNS + "test_round_based_positions_and_exports",
    ("get", "/api/runs/{rid}/draws.csv"): "test_jobs_runs_api::test_montecarlo_job_and_draws",
    ("get", "/api/runs/{rid}/figures"): "test_jobs_runs_api::test_figures_and_compare",
    ("get", "/api/runs/{rid}/figures/{key}.png"): "test_jobs_runs_api::test_figures_and_compare",
    ("get", "/api/compare"): "test_jobs_runs_api::test_figures_and_compare",
    ("get", "/docs"): "test_pages_and_schema::test_pages_render",
    ("get", "/"): "test_pages_and_schema::test_pages_render",
    ("post", "/scenarios/upload"): "test_pages_and_schema::test_upload_form_page",
    ("get", "/scenarios/{sid}"): "test_pages_and_schema::test_pages_render",
    ("get", "/run"): "test_pages_and_schema::test_pages_render",
    ("get", "/jobs/{jid}"): "test_pages_and_schema::test_pages_render",
    ("get", "/runs"): "test_pages_and_schema::test_pages_render",
    ("get", "/runs/{rid}"): "test_pages_and_schema::test_pages_render",
    ("get", "/compare"): "test_pages_and_schema::test_pages_render",
    ("get", "/proposals"): "test_pages_and_schema::test_pages_render",
    ("get", "/backtest"): "test_pages_and_schema::test_pages_render, " + BT + "test_backtest_page",
    ("get", "/login"): "test_security::test_bearer_query_cookie_and_login",
    ("post", "/login"): "test_security::test_bearer_query_cookie_and_login",
}

BOGUS = {"sid": "..%2F..%2Fetc%2Fpasswd", "pid": "..%2Fsecret", "jid": "f" * 32,
         "rid": "987654", "key": "..%2Fnope", "aid": "..%2Fghost", "iid": "ghost%00"}


def _operations(app):
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            yield method, path


def test_every_endpoint_is_covered(client):
    ops = set(_operations(client.app))
    assert ops == set(COVERED), (sorted(ops - set(COVERED)), sorted(set(COVERED) - ops))


def test_every_endpoint_rejects_bad_input_with_4xx(client):
    """Unknown or hostile ids in every path parameter, and an empty or junk body: a 4xx with
    a message (or a page/redirect where the input is optional), never a 500."""
    for method, path in _operations(client.app):
        url = re.sub(r"\{(\w+)\}", lambda m: BOGUS[m.group(1)], path)
        has_params = "{" in path
        for body in (None, b"\xff\x00junk"):
            kw = {}
            if body is not None:
                kw = {"content": body, "headers": {"content-type": "application/json"}}
            r = client.request(method.upper(), url, **kw)
            assert r.status_code != 500, (method, url, r.text[:300])
            if has_params or method in ("post", "put", "delete") and body is not None:
                if (method, path) == ("post", "/login"):
                    continue
                assert_clear_4xx(r)


def test_every_endpoint_needs_the_token(tmp_path):
    with make_client(tmp_path, token=TOKEN) as c:
        ops = list(_operations(c.app))
        assert ops
        for method, path in ops:
            if path == "/login":
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: BOGUS[m.group(1)], path)
            assert c.request(method.upper(), url).status_code == 401, (method, path)


def test_pages_render(client):
    j = run_job(client, scenario="emission-bdm1994", kind="montecarlo",
                models=["compromise", "expected_utility"], draws=40)
    for url in ("/", "/run", "/run?scenario=emission-bdm1994", "/runs", "/compare",
                f"/compare?a={j['run_id']}&b={j['run_id']}", "/proposals",
                "/proposals?proposal=us-draft-2025", "/proposals?scenario=emission-bdm1994",
                "/scenarios/ukraine-2025", "/scenarios/emission-bdm1994", "/docs", "/backtest",
                f"/jobs/{j['id']}", f"/runs/{j['run_id']}"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        assert "<!DOCTYPE html>" in r.text and "/static/app.js" in r.text
    page = client.get(f"/runs/{j['run_id']}").text
    assert 'id="run-data"' in page and "mc-chart" in page and "Forecasts" in page
    ed = client.get("/scenarios/ukraine-2025").text
    assert 'data-field="salience"' in ed and "relations-table" in ed and "actors-table" in ed
    assert 'id="add-issue-form"' in ed and 'id="add-actor-form"' in ed
    assert 'data-remove-actor="ru"' in ed and 'data-remove-issue="donbas"' in ed
    for url in ("/scenarios/ghost", "/run?scenario=ghost", "/proposals?scenario=ghost",
                "/proposals?proposal=ghost", "/runs/424242", "/jobs/" + "0" * 32, "/nowhere",
                "/backtest?job=" + "0" * 32, f"/backtest?job={j['id']}"):
        r = client.get(url)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"], url


def test_upload_form_page(client):
    r = client.post("/scenarios/upload", files={"file": ("bad.yaml", b"id: [\n")})
    assert r.status_code == 400 and "bad.yaml, line" in r.text and 'id="upload-error"' in r.text
    r = client.post("/scenarios/upload", files={"file": ("big.yaml", b"#" * 3_000_000)})
    assert r.status_code == 413 and "MB" in r.text
    good = client.get("/api/scenarios/emission-bdm1994/yaml").content
    r = client.post("/scenarios/upload", files={"file": ("e.yaml", good)}, data={"id": "em2"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/scenarios/em2")
