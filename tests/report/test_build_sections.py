"""report.build fills the fan chart and the sensitivity section from real runs."""

from __future__ import annotations

import pytest

from detente.report.build import build_report, montecarlo_sections
from detente.scenario.load import load_scenario
from detente.simulate.montecarlo import montecarlo

LEVELS = {"0.05", "0.25", "0.5", "0.75", "0.95"}


@pytest.fixture(scope="module")
def emission():
    return load_scenario("emission-bdm1994")


@pytest.fixture(scope="module")
def eu_report(emission):
    """A real 50-draw expected-utility Monte Carlo on the emission case."""
    return build_report(emission, models=["compromise", "expected_utility"], montecarlo=50,
                        mc_models=["expected_utility"], executor="serial", proposal=False)


def test_fifty_draw_expected_utility_run_gives_fan_data(eu_report, emission):
    assert [f.model for f in eu_report.fans] == ["expected_utility"]
    fan = eu_report.fans[0]
    assert fan.issue == "delay" and fan.x_label == "round"
    assert set(fan.quantiles) == LEVELS
    n = len(fan.x)
    assert n >= 2 and fan.x[0] == 0
    assert all(len(v) == n for v in fan.quantiles.values()) and len(fan.point) == n
    issue = emission.issue("delay")
    for r in range(n):
        qs = [fan.quantiles[k][r] for k in ("0.05", "0.25", "0.5", "0.75", "0.95")]
        assert qs == sorted(qs)
        assert issue.scale_min <= qs[0] and qs[-1] <= issue.scale_max
    # the point path starts at the c·s-weighted median of the stated positions
    assert fan.point[0] == pytest.approx(7.0)
    assert eu_report.montecarlo[0].n == 50
    assert "Fan chart" not in " ".join(eu_report.notes)


def test_fan_chart_renders_in_html_and_markdown(eu_report, tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("jinja2")
    from detente.report.html import render_html
    from detente.report.markdown import write_markdown
    from detente.report.plots import report_figures

    keys = [f.key for f in report_figures(eu_report)]
    assert "fan-expected_utility-delay" in keys
    html = render_html(eu_report)
    assert 'id="fig-fan-expected_utility-delay"' in html
    out = tmp_path / "r.md"
    write_markdown(eu_report, out)
    assert "fan-expected_utility-delay" in out.read_text()
    assert (tmp_path / "r_figures" / "fan-expected_utility-delay.png").is_file()


def test_closed_form_monte_carlo_gets_the_position_models_own_fan(emission):
    rep = build_report(emission, models=["compromise", "expected_utility"], montecarlo=30,
                       executor="serial", proposal=False, fan_draws=20, sensitivity="none")
    assert {m.model for m in rep.montecarlo} == {"compromise"}
    assert [f.model for f in rep.fans] == ["expected_utility"]
    assert "20-draw" in rep.provenance.montecarlo["fans"]
    off = build_report(emission, models=["compromise", "expected_utility"], montecarlo=30,
                       executor="serial", proposal=False, fan_draws=0, sensitivity="none")
    assert off.fans == [] and any("Fan chart" in n for n in off.notes)


def test_stored_montecarlo_summary_gives_the_same_sections(emission):
    res = montecarlo(emission, ["expected_utility"], n=30, seed=2, executor="serial",
                     paths=True)
    summaries, fans, meta = montecarlo_sections(res.to_dict())
    assert summaries[0].n == 30 and summaries[0].quantiles.keys() == LEVELS
    assert fans[0].quantiles["0.5"] == [float(v) for v in
                                        res.paths["expected_utility"].values[2, :, 0]]
    assert meta["draws"] == 30


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_global_sensitivity_in_the_report(emission, method):
    rep = build_report(emission, models=["compromise"], montecarlo=0, proposal=False,
                       sensitivity=method, sensitivity_n=8 if method == "morris" else 64)
    assert len(rep.sensitivity) == 1
    s = rep.sensitivity[0]
    assert s.method == method and s.model == "compromise" and s.runs
    key = "mu_star" if method == "morris" else "st"
    vals = [getattr(f, key) for f in s.factors]
    assert all(v is not None for v in vals) and vals == sorted(vals, reverse=True)
    assert any(f.factor.startswith(("capability:", "salience:", "position:"))
               for f in s.factors)
    assert any(n.startswith("Sensitivity:") for n in rep.notes)


def test_sensitivity_choices(emission):
    oat = build_report(emission, models=["compromise"], proposal=False, sensitivity="oat")
    assert oat.sensitivity[0].method == "one-at-a-time"
    assert build_report(emission, models=["compromise"], proposal=False,
                        sensitivity="none").sensitivity == []
    with pytest.raises(Exception, match="choose morris, sobol, oat, none"):
        build_report(emission, models=["compromise"], proposal=False, sensitivity="fast")


def test_ukraine_sensitivity_covers_every_issue_focus_first():
    sc = load_scenario("ukraine-2025")
    rep = build_report(sc, models=["compromise"], proposal=False, sensitivity_n=6)
    assert [s.issue for s in rep.sensitivity][0] == sc.conflict.issue
    assert {s.issue for s in rep.sensitivity} == set(sc.issue_ids)


def test_non_strict_turns_a_failing_section_into_a_note(emission, monkeypatch):
    import detente.report.build as b
    from detente.errors import ModelError

    def boom(*args, **kwargs):
        raise ModelError("no quad map today")

    monkeypatch.setattr(b, "_quad", boom)
    rep = build_report(emission, models=["compromise"], proposal=False, sensitivity="none",
                       strict=False)
    assert rep.quad_map is None and any("no quad map today" in n for n in rep.notes)
    with pytest.raises(ModelError, match="no quad map today"):
        build_report(emission, models=["compromise"], proposal=False, sensitivity="none")
