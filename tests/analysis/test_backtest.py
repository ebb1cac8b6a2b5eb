"""Backtests on real outcomes: the DEU acceptance numbers, the CLI, CV folds, coverage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from detente.analysis.backtest import (
    backtest,
    backtest_cases,
    conformal_coverage,
    cross_validated_predictions,
    grouped_folds,
    interval_coverage,
    load_backtest_cases,
    paired_difference,
    predict,
    score_predictions,
)
from detente.cli.app import app
from detente.models.registry import get_model
from tests.conftest import SHARED_DATA

DEU = SHARED_DATA / "deu" / "deu_dev.csv"
CASES = SHARED_DATA / "cases" / "cases.csv"


@pytest.fixture(scope="module")
def dev():
    return load_backtest_cases(DEU, "deu")


def test_acceptance_compromise(dev):
    cases, left_out = dev
    res = backtest(cases, [get_model("compromise"), get_model("mean")], n_boot=200)
    comp, mean = res.scores
    assert (comp.n, left_out) == (204, 12)
    assert comp.mae == pytest.approx(23.89, abs=0.01)
    assert mean.mae == pytest.approx(25.47, abs=0.01)
    assert comp.diff_vs_compromise.mean == 0.0
    d = mean.diff_vs_compromise
    assert d.mean == pytest.approx(mean.mae - comp.mae)
    assert d.ci_low < d.mean < d.ci_high and d.resampled == "proposal"
    assert 0 <= comp.within_10 <= comp.within_20 <= 1


def test_cli_acceptance_json():
    r = CliRunner().invoke(app, ["backtest", str(DEU), "--format", "deu", "--model",
                                 "compromise", "--json", "--n-boot", "200"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    (m,) = out["models"]
    assert {"model", "n", "mae", "median_ae", "within_10", "within_20",
            "diff_vs_compromise"} <= set(m)
    assert (m["model"], m["n"]) == ("compromise", 204)
    assert m["mae"] == pytest.approx(23.89, abs=0.01)


def test_cli_table_and_skips():
    r = CliRunner().invoke(app, ["backtest", str(DEU), "-m", "compromise", "-m", "status_quo",
                                 "--n-boot", "200"])
    assert r.exit_code == 0, r.output
    assert "204 scored issues" in r.output and "23.89" in r.output
    assert "status_quo skipped 47 issue(s)" in r.output


def test_cli_set_and_bad_format():
    r = CliRunner().invoke(app, ["backtest", str(DEU), "-m", "weighted_median", "--set",
                                 "weighted_median.quantile=0.4", "--json", "--n-boot", "100"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["backtest", str(DEU), "--format", "xml"])
    assert r.exit_code != 0


def test_cases_backtest_rescales_to_0_100():
    cases, left_out = load_backtest_cases(CASES, "cases")
    assert len(cases) == 4 and left_out == 2  # the two China cases have no outcome
    res = backtest(cases, [get_model("compromise")], n_boot=100)
    emission = [k for k, c in enumerate(cases) if c.group == "emission_bdm1994"][0]
    # |7.38996 - 8.833| on a 4..10 scale = 24.05 points of 100
    assert res.scores[0].errors[emission] == pytest.approx(abs(7.38996 - 8.833) / 6 * 100,
                                                           abs=1e-3)


def test_unseen_deu_file(tmp_path):
    """Any DEU-format file works: a re-ordered subset with only some actor columns."""
    import csv

    with open(DEU, newline="") as fh:
        rows = list(csv.DictReader(fh))[::-1][:30]
    keep = ["isnr", "prnr", "proc", "counvte", "finact", "intro", "rp", "out"] + [
        f"{k}{a}" for a in ("com", "ep", "de", "fr", "it", "uk", "es", "nl", "pl")
        for k in ("p", "s")]
    path = tmp_path / "other.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keep, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    cases, _ = load_backtest_cases(path, "deu")
    res = backtest(cases, [get_model("compromise"), get_model("ensemble")], n_boot=100)
    assert all(s.n == len(cases) > 10 for s in res.scores)


def test_failing_and_nonconverging_models_are_counted(dev):
    from detente.errors import ModelError, NotConvergedWarning
    from detente.models.baselines import CompromiseModel

    class Flaky(CompromiseModel):
        name = "flaky"

        def forecast(self, scenario, *, rng=None):
            import warnings

            if any(i.id.endswith("i2") for i in scenario.issues):
                raise ModelError("flaky: cannot")
            warnings.warn("flaky: no convergence", NotConvergedWarning, stacklevel=2)
            return super().forecast(scenario, rng=rng)

    cases = load_backtest_cases(DEU, "deu", by="issue")[0][:40]
    (s,) = backtest(cases, [Flaky()], n_boot=100).scores
    n_i2 = sum(c.issue_id.endswith("i2") for c in cases)
    assert n_i2 > 0
    assert s.n_skipped == n_i2 and s.n == len(cases) - n_i2
    assert s.not_converged == s.n
    assert sum(s.skipped.values()) == n_i2


def test_proposal_scenarios_are_forecast_once_and_fall_back_per_issue(dev):
    """Issues of one proposal share a forecast; a per-issue model that fails on the whole
    proposal (status_quo: one issue lacks a reference point) is retried issue by issue."""
    from detente.models.baselines import CompromiseModel

    calls = []

    class Counting(CompromiseModel):
        name = "counting"

        def forecast(self, scenario, *, rng=None):
            calls.append(scenario.id)
            return super().forecast(scenario, rng=rng)

    cases = dev[0]
    predict(Counting(), cases)
    assert len(calls) == len({c.group for c in cases}) == 81
    by_issue = load_backtest_cases(DEU, "deu", by="issue")[0]
    a = predict(get_model("status_quo"), cases)
    b = predict(get_model("status_quo"), by_issue)
    np.testing.assert_array_equal(a.values, b.values)
    assert sum(a.skipped.values()) == 47
    ex = score_predictions(cases, predict(get_model("exchange"), cases)).mae
    ex_alone = score_predictions(by_issue, predict(get_model("exchange"), by_issue)).mae
    assert ex_alone == pytest.approx(23.89, abs=0.01)  # no trades: the compromise model
    assert ex < ex_alone - 0.3


def test_grouped_folds_keep_proposals_together(dev):
    cases = dev[0]
    groups = [c.group for c in cases]
    folds = grouped_folds(groups, 10, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(cases)))
    for f in folds:
        inside = {groups[i] for i in f}
        outside = {groups[i] for i in range(len(cases)) if i not in set(f)}
        assert not inside & outside
    assert [f.tolist() for f in folds] == [f.tolist() for f in grouped_folds(groups, 10, seed=3)]
    with pytest.raises(ValueError):
        grouped_folds(groups, 1)


def test_cross_validation_never_sees_the_test_fold(dev):
    cases = dev[0]
    seen = []

    def fit_predict(train, test):
        tg = {c.group for c in train}
        assert not tg & {c.group for c in test}
        seen.append(len(test))
        return np.full(len(test), np.mean([c.outcome for c in train]))

    pred = cross_validated_predictions(cases, fit_predict, k=5, seed=0)
    assert sum(seen) == len(cases) and not np.isnan(pred).any()
    assert score_predictions(cases, pred, model="train-mean").mae > 0


def test_paired_difference_bootstrap_is_seeded():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 50, 60), rng.uniform(0, 50, 60)
    groups = [str(k // 3) for k in range(60)]
    p1 = paired_difference(a, b, groups, n_boot=500, seed=4)
    p2 = paired_difference(a, b, groups, n_boot=500, seed=4)
    assert p1 == p2 and p1.mean == pytest.approx(np.mean(a - b))
    assert p1.resampled == "proposal"


def test_interval_coverage():
    y = np.array([0.0, 10, 20, 30, 40])
    q = {0.05: np.array([0.0, 0, 25, 0, np.nan]), 0.95: np.array([5.0, 20, 30, 10, 50]),
         0.25: np.array([1.0, 5, 25, 5, 35]), 0.75: np.array([2.0, 15, 28, 8, 45])}
    c90, c50 = interval_coverage(q, y)
    assert (c90.n, c90.nominal) == (4, pytest.approx(0.9))
    assert c90.coverage == pytest.approx(2 / 4)  # 0 in [0,5], 10 in [0,20]
    assert c90.below == pytest.approx(1 / 4) and c90.above == pytest.approx(1 / 4)
    assert c50.n == 5 and c50.coverage == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match="needs quantiles"):
        interval_coverage(q, y, intervals=[(0.1, 0.9)])
    with pytest.raises(ValueError, match="exceeds"):
        interval_coverage({0.1: np.array([5.0]), 0.9: np.array([1.0])}, [3.0],
                          intervals=[(0.1, 0.9)])


def test_point_forecasts_have_zero_width_intervals(dev):
    cases = dev[0]
    pred = backtest(cases, [get_model("compromise")], n_boot=100).scores[0].predictions
    y = [c.outcome for c in cases]
    (c,) = interval_coverage({0.05: pred, 0.95: pred}, y, intervals=[(0.05, 0.95)])
    assert c.mean_width == 0 and c.coverage < 0.05


def test_multi_issue_outcome_mapping():
    from detente.scenario.schema import Actor, Issue, Scenario, Stance

    scen = Scenario(id="x", name="x", issues=[Issue(id="a", name="a"), Issue(id="b", name="b")],
                    actors=[Actor(id=f"p{i}", name="p", capability=1) for i in range(3)],
                    stances=[Stance(actor=f"p{i}", issue=k, position=10 * i, salience=50)
                             for i in range(3) for k in "ab"],
                    meta={"outcome": {"a": 15.0}})
    cases, left = backtest_cases([scen])
    assert [c.issue_id for c in cases] == ["a"] and left == 1


def test_montecarlo_coverage_on_a_few_issues(dev):
    pytest.importorskip("detente.simulate.montecarlo")
    from detente.analysis.backtest import montecarlo_coverage

    cases = dev[0][:8]
    a = montecarlo_coverage(cases, n=50, seed=1)
    b = montecarlo_coverage(cases, n=50, seed=1)
    assert a == b and [c.nominal for c in a] == [pytest.approx(0.9), pytest.approx(0.5)]
    assert all(c.n == 8 and 0 <= c.coverage <= 1 and c.mean_width > 0 for c in a)


def test_conformal_intervals_are_calibrated_out_of_fold(dev):
    cases = dev[0]
    comp = predict(get_model("compromise"), cases).values
    cov = {round(c.nominal, 2): c for c in conformal_coverage(cases, comp, levels=(0.5, 0.9))}
    assert abs(cov[0.5].coverage - 0.5) < 0.06 and abs(cov[0.9].coverage - 0.9) < 0.05
    assert 0 < cov[0.5].mean_width < cov[0.9].mean_width <= 100
    exact = np.array([c.outcome for c in cases])
    (perfect,) = conformal_coverage(cases, exact, levels=(0.9,))
    assert perfect.coverage == 1.0 and perfect.mean_width == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        conformal_coverage(cases, comp, levels=(1.5,))


def test_models_fitted_on_the_file_are_flagged_in_sample(dev, tmp_path):
    from detente.models.fitted import fitted_record

    cases = dev[0][:12]
    res = backtest(cases, [get_model("compromise"), get_model("ensemble")], n_boot=100,
                   source=str(DEU))
    cv = fitted_record("ensemble")["cross_validation"]["cv_mae_mean"]
    assert res.score("compromise").note is None
    assert "in-sample" in res.score("ensemble").note and f"{cv:.2f}" in res.score("ensemble").note
    assert res.to_dict()["models"][1]["note"] == res.score("ensemble").note
    copy = tmp_path / "copy.csv"
    copy.write_bytes(DEU.read_bytes() + b"\n")
    other = backtest(cases, [get_model("ensemble")], n_boot=100, source=str(copy))
    assert other.score("ensemble").note is None


def test_cli_scores_interval_forecasts(tmp_path):
    lines = DEU.read_text(encoding="utf-8").splitlines(keepends=True)
    small = tmp_path / "deu_small.csv"
    small.write_text("".join(lines[:41]), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["backtest", str(small), "-m", "compromise", "--coverage", "20",
                              "--json"])
    assert res.exit_code == 0, res.output
    cal = json.loads(res.output)["calibration"]["compromise"]
    assert [c["nominal"] for c in cal["conformal"]] == [0.9, 0.5]
    assert [c["nominal"] for c in cal["montecarlo"]] == [0.9, 0.5]
    mc = cal["montecarlo"][0]
    assert 0 <= mc["coverage"] <= 1 and mc["mean_width"] > 0
    text = runner.invoke(app, ["backtest", str(small), "-m", "compromise", "--coverage", "20"])
    assert text.exit_code == 0 and "conformal" in text.output and "Monte Carlo" in text.output
