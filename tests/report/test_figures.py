"""Every figure type renders from fixed report data (no model runs)."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from detente.report import plots  # noqa: E402
from detente.report._sample import sample_report  # noqa: E402
from detente.report.model import (  # noqa: E402
    BargainNetwork,
    QuadMap,
    Report,
    SensitivityResult,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report() -> Report:
    return sample_report()


def _png(fig) -> bytes:
    data = plots.png_bytes(fig)
    assert data.startswith(PNG) and len(data) > 2000
    return data


def test_every_section_has_its_figure(report: Report) -> None:
    items = plots.report_figures(report)
    sections = {i.section for i in items}
    assert sections == {"forecasts", "positions", "power", "quad", "bargains", "montecarlo",
                        "sensitivity", "conflict", "proposal", "backtest"}
    assert len({i.key for i in items}) == len(items)
    kinds = {i.key.split("-")[0] for i in items}
    assert {"model", "positions", "power", "quad", "bargain", "fan", "hist", "tornado",
            "bargaining", "agreement", "proposal", "backtest"} <= kinds
    for item in items:
        _png(item.draw())


def test_positions_caption_says_why_actors_moved(report: Report) -> None:
    item = next(i for i in plots.report_figures(report) if i.key == "positions-territory")
    assert "Why actors moved" in item.caption and "Russia expected to win" in item.caption
    assert item.details and len(item.details) == 3


def test_each_figure_function_directly(report: Report) -> None:
    sc = report.scenario
    t = sc.issue("territory")
    _png(plots.fig_positions(t, report.forecasts[0], {"compromise": 41.2}))
    _png(plots.fig_power(t, report.power[0]))
    _png(plots.fig_power_grid(sc.issues, report.power))
    _png(plots.fig_quad_map(report.quad_map))
    _png(plots.fig_bargain_network(report.bargains, t))
    _png(plots.fig_fan(report.fans[0], t))
    _png(plots.fig_fans(report.fans * 2, sc.issues))
    _png(plots.fig_histogram(report.montecarlo[0], t))
    _png(plots.fig_histograms(report.montecarlo, sc.issues))
    for s in report.sensitivity:
        _png(plots.fig_tornado(s, t))
    assert {s.method for s in report.sensitivity} == {"one-at-a-time", "sobol", "morris"}
    _png(plots.fig_tornado_grid(report.sensitivity, sc.issues))
    _png(plots.fig_bargaining_range(report.attrition, t, report.agreement))
    _png(plots.fig_agreement_set(report.agreement, t))
    _png(plots.fig_proposal(report.proposal))
    _png(plots.fig_model_comparison(sc.issues, report.forecasts, report.montecarlo))
    _png(plots.fig_backtest(report.backtest))


def test_empty_inputs_still_draw(report: Report) -> None:
    t = report.scenario.issue("territory")
    _png(plots.fig_quad_map(QuadMap(actor="us", issue="territory", points=[])))
    _png(plots.fig_bargain_network(BargainNetwork(round=3, edges=[]), t))
    _png(plots.fig_tornado(SensitivityResult(model="m", issue="territory", method="sobol",
                                             factors=[]), t))
    empty = report.agreement.model_copy(update={"agreement": []})
    _png(plots.fig_agreement_set(empty, t))


def test_anchor_words_label_the_axis(report: Report) -> None:
    t = report.scenario.issue("territory")
    fig = plots.fig_power(t, report.power[0])
    ax = fig.axes[0]
    labels = [lab.get_text() for lab in ax.get_xticklabels()]
    assert any("Line of contact" in lab for lab in labels)
    assert ax.get_xlabel().startswith("Territory")


def test_palette_is_okabe_ito() -> None:
    assert plots.OKABE_ITO[0] == "#0072B2" and len(set(plots.OKABE_ITO)) == 8
    styles = plots.actor_styles([f"a{k}" for k in range(10)])
    assert styles["a0"].color == styles["a8"].color and styles["a0"].linestyle != \
        styles["a8"].linestyle


def test_report_round_trips_through_json(report: Report) -> None:
    assert Report.model_validate_json(report.model_dump_json()) == report


def test_many_fans_and_sensitivities_become_small_multiples(report: Report) -> None:
    """One fan per issue of a model, or sensitivity on several issues, draw as one grid."""
    second = report.scenario.issues[0].model_copy(update={"id": "t2", "name": "Second"})
    sc = report.scenario.model_copy(update={"issues": [*report.scenario.issues, second]})
    fans = [report.fans[0], report.fans[0].model_copy(update={"issue": "t2"})]
    sens = [report.sensitivity[2], report.sensitivity[2].model_copy(update={"issue": "t2"})]
    rep = report.model_copy(update={"scenario": sc, "fans": fans, "sensitivity": sens})
    items = {i.key: i for i in plots.report_figures(rep)}
    assert "fan-expected_utility" in items and "fan-expected_utility-territory" not in items
    assert "tornado-compromise-territory" in items and "tornado-compromise-all" in items
    _png(items["fan-expected_utility"].draw())
    _png(items["tornado-compromise-all"].draw())
    assert "mu*" in items["tornado-compromise-territory"].caption
