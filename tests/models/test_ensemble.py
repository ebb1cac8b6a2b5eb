"""procedure_compromise and ensemble: contract, fitted parameters shipped as data, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from detente.analysis.backtest import load_backtest_cases, predict, score_predictions
from detente.analysis.fitting import CaseBatch, fit_procedure_compromise
from detente.errors import ParamsError
from detente.models.fitted import fitted_record
from detente.models.procedural import NEUTRAL
from detente.models.registry import get_model, get_model_class
from detente.scenario.importers.deu import read_deu_issue
from detente.testing.conformance import check_scenario, run_checks
from tests.conftest import SHARED_DATA

DEU = SHARED_DATA / "deu" / "deu_dev.csv"


@pytest.fixture(scope="module")
def dev():
    return load_backtest_cases(DEU, "deu")[0]


@pytest.mark.parametrize("name", ["procedure_compromise", "ensemble"])
def test_conformance(name):
    results = run_checks(get_model_class(name), skip=("known_answers",))
    assert all(v == "passed" for v in results.values()), results


@pytest.mark.parametrize("name", ["procedure_compromise", "ensemble"])
def test_defaults_are_the_shipped_fit(name):
    rec = fitted_record(name)
    params = get_model(name).params.model_dump()
    for key, value in rec["params"].items():
        assert params[key] == (tuple(value) if isinstance(value, list) else value), key
    assert rec["fitted_on"]["n_issues"] == 204
    assert rec["cross_validation"]["grouped_by"].startswith("prnr")


def test_shipped_in_sample_numbers_reproduce(dev):
    for name in ("procedure_compromise", "ensemble"):
        mae = score_predictions(dev, predict(get_model(name), dev)).mae
        assert mae == pytest.approx(fitted_record(name)["in_sample_mae"], abs=1e-3), name


def test_neutral_preset_is_the_compromise_model(dev):
    a = predict(get_model("procedure_compromise", preset="neutral"), dev).values
    b = predict(get_model("compromise"), dev).values
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_vectorised_fit_path_equals_the_model(dev):
    params = {**NEUTRAL, "salience_exponent": 3.0, "commission_weight": 0.5,
              "parliament_weight_cod": 2.5, "rp_pull_unanimity": 0.3, "rp_pull_qmv": 0.1}
    batch = CaseBatch.from_cases(dev).predict(params)
    model = predict(get_model("procedure_compromise", **params), dev).values
    np.testing.assert_allclose(batch, model, atol=1e-9)


def test_procedure_meta_is_used():
    s = read_deu_issue(DEU, "d00032i1")  # COD, QMV, rp 0
    strong_ep = {**NEUTRAL, "parliament_weight_cod": 5.0}
    cod = get_model("procedure_compromise", **strong_ep)
    cns = get_model("procedure_compromise", **strong_ep, procedure="CNS")
    assert cod.forecast(s).outcome[0] != pytest.approx(cns.forecast(s).outcome[0])
    pulled = get_model("procedure_compromise", **{**NEUTRAL, "rp_pull_qmv": 0.5}).forecast(s)
    plain = get_model("compromise").forecast(s)
    lo = min(st.position for st in s.stances)
    assert pulled.outcome[0] == pytest.approx(max(lo, 0.5 * plain.outcome[0]))


def test_generic_scenario_without_meta_falls_back():
    s = check_scenario(n_actors=5, n_issues=2)
    m = get_model("procedure_compromise")
    ref = get_model("procedure_compromise", **{**NEUTRAL, "salience_exponent":
                                               m.params.salience_exponent,
                                               "capability_exponent":
                                               m.params.capability_exponent})
    np.testing.assert_allclose(m.forecast(s).outcome, ref.forecast(s).outcome)
    assert m.forecast(s).outcome.shape == (2,)


def test_ensemble_fallback_for_missing_status_quo():
    s = read_deu_issue(DEU, "d00032i2")  # no rp
    assert s.issues[0].status_quo is None
    e = get_model("ensemble", members=("status_quo", "mean"), weights=(1.0, 1.0))
    comp = get_model("compromise").forecast(s).outcome[0]
    mean = get_model("mean").forecast(s).outcome[0]
    assert e.forecast(s).outcome[0] == pytest.approx((comp + mean) / 2)
    details = e.forecast(s).details["d00032i2"]
    assert details["members"]["status_quo"] == pytest.approx(comp)


@pytest.mark.parametrize("bad", [
    {"members": ("compromise",), "weights": (1.0, 2.0)},
    {"members": ("compromise", "nope"), "weights": (1.0, 1.0)},
    {"members": ("compromise",), "weights": (-1.0,)},
    {"members": ("compromise",), "weights": (0.0,)},
    {"members": ("ensemble",), "weights": (1.0,)},
    {"members": ()},
    {"capability_multipliers": {"nope": {"de": 2.0}}},
    {"capability_multipliers": {"compromise": {"de": -1.0}}},
    {"capability_multipliers": {"compromise": {"de": float("nan")}}},
    {"apply_multipliers": "sometimes"},
])
def test_ensemble_invalid_params(bad):
    with pytest.raises(ParamsError):
        get_model("ensemble", **bad)


@pytest.mark.parametrize("bad", [{"salience_exponent": -1}, {"rp_pull_qmv": 1.5},
                                 {"procedure": "OLP"}])
def test_procedure_invalid_params(bad):
    with pytest.raises(ParamsError):
        get_model("procedure_compromise", **bad)


def test_procedure_fitter_on_a_small_sample(dev):
    sub = dev[:60]
    params, mae = fit_procedure_compromise(sub, max_sweeps=2)
    neutral = CaseBatch.from_cases(sub)
    assert mae <= neutral.mae(neutral.predict(NEUTRAL)) + 1e-9


def test_capability_tables_apply_to_deu_scenarios_only(dev):
    """The shipped tables are keyed by DEU actor codes: used on DEU scenarios, ignored on
    others unless asked ("always"), and "never" turns them off."""
    proposal = dev[0].scenario
    assert proposal.meta["format"] == "deu"
    plain = get_model("ensemble", apply_multipliers="never").forecast(proposal, rng=0)
    fitted = get_model("ensemble").forecast(proposal, rng=0)
    assert not np.allclose(plain.outcome, fitted.outcome)
    one_draw = get_model("ensemble", apply_multipliers="never", stochastic_draws=1)
    mean = (get_model("compromise").forecast(proposal).outcome
            + get_model("exchange").forecast(proposal, rng=0).outcome) / 2
    np.testing.assert_allclose(one_draw.forecast(proposal, rng=0).outcome, mean, atol=1e-9)
    other = proposal.model_copy(update={"meta": {**proposal.meta, "format": "yaml"}})
    np.testing.assert_allclose(get_model("ensemble").forecast(other, rng=0).outcome,
                               plain.outcome, atol=1e-9)
    np.testing.assert_allclose(
        get_model("ensemble", apply_multipliers="always").forecast(other, rng=0).outcome,
        fitted.outcome, atol=1e-9)


def test_stochastic_members_are_averaged_over_independent_draws(dev):
    """The exchange member breaks exact ties at random; the ensemble averages it over
    ``stochastic_draws`` spawned streams, so a seed repeats the forecast."""
    proposal = next(c.scenario for c in dev if len(c.scenario.issues) >= 4)
    e = get_model("ensemble", members=("exchange",), weights=(1.0,), capability_multipliers={},
                  stochastic_draws=5)
    a, b = e.forecast(proposal, rng=3).outcome, e.forecast(proposal, rng=3).outcome
    np.testing.assert_array_equal(a, b)
    gens = np.random.default_rng(3).spawn(5)
    ex = get_model("exchange")
    by_hand = np.mean([ex.forecast(proposal, rng=g).outcome for g in gens], axis=0)
    lo = [min(s.position for s in proposal.stances if s.issue == i) for i in proposal.issue_ids]
    hi = [max(s.position for s in proposal.stances if s.issue == i) for i in proposal.issue_ids]
    np.testing.assert_allclose(a, np.clip(by_hand, lo, hi), atol=1e-9)


def test_capability_multipliers_scale_the_member():
    s = read_deu_issue(DEU, "d00032i1")
    doubled = {"de": 2.0, "fr": 0.0}
    e = get_model("ensemble", members=("compromise",), weights=(1.0,),
                  capability_multipliers={"compromise": doubled}, apply_multipliers="always")
    caps = {a.id: a.capability for a in s.actors}
    sal = {st.actor: st.salience for st in s.stances}
    pos = {st.actor: st.position for st in s.stances}
    w = {a: caps[a] * sal[a] * doubled.get(a, 1.0) for a in caps}
    expected = sum(w[a] * pos[a] for a in w) / sum(w.values())
    lo, hi = min(pos.values()), max(pos.values())
    assert e.forecast(s).outcome[0] == pytest.approx(min(max(expected, lo), hi))


def test_explain_says_how_the_ensemble_is_made_up(dev):
    from detente.models.explain import explain_lines

    proposal = dev[0].scenario
    f = get_model("ensemble").forecast(proposal, rng=0)
    lines = explain_lines(f, "uk")
    assert len(lines) == len(proposal.issues)
    table = fitted_record("ensemble")["params"]["capability_multipliers"]
    first = proposal.issue_ids[0]
    members = f.details[first]["members"]
    assert lines[0].startswith(f"{first}: ensemble {f.outcome[0]:.4g} = weighted mean of "
                               f"compromise {members['compromise']:.4g} (weight 0.50)")
    assert f"x{table['compromise']['uk']:.4g} in compromise" in lines[0]
    plain = get_model("ensemble").forecast(check_scenario(n_actors=4, n_issues=2), rng=0)
    other = explain_lines(plain, plain.actor_ids[0])
    assert other and all("fitted factors" not in line for line in other)
