"""The results page is the stand-alone report of the run (report.build.report_from_run):
the same figures (quad map, bargain network, conflict timeline, sensitivity, proposal,
fan chart) and sections."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import run_job

pytestmark = pytest.mark.web


def _keys(client, rid):
    return [f["key"] for f in client.get(f"/api/runs/{rid}/figures").json()]


def test_results_page_shows_the_reports_figures(client):
    pytest.importorskip("matplotlib")
    j = run_job(client, scenario="ukraine-2025",
                models=["compromise", "expected_utility", "spatial"])
    rid = j["run_id"]
    keys = _keys(client, rid)
    for want in ("model-comparison", "quad-map", "bargain-network", "bargaining-range",
                 "agreement-set", "proposal", "tornado-compromise-donbas",
                 "tornado-compromise-all"):
        assert want in keys, (want, keys)
    assert any(k.startswith("positions-") for k in keys)
    # the same figure list as the stand-alone report of the stored run
    from detente.report.build import report_from_run
    from detente.report.plots import report_figures

    app_state = client.app.state.detente
    stored = app_state.runs.stored(rid)
    standalone = report_from_run(stored, montecarlo=0, executor="serial")
    assert [f.key for f in report_figures(standalone)] == keys
    page = client.get(f"/runs/{rid}").text
    for anchor in ("forecasts", "positions", "quad", "bargains", "sensitivity", "conflict",
                   "proposal", "provenance"):
        assert f'id="{anchor}"' in page, anchor
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert f"/api/runs/{rid}/figures/quad-map.png" in srcs
    assert all(s.startswith(f"/api/runs/{rid}/figures/") for s in srcs)
    assert 'loading="lazy"' in page and "Morris screen" in page
    for key in ("quad-map", "bargain-network", "tornado-compromise-all", "proposal"):
        r = client.get(f"/api/runs/{rid}/figures/{key}.png")
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG", key


def test_montecarlo_job_shows_the_fan_chart(client):
    pytest.importorskip("matplotlib")
    j = run_job(client, scenario="emission-bdm1994", kind="montecarlo",
                models=["compromise", "expected_utility"], draws=30)
    rid = j["run_id"]
    run = client.get(f"/api/runs/{rid}").json()
    fan = run["montecarlo"]["paths"]["expected_utility"]
    assert fan["n"] == 30 and "delay" in fan["issues"]
    keys = _keys(client, rid)
    assert "fan-expected_utility-delay" in keys and any(k.startswith("hist-") for k in keys)
    r = client.get(f"/api/runs/{rid}/figures/fan-expected_utility-delay.png")
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    page = client.get(f"/runs/{rid}").text
    assert 'id="fig-fan-expected_utility-delay"' in page and 'id="montecarlo"' in page


def test_sections_a_scenario_cannot_support_become_notes(client):
    """A minimal scenario (no conflict, no principals, no proposal) still renders."""
    j = run_job(client, scenario="emission-bdm1994", models=["compromise"])
    page = client.get(f"/runs/{j['run_id']}")
    assert page.status_code == 200
    assert "the scenario has no &#39;conflict&#39; block" in page.text or \
        "no 'conflict' block" in page.text
